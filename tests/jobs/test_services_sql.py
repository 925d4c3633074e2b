"""The hand-written statements of the job engine write exactly the rows the ORM would.

``emit`` and ``succeed`` are kept as prebuilt SQL for their measured cost (docs/performance.md);
each is compared here with the ORM call it stands for, on the same starting rows, so that a new
column, default or ``auto_now_add`` the SQL forgets shows up as a difference. (bench/db_bench.py
runs the same comparison on Postgres before measuring.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db.models import F
from django.db.models.functions import Greatest
from django.forms.models import model_to_dict
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.jobs import services
from suite_ai.jobs.models import Job, JobEvent, JobStatus


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create(sub="sql-owner")


def _running_job(owner: User, now: Any = None, **fields: Any) -> Job:
    now = now or timezone.now()
    return Job.objects.create(
        owner=owner, document_id=uuid.UUID(int=7), action="rephrase", input={"markdown": "x"}, input_hash="h",
        status=JobStatus.RUNNING, started_at=now, enqueued_at=now, attempts=1, **fields,
    )  # fmt: skip


def _row(instance: Any, *ignored: str) -> dict[str, Any]:
    """Every column, the ones that differ by construction (ids, times) left out."""
    return {name: value for name, value in model_to_dict(instance).items() if name not in ignored}


@pytest.mark.parametrize(
    ("kind", "data"),
    [("delta", {"text": 'Bonjour « à tous » \u2028 \\ " 😀'}), ("progress", {"done": 1, "total": 3}), ("status", None)],
)
def test_an_emitted_event_is_the_row_the_orm_creates(owner, kind, data):
    job = _running_job(owner)
    before = timezone.now()
    services.emit(job.id, kind, data)
    services.emit(str(job.id), kind, data)  # a job id as the Celery message carries it
    JobEvent.objects.create(job_id=job.id, kind=kind, data=data or {})  # the ORM, data's default applied
    after = timezone.now()
    sql_row, sql_str_row, orm_row = (
        _row(e, "id", "created_at") for e in JobEvent.objects.filter(job=job).order_by("id")
    )
    assert sql_row == sql_str_row == orm_row == {"job": job.id, "kind": kind, "data": data or {}}
    events = list(JobEvent.objects.filter(job=job).order_by("id"))
    assert all(before <= event.created_at <= after for event in events)  # auto_now_add, as the ORM sets it
    assert all(event.created_at.tzinfo is not None for event in events)
    assert len({event.id for event in events}) == 3  # ids from the sequence, in order


@pytest.mark.parametrize(("progress", "expected"), [((0, 0), (1, 1)), ((2, 5), (5, 5)), ((1, 1), (1, 1))])
def test_success_is_the_update_the_orm_makes(owner, progress, expected):
    fields = {"progress_done": progress[0], "progress_total": progress[1], "credentials": "sealed"}
    now = timezone.now()
    by_sql, by_orm = _running_job(owner, now, **fields), _running_job(owner, now, **fields)
    result, usage = {"markdown": "Fini « ici »", "blocks": [{"type": "paragraph"}]}, {"prompt_tokens": 12}
    before = timezone.now()
    assert services.succeed(by_sql, result, usage, prompt_version="rephrase@3")
    at_least_one = Greatest(F("progress_total"), 1)
    assert services._transition(
        by_orm.id, [JobStatus.RUNNING], JobStatus.SUCCEEDED, attempt=by_orm.attempts, result=result, usage=usage,
        prompt_version="rephrase@3", finished_at=timezone.now(), credentials="", progress_total=at_least_one,
        progress_done=at_least_one,
    )  # fmt: skip
    sql_job, orm_job = Job.objects.get(id=by_sql.id), Job.objects.get(id=by_orm.id)
    assert _row(sql_job, "id", "finished_at", "created_at") == _row(orm_job, "id", "finished_at", "created_at")
    assert (sql_job.status, sql_job.result, sql_job.usage, sql_job.credentials) == ("succeeded", result, usage, "")
    assert (sql_job.progress_done, sql_job.progress_total) == expected
    assert sql_job.finished_at is not None and before <= sql_job.finished_at <= timezone.now()


def test_success_changes_nothing_unless_the_job_is_running(owner):
    job = _running_job(owner)
    assert services.succeed(job, {"markdown": "a"}, {})
    stored = Job.objects.get(id=job.id)
    assert not services.succeed(job, {"markdown": "b"}, {"other": 1})  # already succeeded: refused
    again = Job.objects.get(id=job.id)
    assert _row(again) == _row(stored) and again.finished_at == stored.finished_at
    assert JobEvent.objects.filter(job=job, kind="done").count() == 1


def test_model_calls_and_jobs_go_through_the_orm(owner, django_assert_num_queries):
    """What is not worth hand-written SQL (docs/performance.md) is the ORM's own insert."""
    from suite_ai.jobs.models import ModelCall

    job = _running_job(owner)
    calls = [ModelCall(job_id=job.id, owner_id=owner.id, document_id=job.document_id, model="m") for _ in range(3)]
    with django_assert_num_queries(1):
        services.insert_rows(calls)
    assert all(call.pk is not None and not call._state.adding for call in calls)
    assert [c.stage for c in ModelCall.objects.filter(job=job)] == ["single"] * 3


def _columns(instance: Any) -> dict[str, Any]:
    """Every column's value, with its type (a UUID is not its string)."""
    fields = type(instance)._meta.concrete_fields
    return {field.attname: (type(value), value) for field in fields for value in [getattr(instance, field.attname)]}


def test_a_claimed_job_is_the_row_the_orm_reads(owner):
    """The claim reads its row with prebuilt SQL (suite_ai.prebuilt_sql): every field converted as
    the ORM converts it, JSON, UUIDs and times included, on SQLite and on Postgres."""
    owner.email = "owner@example.org"
    owner.save()
    queued = Job.objects.create(
        owner=owner, document_id=uuid.uuid4(), action="translate", options={"language": "en", "n": [1, None]},
        input={"markdown": "Élan « x »"}, input_hash="h", status=JobStatus.QUEUED, enqueued_at=timezone.now(),
        note_id=uuid.uuid4(), usage={"calls": 1},
    )  # fmt: skip
    claimed = services.claim(queued.id, "worker-1")
    assert claimed is not None
    read = Job.objects.get(id=queued.id)
    assert _columns(claimed) == _columns(read) and claimed.status == JobStatus.RUNNING and claimed.attempts == 1
    assert claimed.started_at is not None and claimed.started_at.tzinfo is not None
    assert (claimed.owner.id, claimed.owner.sub, claimed.owner.email) == (owner.id, "sql-owner", "owner@example.org")
    assert claimed._state.adding is False and claimed._state.db == "default"
    assert services.claim(queued.id, "worker-2") is None  # claimed once


def test_the_user_of_an_api_token_is_the_row_the_orm_reads(owner):
    from suite_ai.accounts.models import ApiToken, hash_token
    from suite_ai.accounts.services import create_api_token, user_for_api_token

    token = create_api_token(owner.sub, "laptop")
    user = user_for_api_token(token)
    assert user is not None and user._state.adding is False
    orm = ApiToken.objects.select_related("user").get(token_hash=hash_token(token)).user
    assert _columns(user) == _columns(orm)
    assert user.created_at is not None and user.created_at.tzinfo is not None
    assert user_for_api_token(token + "x") is None
