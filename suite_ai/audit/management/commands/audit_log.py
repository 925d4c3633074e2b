"""``manage.py audit_log``: the audit trail as JSON lines, oldest first."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from suite_ai.audit import services


def moment(raw: str) -> dt.datetime:
    """An ISO 8601 date or date-time (UTC when it says no zone), or a duration back from now: 7d, 12h, 30m."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if raw[:-1].isdigit() and raw[-1:] in units:
        return timezone.now() - dt.timedelta(**{units[raw[-1]]: int(raw[:-1])})
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"{raw!r} is not a date (2026-11-30, 2026-11-30T08:00) nor a duration (7d, 12h, 30m)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def document_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise CommandError(f"--document: {raw!r} is not a document id (a UUID)") from None


class Command(BaseCommand):
    help = "The audit trail (one record per finished job, no text), as JSON lines, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=moment, help="from this date/time, or this long ago (7d, 12h)")
        parser.add_argument("--until", type=moment, help="before this date/time")
        parser.add_argument("--user", help="the user's OIDC subject or e-mail")
        parser.add_argument("--document", type=document_id, help="the Docs document id")
        parser.add_argument("--action", help="an action (summarize, note, …)")

    def handle(self, *args: Any, **options: Any) -> None:
        for record in services.records(
            since=options["since"],
            until=options["until"],
            user=options["user"],
            document=options["document"],
            action=options["action"],
        ):
            self.stdout.write(json.dumps(record, ensure_ascii=False))
