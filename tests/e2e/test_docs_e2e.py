"""The note action and OIDC end to end: a real web server and real workers, a fake La Suite Docs
and a fake identity provider speaking their documented contracts over loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from suite_ai import blocknote
from suite_ai.jobs.models import Job
from suite_ai.pipeline import ACTIONS
from tests.fakes.docs_server import FakeDocsServer
from tests.support.docs_stack import docs_settings, fake_docs
from tests.support.processes import ManagedProcess, start_web
from tests.support.waiting import b64, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MINUTES = """# Comité de pilotage du 4 mars

## Budget

Le comité adopte le budget 2027 à l'unanimité. La dotation des écoles augmente de 4 %.

## Travaux

La rénovation du gymnase commence en septembre. Mme Durand suivra le chantier.

## Questions diverses

Le prochain comité aura lieu le 3 juin. M. Petit enverra l'ordre du jour une semaine avant.
"""


@pytest.fixture
def docs() -> Iterator[FakeDocsServer]:
    with fake_docs() as server:
        yield server


@pytest.fixture
def docs_env(docs: FakeDocsServer, model_env: dict[str, str]) -> dict[str, str]:
    return {
        **model_env,
        **docs_settings(docs),
        "DOCS_SERVER_TO_SERVER_TOKEN": "server-api-token",
        "SUITE_AI_MAX_ATTEMPTS": "3",
    }


@pytest.fixture
def api(docs_env, tmp_path) -> Iterator[str]:
    process, url = start_web(tmp_path, **docs_env)
    yield url
    process.stop()


@pytest.fixture
def docs_worker(worker_factory, docs_env) -> ManagedProcess:
    return worker_factory(**docs_env)


@pytest.fixture
def stack(worker_factory, tmp_path):
    """``stack(**env)``: a web server and a worker with this environment; the API's URL."""
    webs: list[ManagedProcess] = []

    def start(**env: str) -> str:
        web, url = start_web(tmp_path, **env)
        webs.append(web)
        worker_factory(**env)
        return url

    yield start
    for web in webs:
        web.stop()


@pytest.fixture
def people(docs: FakeDocsServer):
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    bob = docs.add_user("bob-sub", "bob@example.org", "Bob Durand")
    carol = docs.add_user("carol-sub", "carol@example.org", "Carol Petit")
    source = docs.add_document("Comité de pilotage", owner=alice, content=b64(blocknote.markdown_to_update(MINUTES)))
    docs.grant(source, bob, "reader")
    return alice, bob, carol, source


def submit(api: str, token: str, document_id: str, action: str = "note", **body: object) -> httpx.Response:
    return httpx.post(
        f"{api}/api/v1.0/documents/{document_id}/actions/",
        json={"action": action, **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_note_lands_once_in_docs_shared_with_the_readers_of_the_source(docs, people, api, docs_worker, fake_model):
    alice, bob, carol, source = people
    response = submit(api, docs.token_for(alice), source.id)
    assert response.status_code == 202, response.text
    job = wait_finished(response.json()["id"])
    assert job.status == "succeeded", job.error

    notes = docs.children(source)
    assert len(notes) == 1
    note = notes[0]
    assert str(job.note_id) == note.id == job.result["note"]["document_id"]
    assert job.result["note"]["url"] == f"{docs.url}/docs/{note.id}/"
    assert note.title == "Synthèse — Comité de pilotage"
    written = blocknote.read_base64(docs.content(note))
    assert not written.anomalies
    text = blocknote.blocks_to_markdown(written.blocks).markdown
    assert f"{docs.url}/docs/{source.id}/" in text  # the note opens with a link to its source
    source_ids = {b.id for b in blocknote.read_base64(docs.content(source)).blocks}
    cited = [block_id for block_id in source_ids if f"#{block_id}" in text]
    assert cited, "the note links back to the source blocks it came from"

    # Shared exactly like the source: the reader can open it, the stranger cannot.
    def read(user):
        return httpx.get(
            f"{docs.url}/external_api/v1.0/documents/{note.id}/",
            headers={"Authorization": f"Bearer {docs.token_for(user)}"},
            timeout=10,
        )

    assert read(bob).status_code == 200
    assert read(carol).status_code in (403, 404)
    # And the note renders in the real BlockNote as the blocks we wrote.
    from tests.interop.harness import NodeHarness

    with NodeHarness() as harness:
        rendered = harness.to_blocks(written_update := blocknote.decode_base64_update(docs.content(note)))
    assert rendered["blocks"] == blocknote.blocks_to_json(blocknote.read_update(written_update).blocks)


def test_a_stranger_cannot_run_any_action_and_a_reader_cannot_create_a_note(docs, people, api, fake_model):
    alice, bob, carol, source = people
    stranger = submit(api, docs.token_for(carol), source.id, "summarize", input={"markdown": "Texte."})
    assert (stranger.status_code, stranger.json()["code"]) == (403, "docs_forbidden")
    reader_note = submit(api, docs.token_for(bob), source.id)
    assert (reader_note.status_code, reader_note.json()["code"]) == (403, "docs_forbidden")
    assert "editor" in reader_note.json()["message"]
    assert submit(api, docs.token_for(bob), source.id, "summarize").status_code == 202  # reading is enough
    missing = submit(api, docs.token_for(alice), str(uuid.uuid4()))
    assert (missing.status_code, missing.json()["code"]) == (404, "docs_not_found")
    assert docs.children(source) == []
    assert Job.objects.filter(action="note").count() == 0


@pytest.mark.parametrize(
    ("make_token", "status", "code"),
    [
        (lambda docs, user: "not-a-token", 401, "authentication_failed"),
        (lambda docs, user: docs.token_for(user, expires_in=-60), 401, "authentication_failed"),
        (lambda docs, user: docs.token_for(user, client_id="another-app"), 401, "token_audience_not_allowed"),
        (lambda docs, user: docs.token_for(user, scope="email"), 401, "invalid_token"),
    ],
)
def test_bad_tokens_get_a_clear_401(docs, people, api, make_token, status, code):
    alice, _, _, source = people
    response = submit(api, make_token(docs, alice), source.id, "summarize", input={"markdown": "Texte."})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Job.objects.count() == 0


def test_a_valid_token_for_a_new_user_creates_the_local_user(docs, api, fake_model):
    from suite_ai.accounts.models import User

    dave = docs.add_user("dave-sub", "dave@example.org", "Dave Leroy")
    source = docs.add_document("Brouillon", owner=dave, content=b64(blocknote.markdown_to_update("Bonjour.")))
    assert submit(api, docs.token_for(dave), source.id, "summarize").status_code == 202
    user = User.objects.get(sub="dave-sub")
    assert (user.email, user.name) == ("dave@example.org", "Dave Leroy")


def test_docs_answering_500_after_creating_the_note_still_gives_one_note(docs, people, api, docs_worker, fake_model):
    alice, _, _, source = people
    docs.fail_next(r"/children/$", kind="status_after", status=500, method="POST")
    job = wait_finished(submit(api, docs.token_for(alice), source.id).json()["id"])
    assert job.status == "succeeded", job.error
    # The create was sent twice (Docs created the note, then answered 500): still one note.
    assert len(docs.requests_to(r"/children/$", "POST")) == 2
    assert len(docs.children(source)) == 1
    assert docs.content(docs.children(source)[0])


def test_a_worker_killed_between_creating_the_note_and_writing_it_ends_with_one_complete_note(
    docs, people, api, worker_factory, docs_env, beat, fake_model
):
    alice, _, _, source = people
    docs.fail_next(r"/content/$", kind="hang", method="PATCH", delay=30)
    first = worker_factory(**docs_env)
    job_id = submit(api, docs.token_for(alice), source.id).json()["id"]
    deadline = time.monotonic() + 30
    while not docs.requests_to(r"/content/$", "PATCH") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(docs.children(source)) == 1 and not docs.content(docs.children(source)[0])
    first.kill()
    worker_factory(**docs_env)
    job = wait_finished(job_id, timeout=60)
    assert job.status == "succeeded", job.error
    notes = docs.children(source)
    assert len(notes) == 1 and docs.content(notes[0])
    assert job.result["note"]["document_id"] == notes[0].id


def test_docs_down_fails_the_job_clearly_and_writes_nothing(docs, people, api, docs_worker, fake_model):
    alice, _, _, source = people
    token = docs.token_for(alice)
    docs.fail_next(r"/documents/", kind="status", status=503, times=1000)
    response = submit(api, token, source.id)
    assert response.status_code == 202  # rights cannot be checked now: the worker checks before any work
    job = wait_finished(response.json()["id"], timeout=120)
    assert (job.status, job.error_code) == ("failed", "docs_unavailable")
    assert docs.children(source) == []
    assert fake_model.requests == []


# --- Every action on every input source -------------------------------------------------------

SELECTION = "Le **conseil municipal** vote la subvention.\n\nLa médiathèque ouvrira aussi le dimanche."
OPTIONS = {"translate": {"language": "en"}, "custom": {"instruction": "Mets le texte au futur."}}
SELECTION_ONLY = sorted(name for name, spec in ACTIONS.items() if "document" not in spec.scope)


def _inputs(source_update: bytes) -> dict[str, tuple[dict[str, object] | None, str]]:
    """Each input source, and the first words of the text the model must have been given."""
    minutes_blocks = blocknote.read_update(source_update).blocks
    budget, works, *_ = (b.id for b in minutes_blocks if b.type == "paragraph")
    return {
        "markdown": ({"markdown": SELECTION}, "LE CONSEIL MUNICIPAL"),
        "blocks": (
            {"blocks": blocknote.blocks_to_json(blocknote.markdown_to_blocks(SELECTION))},
            "LE CONSEIL MUNICIPAL",
        ),
        "ydoc_selection": ({"ydoc": b64(source_update), "block_ids": [budget, works]}, "LE COMITÉ ADOPTE"),
        "docs_document": (None, "COMITÉ DE PILOTAGE"),
    }


@pytest.mark.parametrize("input_source", ["markdown", "blocks", "ydoc_selection", "docs_document"])
def test_every_action_on_every_input_source(docs, people, api, docs_worker, fake_model, input_source):
    alice, _, _, source = people
    token = docs.token_for(alice)
    job_input, first_words = _inputs(blocknote.decode_base64_update(docs.content(source)))[input_source]
    submitted: dict[str, str] = {}
    for action in ACTIONS:
        body: dict[str, object] = {"options": OPTIONS[action]} if action in OPTIONS else {}
        if job_input is not None:
            body["input"] = job_input
        response = submit(api, token, source.id, action, **body)
        if job_input is None and action in SELECTION_ONLY:
            # A selection-only action on a whole document: refused before any job exists.
            assert (response.status_code, response.json()["code"]) == (400, "missing_input"), action
            continue
        assert response.status_code == 202, (action, response.text)
        submitted[action] = response.json()["id"]
    assert set(submitted) == set(ACTIONS) - (set(SELECTION_ONLY) if job_input is None else set())

    for action, job_id in submitted.items():
        job = wait_finished(job_id)
        assert job.status == "succeeded", (action, job.error)
        if action == "note":
            note_id = job.result["note"]["document_id"]
            assert note_id in {child.id for child in docs.children(source)}
            # The note cites blocks ([§n] first), so the model's first words shift by one.
            lead = " ".join(first_words.split()[:2])
            assert lead in " ".join(docs.text(note_id)).upper(), "the note is about the input"
            assert job.result["note"]["title"] == docs.document(note_id).title == "Synthèse — Comité de pilotage"
        else:
            assert job.result["markdown"].startswith(first_words), (action, job.result["markdown"][:80])
            assert job.result["blocks"] and job.result["blocks"][0]["type"] == "paragraph"
            assert job.usage["calls"] >= 1
    if input_source == "docs_document":
        # The document was read with the caller's rights, as Docs answers it (Accept it can satisfy).
        reads = docs.requests_to(rf"/documents/{source.id}/content/$", "GET")
        assert reads and {r["status"] for r in reads} == {200}


def test_a_reader_gets_a_whole_document_summary(docs, people, api, docs_worker, fake_model):
    _, bob, _, source = people
    response = submit(api, docs.token_for(bob), source.id, "summarize")
    job = wait_finished(response.json()["id"])
    assert job.status == "succeeded", job.error
    assert job.result["markdown"].startswith("COMITÉ DE PILOTAGE")


def test_a_selection_only_action_needs_a_selection(docs, people, api):
    alice, _, _, source = people
    whole = {"ydoc": docs.content(source)}
    for body in ({}, {"input": whole}):
        response = submit(api, docs.token_for(alice), source.id, "rephrase", **body)
        assert (response.status_code, response.json()["code"]) == (400, "missing_input")
        assert "selection" in response.json()["message"]
    assert Job.objects.count() == 0


# --- Docs' refusals at submission --------------------------------------------------------------


def test_docs_throttling_at_submission_is_a_429_with_retry_after(docs, people, api):
    alice, _, _, source = people
    docs.fail_next(
        rf"/documents/{source.id}/$",
        kind="status",
        status=429,
        headers=[("Retry-After", "54")],
        body={"detail": "Request was throttled. Expected available in 54 seconds."},
    )
    response = submit(api, docs.token_for(alice), source.id, "summarize")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "54"
    assert response.json()["code"] == "docs_rate_limited" and response.json()["retry_after"] == 54
    assert Job.objects.count() == 0


def test_a_token_docs_refuses_with_its_html_400_is_an_authentication_error(docs, people, api):
    # suite_ai accepts the token (scope openid) but this Docs requires another scope: Docs answers
    # its HTML 400 page, which the editor must see as "sign in again", not as a bad request.
    alice, _, _, source = people
    docs.configure(rs_scopes=("docs",))
    response = submit(api, docs.token_for(alice), source.id, "summarize")
    assert (response.status_code, response.json()["code"]) == (401, "docs_unauthorized")
    assert "sign in again" in response.json()["message"]
    assert Job.objects.count() == 0


# --- Notes in every mode, at most once ---------------------------------------------------------


def test_a_note_job_retried_after_a_docs_outage_does_not_pay_the_model_twice(
    docs, people, api, docs_worker, fake_model
):
    alice, _, _, source = people
    docs.fail_next(r"/children/$", kind="status", status=503, times=4, method="POST")  # one attempt's retries
    job = wait_finished(submit(api, docs.token_for(alice), source.id).json()["id"], timeout=120)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    assert len(fake_model.requests) == 1, "the second attempt used the checkpointed note"
    assert len(docs.children(source)) == 1 and docs.content(docs.children(source)[0])


@pytest.fixture
def service_env(docs_env):
    return {**docs_env, "SUITE_AI_SERVICE_TOKENS": "docs-backend-token"}


def submit_as_docs_backend(api: str, document_id: str, **body: object) -> httpx.Response:
    return httpx.post(
        f"{api}/api/v1.0/documents/{document_id}/actions/",
        json={"action": "note", **body},
        headers={
            "Authorization": "Bearer docs-backend-token",
            "X-Suite-AI-User-Sub": "alice-sub",
            "X-Suite-AI-User-Email": "alice@example.org",
        },
        timeout=30,
    )


def test_a_service_token_note_is_a_document_owned_by_the_user(docs, people, service_env, stack, fake_model):
    alice, bob, _, source = people
    api = stack(**service_env)
    response = submit_as_docs_backend(api, source.id, input={"markdown": MINUTES})
    assert response.status_code == 202, response.text
    job = wait_finished(response.json()["id"])
    assert job.status == "succeeded", job.error
    note = docs.document(job.result["note"]["document_id"])
    assert note.depth == 1, "create-for-owner makes a root document"
    assert docs.role_of(note, alice) == "owner" and docs.role_of(note, bob) is None
    assert note.title == job.result["note"]["title"] == "Synthèse — Comité de pilotage du 4 mars"
    assert "COMITÉ DE PILOTAGE" in " ".join(docs.text(note)).upper()
    assert not docs.requests_to(r"/external_api/"), "no user token: nothing read as the user"


def test_create_for_owner_answering_500_after_creating_leaves_one_document(
    docs, people, service_env, stack, fake_model
):
    _, _, _, source = people
    docs.configure(mail_server_available=False)
    api = stack(**service_env)
    job = wait_finished(submit_as_docs_backend(api, source.id, input={"markdown": MINUTES}).json()["id"])
    assert (job.status, job.error_code) == ("failed", "docs_note_outcome_unknown")
    assert "alice@example.org" in job.error_message
    notes = [d for d in docs.iter_documents() if d.title.startswith("Synthèse")]
    assert len(notes) == 1, "Docs created it once; suite_ai never sent the create again"
    assert len(docs.requests_to(r"create-for-owner/$", "POST")) == 1


def test_owner_root_notes_with_the_users_token_find_a_lost_answer(docs, people, docs_env, stack, fake_model):
    alice, _, _, source = people
    docs.configure(mail_server_available=False)
    env = {**docs_env, "SUITE_AI_NOTE_MODE": "owner_root"}
    api = stack(**env)
    job = wait_finished(submit(api, docs.token_for(alice), source.id).json()["id"])
    assert job.status == "succeeded", job.error
    notes = [d for d in docs.iter_documents() if d.title == "Synthèse — Comité de pilotage"]
    assert [n.id for n in notes] == [job.result["note"]["document_id"]]
    assert docs.role_of(notes[0], alice) == "owner"


def test_child_upload_notes_report_the_title_docs_keeps(docs, people, docs_env, stack, fake_model):
    alice, _, _, source = people
    docs.configure(conversion_upload_enabled=True)
    env = {**docs_env, "SUITE_AI_NOTE_MODE": "child_upload"}
    api = stack(**env)
    job = wait_finished(submit(api, docs.token_for(alice), source.id).json()["id"])
    assert job.status == "succeeded", job.error
    (note,) = docs.children(source)
    assert job.result["note"]["title"] == note.title == "Synthèse — Comité de pilotage.md"


def test_a_note_docs_never_lets_us_fill_names_the_empty_document(docs, people, api, docs_worker, fake_model):
    alice, _, _, source = people
    docs.fail_next(r"/content/$", kind="status", status=502, times=1000, method="PATCH")
    job = wait_finished(submit(api, docs.token_for(alice), source.id).json()["id"], timeout=180)
    (note,) = docs.children(source)
    assert (job.status, job.error_code) == ("failed", "docs_note_incomplete")
    assert f"{docs.url}/docs/{note.id}/" in job.error_message and "still empty" in job.error_message
    assert len(fake_model.requests) == 1, "every retry reused the generated note"
