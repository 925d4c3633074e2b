"""/playground/ in a real browser: Debian's Chromium driven by Playwright (editor/tests/browser/
playground.mjs, no browser download) against the real web server, worker and the fake model.

Each test pastes French text into the playground's BlockNote editor, selects the two pasted
paragraphs with the mouse and runs an action from the formatting toolbar's Assistant menu; what the
page saw comes back as JSON (the editor's document through ``window.suiteAiEditor.document``, the
extension's events). On a failure the page's screenshot is kept under var/browser-failures/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from suite_ai.jobs.models import Job
from tests.fakes.mistral_server import FakeMistralServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "editor" / "tests" / "browser" / "playground.mjs"
ARTIFACTS = ROOT / "var" / "browser-failures"
PASTED = (
    "Le conseil municipal s'est réuni le 4 février en séance publique sous la présidence du maire.",
    "Après en avoir délibéré, le conseil approuve à l'unanimité le budget primitif de la commune.",
)
# The model's answer, in markdown with marks: Accept must put them in the document.
REPLY = "La séance est **ouverte** et le budget est *approuvé*.\n\nLe conseil se réunira de nouveau en mars."


def drive(scenario: str, url: str, **arguments: Any) -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the browser tests run editor/tests/browser/playground.mjs in Node")
    if not (ROOT / "editor" / "node_modules" / "playwright-core").is_dir():
        pytest.fail("editor/node_modules is not installed: run `make editor` (npm ci in editor/)")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        pytest.fail(f"{chromium} is not an executable Chromium: apt-get install chromium (or set CHROMIUM_PATH)")
    result = subprocess.run(
        ["node", str(DRIVER), scenario, url, str(ARTIFACTS), json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT / "editor",
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, f"the browser driver failed:\n{result.stdout}\n{result.stderr}"
    seen: dict[str, Any] = json.loads(lines[-1])
    where = f"screenshot: {seen.get('screenshot')}\nevents: {seen.get('events')}"
    assert seen["ok"], f"in the browser: {seen.get('failure')}\n{where}"
    assert not [e for e in seen["pageErrors"] if "favicon" not in e], seen["pageErrors"]
    return seen


def texts(document: list[dict[str, Any]]) -> list[str]:
    return ["".join(item.get("text", "") for item in block.get("content") or []) for block in document]


def styled(document: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each text run of the document, with its styles."""
    runs = [item for block in document for item in block.get("content") or [] if "text" in item]
    return {item["text"]: item.get("styles", {}) for item in runs}


@pytest.fixture
def formatted_model(fake_model: FakeMistralServer) -> FakeMistralServer:
    # Several chunks apart: the preview must show text while the job still runs.
    fake_model.configure(reply=REPLY, chunks=6, chunk_delay=0.2)
    return fake_model


@pytest.mark.parametrize(
    ("action", "options"),
    [
        ("summarize", {}),
        ("rephrase", {}),
        ("translate", {"language": "en"}),
        ("custom", {"instruction": "Mettre sous forme de liste à puces"}),
    ],
)
def test_an_action_streams_then_accept_applies_it_with_its_formatting_and_undo_restores(
    playground_url, worker, formatted_model, action, options
):
    seen = drive("accept", playground_url, action=action, options=options)

    assert seen["title"] == "Bac à sable suite_ai"
    assert {"Résumer", "Reformuler", "Traduire", "Instruction libre"} <= set(seen["menu"])
    assert texts(seen["before"]) == list(PASTED)
    assert len(seen["selected"]) == 2
    # The selected blocks went to the model, and the job ran with the chosen options.
    job = Job.objects.get(action=action)
    assert job.status == "succeeded"
    for key, value in options.items():
        assert job.options[key] == value
    assert formatted_model.requests_containing("budget primitif de la commune")
    # Streamed: text in the preview while the job was running, before it ended.
    events = seen["events"]
    first_text = next(i for i, e in enumerate(events) if e["type"] == "delta" and e["textLength"] > 0)
    done = next(i for i, e in enumerate(events) if e["type"] == "done")
    assert first_text < done
    assert events[first_text]["phase"] == "running"
    assert "ouverte" in seen["preview"]
    # Accept: the result replaces the selection, with its bold and italic.
    assert texts(seen["after"]) == [
        "La séance est ouverte et le budget est approuvé.",
        "Le conseil se réunira de nouveau en mars.",
    ]
    runs = styled(seen["after"])
    assert runs["ouverte"].get("bold") is True
    assert runs["approuvé"].get("italic") is True
    # One undo step gives the pasted paragraphs back.
    assert seen["undone"] == seen["before"]


def test_reject_leaves_the_document_as_it_was(playground_url, worker, formatted_model):
    seen = drive("reject", playground_url, action="rephrase")

    assert Job.objects.get(action="rephrase").status == "succeeded"
    assert "ouverte" in seen["preview"]
    assert seen["after"] == seen["before"]


def test_with_the_model_down_the_error_message_appears(playground_url, worker_factory, fake_model):
    fake_model.fail_after(0, status=503)
    worker_factory(SUITE_AI_MODEL_RETRY_BUDGET="1", SUITE_AI_MAX_ATTEMPTS="2")

    seen = drive("error", playground_url, action="rephrase")

    assert Job.objects.get(action="rephrase").error_code == "model_unavailable"
    message = "Le modèle d'IA est indisponible. Réessayez plus tard."
    assert seen["error"] == {"code": "model_unavailable", "text": message}
    assert seen["after"] == seen["before"]


def test_the_page_is_in_english_on_request(playground_url, worker, formatted_model):
    seen = drive("reject", playground_url, action="rephrase", locale="en")

    assert seen["title"] == "suite_ai playground"
    assert "Rephrase" in seen["menu"]
    assert "Custom instruction" in seen["menu"]


def test_a_document_action_shows_its_progress_then_inserts_its_result(playground_url, worker_factory, formatted_model):
    # Small chunks: the document is summarized in several model calls, with progress events.
    worker_factory(SUITE_AI_CHUNK_TOKENS="256")

    seen = drive("document", playground_url, action="summarize", paragraphs=12)

    assert {"Résumer", "Traduire", "Instruction libre", "Générer une note de synthèse"} <= set(seen["menu"])
    assert "Reformuler" not in seen["menu"]  # selection only
    job = Job.objects.get(action="summarize")
    assert job.status == "succeeded"
    assert len(formatted_model.requests) > 1
    progress = [e for e in seen["events"] if e["type"] == "progress"]
    assert progress, seen["events"]
    # The whole document went as input, and the summary is inserted into it, the rest kept.
    assert texts(seen["before"])[0] == "Compte rendu de la réunion du comité de pilotage"
    assert len(seen["after"]) > len(seen["before"])
    assert "La séance est ouverte et le budget est approuvé." in texts(seen["after"])
    assert [t for t in texts(seen["after"]) if t in texts(seen["before"])] == texts(seen["before"])


def test_stop_cancels_the_job_and_leaves_the_document(playground_url, worker, fake_model):
    fake_model.configure(reply=REPLY, chunks=20, chunk_delay=1.0)  # a long answer, stopped mid-way

    seen = drive("stop", playground_url, action="rephrase")

    job = Job.objects.get(action="rephrase")
    assert job.status == "cancelled"
    assert [e["type"] for e in seen["events"]][-1] == "cancelled"
    assert seen["after"] == seen["before"]


def test_a_note_on_the_document_ends_with_the_link_to_it_in_docs(docs, docs_playground_url, fake_model):
    from suite_ai import blocknote
    from suite_ai.playground.views import DOCUMENT_ID
    from tests.support.waiting import b64

    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    markdown = "# Comité de pilotage\n\nLe comité adopte le budget 2027 à l'unanimité."
    source = docs.add_document(
        "Comité de pilotage", owner=alice, content=b64(blocknote.markdown_to_update(markdown)), id=str(DOCUMENT_ID)
    )

    seen = drive("note", docs_playground_url, token=docs.token_for(alice))

    [note] = docs.children(source)
    assert seen["note"]["href"] == f"{docs.url}/docs/{note.id}/"
    assert Job.objects.get(action="note").status == "succeeded"
