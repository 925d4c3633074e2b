from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from suite_ai.jobs import usage


class Command(BaseCommand):
    help = "Model usage (calls and tokens) grouped by user, document, day or model, as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by", choices=sorted(usage.GROUPS), default="day")
        parser.add_argument("--days", type=int, default=30, help="only the last N days")

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.now().date() - dt.timedelta(days=options["days"])
        for row in usage.totals(options["by"], since=since):
            self.stdout.write(json.dumps(row))
