"""Event-stream tickets: what lets a browser's EventSource, which cannot send an Authorization
header, open the stream of one job.

A ticket is signed with the service's secret key (Django's ``TimestampSigner``, under its own
salt, so no other signature of the service is a valid ticket) over the job id and its owner; it
opens that job's stream only, for that owner, until it expires. It is not the bearer token, and
it grants nothing else: a ticket that leaks through a URL exposes one job's events for minutes.
Checking it needs no database query.

Format: ``<owner id>:<timestamp>:<signature>``; the job id is signed but not repeated, the URL
carries it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

SALT = "suite_ai.jobs.event-stream-ticket"


class TicketError(Exception):
    """The ticket does not open this job's stream; ``code`` says why (stable, for the client)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Ticket:
    job_id: str
    owner_id: str


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def _canonical(job_id: uuid.UUID | str) -> str:
    return str(uuid.UUID(str(job_id)))


def issue(job_id: uuid.UUID | str, owner_id: uuid.UUID | str) -> str:
    job = _canonical(job_id)
    signed = _signer().sign(f"{job}:{owner_id}")
    return signed[len(job) + 1 :]


def verify(job_id: uuid.UUID | str, ticket: str) -> Ticket:
    """The job and owner the ticket opens; TicketError if it is not a valid, current ticket for
    this job."""
    try:
        job = _canonical(job_id)
    except ValueError:
        raise TicketError("invalid_ticket", _("This ticket does not open this job's events.")) from None
    try:
        value = _signer().unsign(f"{job}:{ticket}", max_age=settings.SUITE_AI_SSE_TICKET_TTL)
    except signing.SignatureExpired:
        raise TicketError(
            "ticket_expired", _("This ticket has expired: read the job again for a new events link.")
        ) from None
    except signing.BadSignature:
        raise TicketError("invalid_ticket", _("This ticket does not open this job's events.")) from None
    signed_job, _separator, owner = value.rpartition(":")
    if signed_job != job or not owner:  # the signature covers both: defensive only
        raise TicketError("invalid_ticket", _("This ticket does not open this job's events."))
    return Ticket(job_id=job, owner_id=owner)
