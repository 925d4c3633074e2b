"""The note action ("synthèse"): a structured note written into Docs as a new shared document.

The note is a child of the source document, so it inherits the source's accesses: the people who
can read the source can read the note, and nobody else. Its id is fixed on the job before the
first attempt, so however often the job is retried there is one note, never two.
"""

from __future__ import annotations

import json

from django.utils import timezone

from suite_ai.lasuite_docs import (
    DocsClient,
    DocsError,
    NoteMode,
    NoteOutcome,
    NoteRef,
    PendingCreate,
    write_note,
)
from suite_ai.llm import extractive
from suite_ai.llm.extractive import extract
from suite_ai.pipeline.actions import Action, model_configured
from suite_ai.pipeline.blocks import note_document
from suite_ai.pipeline.context import ActionOutcome, JobContext, JobFailure, Source
from suite_ai.pipeline.documents import docs_failure, job_docs_client, load_document, note_mode
from suite_ai.pipeline.model import UseExtractive, run_engine
from suite_ai.pipeline.provenance import References, link_citations, tag

EXTRACTIVE_VERSION = f"note.{extractive.VERSION}"
# Checkpoints of a note job: the note's text once generated (a retry of the write-back never pays
# the model again), a create-for-owner that was sent, and the note once written.
GENERATED = "note:generated"
OWNER_CREATE = "note:owner_create"
WRITTEN = "note:written"


def run(context: JobContext, action: Action) -> ActionOutcome:
    if not context.note_id:
        raise JobFailure("internal_error", "This note job has no note id.")
    with job_docs_client(context) as client:
        source, title = load_document(context, client)
        if not source.segments:
            raise JobFailure("empty_document", "The document is empty: there is nothing to summarize.")
        markdown, usage, version = _generated(context, action, client, source, title)
        note_title = f"Synthèse — {title}" if title else "Synthèse"
        reference = _write(context, client, note_title, markdown)
    return ActionOutcome(
        result={
            "markdown": markdown,
            "note": {"document_id": reference.document_id, "url": reference.url, "title": reference.title},
            **({"engine": "extractive"} if usage.get("engine") == "extractive" else {}),
        },
        usage=usage,
        prompt_version=version,
    )


def _generated(
    context: JobContext, action: Action, client: DocsClient, source: Source, title: str
) -> tuple[str, dict[str, object], str]:
    """The note's markdown, from the checkpoint of an earlier attempt or generated now."""
    saved = context.checkpoint_get(GENERATED)
    if saved:
        data = json.loads(saved)
        return str(data["markdown"]), dict(data["usage"]), str(data["prompt_version"])
    source_url = client.document_url(context.document_id)
    body, references, usage, version = _generate(context, action, source)
    body = link_citations(body, references, source_url)
    generator = f"modèle {usage['model']}" if usage.get("model") else "résumé extractif, sans modèle"
    markdown = _with_header(body, title, source_url, generator)
    context.checkpoint_put(GENERATED, json.dumps({"markdown": markdown, "usage": usage, "prompt_version": version}), {})
    return markdown, usage, version


def _generate(context: JobContext, action: Action, source: Source) -> tuple[str, References, dict[str, object], str]:
    """The note's body, citing source blocks as [§n]."""
    tagged, references = tag(source.segments)
    extractive_usage: dict[str, object] = {"engine": "extractive", "calls": 0}
    if not model_configured():
        return _extractive(source, references), references, extractive_usage, EXTRACTIVE_VERSION
    try:
        outcome, usage = run_engine(context, action, tagged, allow_fallback=True)
    except UseExtractive:
        return _extractive(source, references), references, extractive_usage, EXTRACTIVE_VERSION
    return outcome.text, references, usage, outcome.prompt_version


def _extractive(source: Source, references: References) -> str:
    number_of = {block_id: number for number, block_id in references.block_ids.items()}
    lines = ["## Points clés", ""]
    for found in extract(source.segments):
        citation = f" [§{number_of[found.block_id]}]" if found.block_id in number_of else ""
        lines.append(f"- {found.sentence}{citation}")
    return "\n".join(lines)


def _with_header(body: str, title: str, source_url: str, generator: str) -> str:
    date = timezone.now().strftime("%d/%m/%Y")
    header = (
        f"*Note générée automatiquement ({generator}, le {date}) à partir de "
        f"[{title or 'ce document'}]({source_url}). Vérifiez-la avant de la diffuser.*"
    )
    return f"{header}\n\n{body.strip()}\n"


class CheckpointJournal:
    """``lasuite_docs.CreateJournal`` on the job's checkpoints: a create-for-owner is recorded
    before it is sent, so an attempt after a crash knows it may have happened."""

    def __init__(self, context: JobContext) -> None:
        self.context = context

    def pending(self) -> PendingCreate | None:
        saved = self.context.checkpoint_get(OWNER_CREATE)
        if saved is None:
            return None
        known = json.loads(saved)["known_before"]
        return PendingCreate(known_before=None if known is None else frozenset(known))

    def begin(self, pending: PendingCreate) -> None:
        known = None if pending.known_before is None else sorted(pending.known_before)
        self.context.checkpoint_put(OWNER_CREATE, json.dumps({"known_before": known}), {})

    def abandon(self) -> None:
        self.context.checkpoint_delete(OWNER_CREATE)


def _write(context: JobContext, client: DocsClient, title: str, markdown: str) -> NoteRef:
    """Write the note once. Child notes are exactly-once by their fixed id, create-for-owner by
    its journal; the written note is also recorded, so a later attempt writes nothing."""
    done = context.checkpoint_get(WRITTEN)
    if done:
        data = json.loads(done)
        return NoteRef(
            data["document_id"], data["url"], NoteOutcome.ALREADY_DONE, NoteMode(data["mode"]), data["title"]
        )
    mode = note_mode(context)
    assert context.note_id is not None
    try:
        if mode is NoteMode.CHILD:
            reference = write_note(
                client, mode, parent_id=context.document_id, note_id=context.note_id, title=title,
                content=note_document(markdown),
            )  # fmt: skip
        else:
            reference = write_note(
                client, mode, parent_id=context.document_id, note_id=context.note_id, title=title,
                markdown=markdown, owner_sub=context.owner_sub, owner_email=context.owner_email,
                journal=CheckpointJournal(context),
            )  # fmt: skip
    except DocsError as error:
        raise docs_failure(error) from None
    written = {"document_id": reference.document_id, "url": reference.url, "mode": reference.mode}
    context.checkpoint_put(WRITTEN, json.dumps({**written, "title": reference.title}), {})
    return reference
