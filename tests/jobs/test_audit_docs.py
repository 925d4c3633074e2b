"""The audit record of a job that read its document from Docs names the revision it read: Docs'
ETag (issue #13). Real processes: a web server and a worker, the fake Docs and its OIDC provider."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from suite_ai import blocknote
from suite_ai.audit.models import AuditRecord
from tests.fakes.docs_server import FakeDocsServer
from tests.support.processes import start_web, start_worker
from tests.support.waiting import b64, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MINUTES = "# Réunion\n\nLe comité adopte le budget. La médiathèque ouvrira en juin.\n"
CLIENT = ("suite-ai", "suite-ai-rs-secret")


def test_a_job_reading_docs_records_the_etag_it_read(fake_model, tmp_path: Path):
    with FakeDocsServer() as docs:
        docs.oidc.register_client(*CLIENT)
        docs.enable_external_actions("content_retrieve", "content")
        env = {
            "MISTRAL_API_KEY": fake_model.api_key,
            "MISTRAL_SERVER_URL": fake_model.url,
            "DOCS_BASE_URL": docs.url,
            "OIDC_OP_URL": docs.oidc.issuer,
            "OIDC_OP_INTROSPECTION_ENDPOINT": docs.oidc.introspection_endpoint,
            "OIDC_RS_CLIENT_ID": CLIENT[0],
            "OIDC_RS_CLIENT_SECRET": CLIENT[1],
            "OIDC_RS_ALLOWED_AUDIENCES": CLIENT[0],
            "OIDC_VERIFY_SSL": "false",
        }
        alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
        source = docs.add_document("Réunion", owner=alice, content=b64(blocknote.markdown_to_update(MINUTES)))
        web, url = start_web(tmp_path, **env)
        worker = start_worker(tmp_path, **env)
        try:
            response = httpx.post(
                f"{url}/api/v1.0/documents/{source.id}/actions/",
                json={"action": "summarize"},
                headers={"Authorization": f"Bearer {docs.token_for(alice)}"},
                timeout=30,
            )
            assert response.status_code == 202, response.text
            job = wait_finished(response.json()["id"])
        finally:
            worker.stop()
            web.stop()
        assert job.status == "succeeded", job.error_message
        record = AuditRecord.objects.get(job_id=job.id)
        assert record.source == "docs" and record.source_revision == source.versions[-1].etag
        assert (record.user_sub, record.user_email) == ("alice-sub", "alice@example.org")
        assert str(record.document_id) == str(source.id)
