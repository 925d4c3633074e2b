"""A Docs document whose stored bytes crash pycrdt fails its job with a code; the worker that read it
lives on and runs the next job. Real web server, real Celery worker, the fake Docs over loopback."""

from __future__ import annotations

import pytest

from tests.blocknote.payloads import nested_any_update, nested_arrays_update

# The Docs stack of the end-to-end suite: its fixtures, used as they are.
from tests.e2e.conftest import model_env, worker_factory  # noqa: F401
from tests.e2e.test_docs_e2e import api, docs, docs_env, docs_worker, people, submit  # noqa: F401
from tests.support.waiting import b64, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_docs_document_that_crashes_pycrdt_fails_its_job_and_the_worker_lives_on(
    docs,  # noqa: F811
    people,  # noqa: F811
    api,  # noqa: F811
    docs_worker,  # noqa: F811
    fake_model,
):
    alice, _, _, source = people
    token = docs.token_for(alice)
    for payload in (nested_any_update(30_000), nested_arrays_update(30_000)):
        # Before the guard: the worker died with SIGSEGV reading the first one, and the job was retried
        # by every worker in turn until SUITE_AI_MAX_ATTEMPTS.
        hostile = docs.add_document("Piège", owner=alice, content=b64(payload))
        response = submit(api, token, hostile.id, "summarize")
        assert response.status_code == 202, response.text
        job = wait_finished(response.json()["id"])
        assert job.status == "failed"
        assert job.error["code"] == "ydoc_too_complex", job.error
        assert job.attempts == 1
        assert docs_worker.process.poll() is None, docs_worker.log()

    response = submit(api, token, source.id, "summarize")
    job = wait_finished(response.json()["id"])
    assert job.status == "succeeded", job.error
    assert docs_worker.process.poll() is None
