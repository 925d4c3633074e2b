from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suite_ai.accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create a local API token for a user (created if missing) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user's identifier (OIDC sub for real users)")
        parser.add_argument("--name", default="", help="a label for the token")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(create_api_token(options["username"], options["name"]))
