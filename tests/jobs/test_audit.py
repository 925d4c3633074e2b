"""One audit record per finished job (issue #13): who, action, model, prompt version, source and
its revision, output hash, token counts; no text; kept past the purge of jobs, deleted after a
retention of its own; read-only in the admin and printed by ``manage.py audit_log``."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from suite_ai.audit import services as audit
from suite_ai.audit.models import AuditRecord
from suite_ai.audit.services import record_finished
from suite_ai.jobs import services, tasks
from suite_ai.jobs.models import Job
from tests.fakes.mistral_server import Behaviour
from tests.support.processes import start_worker
from tests.support.settings_env import settings_from
from tests.support.waiting import wait_finished

TEXT = "Le conseil municipal adopte le budget de la médiathèque. Mme Durand présentera les travaux en juin."


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def audit_log(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("audit_log", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def no_text_in(record: AuditRecord) -> None:
    dumped = json.dumps({f.name: str(getattr(record, f.attname)) for f in AuditRecord._meta.fields})
    for word in ("conseil", "médiathèque", "Durand", "CONSEIL", "DURAND"):
        assert word not in dumped


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_finished_jobs_are_audited_by_the_worker_without_text_and_outlive_the_purge(
    alice, fake_model, settings, tmp_path: Path
):
    settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = fake_model.api_key, fake_model.url
    env = {"MISTRAL_API_KEY": fake_model.api_key, "MISTRAL_SERVER_URL": fake_model.url, "SUITE_AI_MAX_ATTEMPTS": "1"}
    fake_model.when("ZZFAILZZ", Behaviour(kind="status", status=401))
    worker = start_worker(tmp_path, **env)
    document = uuid.uuid4()
    try:
        ok = alice.submit("summarize", document, input={"markdown": TEXT})
        failing = alice.submit("rephrase", input={"markdown": f"{TEXT} ZZFAILZZ"})
        assert ok.status_code == failing.status_code == 202
        job = wait_finished(ok.json()["id"])
        failed = wait_finished(failing.json()["id"])
    finally:
        worker.stop()
    assert job.status == "succeeded", job.error_message and failed.status == "failed"

    record = AuditRecord.objects.get(job_id=job.id)
    assert (record.user_sub, record.action, record.status, record.error_code) == ("alice", "summarize", "succeeded", "")
    assert record.document_id == document and record.prompt_version == job.prompt_version != ""
    assert record.engine == "model" and record.model == job.usage["model"] and record.model in record.models_used
    assert record.source == "input"
    assert (
        record.source_revision
        == "sha256:"
        + hashlib.sha256(
            json.dumps({"markdown": TEXT}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
    )
    assert record.output_sha256 == sha256(job.result["markdown"])
    assert record.prompt_tokens == job.usage["prompt_tokens"] > 0
    assert record.completion_tokens == job.usage["completion_tokens"] > 0
    assert record.calls == job.usage["calls"] and record.attempts == job.attempts == 1
    assert record.finished_at == job.finished_at and record.created_at == job.created_at
    no_text_in(record)
    # The worker builds it from its own copy of the job, without reading the row back: the same
    # record as the one read from the row.
    fields = [field.attname for field in AuditRecord._meta.fields if field.attname != "id"]
    from_worker = {name: getattr(record, name) for name in fields}
    record.delete()
    from_row = record_finished(job.id)
    assert from_row is not None and {name: getattr(from_row, name) for name in fields} == from_worker

    failed_record = AuditRecord.objects.get(job_id=failed.id)
    assert (failed_record.status, failed_record.error_code) == ("failed", failed.error_code)
    assert failed.error_code == "model_auth_failed" and failed_record.output_sha256 == ""
    no_text_in(failed_record)

    # The purge takes the jobs and their text; the records stay.
    Job.objects.filter(id__in=[job.id, failed.id]).update(finished_at=timezone.now() - dt.timedelta(days=400))
    assert services.purge(retention_days=30) >= 2
    assert not Job.objects.filter(id__in=[job.id, failed.id]).exists()
    assert AuditRecord.objects.filter(job_id__in=[job.id, failed.id]).count() == 2

    # And the operators' command prints them, filtered.
    lines = audit_log("--user", "alice", "--document", str(document), "--since", "1d")
    assert [line["job_id"] for line in lines] == [str(job.id)]
    assert lines[0]["output_sha256"] == record.output_sha256 and lines[0]["user"]["sub"] == "alice"
    assert {line["job_id"] for line in audit_log("--since", "2h")} == {str(job.id), str(failed.id)}
    assert audit_log("--user", "bob") == [] and audit_log("--action", "note") == []
    future = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    assert audit_log("--since", future) == []


@pytest.mark.django_db
def test_a_cancelled_job_is_audited_once_and_its_owner_may_be_deleted(alice):
    response = alice.submit("summarize", input={"markdown": TEXT})
    job = Job.objects.get(id=response.json()["id"])
    assert alice.client.post(f"/api/v1.0/jobs/{job.id}/cancel/").status_code in (200, 202)
    record = AuditRecord.objects.get(job_id=job.id)
    assert (record.status, record.prompt_tokens, record.output_sha256) == ("cancelled", 0, "")
    assert record_finished(job.id) is None and AuditRecord.objects.filter(job_id=job.id).count() == 1
    job.owner.delete()  # the user and their jobs go; who they were stays on the record
    record.refresh_from_db()
    assert record.user_id is None and record.user_sub == "alice"


def cancelled_and_audited(caller, ended_days_ago: float) -> AuditRecord:
    job = Job.objects.get(id=caller.submit("summarize", input={"markdown": TEXT}).json()["id"])
    assert caller.client.post(f"/api/v1.0/jobs/{job.id}/cancel/").status_code in (200, 202)
    AuditRecord.objects.filter(job_id=job.id).update(finished_at=timezone.now() - dt.timedelta(days=ended_days_ago))
    return AuditRecord.objects.get(job_id=job.id)


@pytest.mark.django_db
def test_audit_records_are_deleted_after_their_own_retention_by_a_daily_beat_task(alice, settings):
    old, kept = cancelled_and_audited(alice, 366), cancelled_and_audited(alice, 364)
    settings.SUITE_AI_AUDIT_RETENTION_DAYS = 365
    assert tasks.purge_audit_records() == 1
    assert list(AuditRecord.objects.values_list("job_id", flat=True)) == [kept.job_id]
    assert not AuditRecord.objects.filter(job_id=old.job_id).exists()
    assert audit.purge(retention_days=365) == 0  # nothing more is due
    assert audit.purge(retention_days=300) == 1  # a shorter retention takes the other one
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-audit-records"]
    assert schedule["task"] == tasks.purge_audit_records.name and schedule["schedule"] == 86400.0


def test_the_audit_retention_must_cover_the_jobs_retention(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SUITE_AI_AUDIT_RETENTION_DAYS: 20 is not valid"):
        settings_from(monkeypatch, SUITE_AI_AUDIT_RETENTION_DAYS="20", SUITE_AI_RETENTION_DAYS="30")
    assert settings_from(monkeypatch, SUITE_AI_AUDIT_RETENTION_DAYS="30")["SUITE_AI_AUDIT_RETENTION_DAYS"] == 30
    assert settings_from(monkeypatch)["SUITE_AI_AUDIT_RETENTION_DAYS"] == 365


@pytest.mark.django_db
def test_audit_log_refuses_what_it_cannot_read():
    with pytest.raises(CommandError, match="not a document id"):
        call_command("audit_log", "--document", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("audit_log", "--since", "yesterday")


@pytest.mark.django_db
def test_the_admin_shows_records_read_only(admin_client, alice):
    response = alice.submit("summarize", input={"markdown": TEXT})
    alice.client.post(f"/api/v1.0/jobs/{response.json()['id']}/cancel/")
    record = AuditRecord.objects.get()
    listing = admin_client.get("/admin/audit/auditrecord/")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    page = admin_client.get(f"/admin/audit/auditrecord/{record.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"/admin/audit/auditrecord/{record.pk}/change/", {"action": "x"}).status_code == 403
    assert admin_client.get("/admin/audit/auditrecord/add/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditRecord.objects.get().action == "summarize"
