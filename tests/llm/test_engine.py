"""Long inputs through the real SDK and the fake model: map-reduce, order, checkpoints, cancellation."""

from __future__ import annotations

import re

import pytest

from suite_ai.llm.chunking import Segment
from suite_ai.llm.engine import Callbacks, Cancelled, LongInputEngine, Plan
from suite_ai.llm.errors import ModelError
from suite_ai.llm.ratelimit import Limits, RateLimiter

SENTENCES = [
    "La direction régionale présente le bilan des actions menées durant l'exercice écoulé.",
    "Les crédits consommés atteignent quatre-vingt-douze pour cent de l'enveloppe votée.",
    "Le comité souligne la hausse des demandes d'accompagnement dans les territoires ruraux.",
    "Plusieurs agents ont suivi la formation au nouvel outil de gestion des dossiers.",
    "Les délais de traitement ont diminué de onze jours en moyenne sur l'année.",
]


def report(pages: int) -> list[Segment]:
    """A long administrative report: one section per page, ~330 words each."""
    segments: list[Segment] = []
    for page in range(1, pages + 1):
        title = f"Section{page:03d} Rapport annuel"
        segments.append(Segment(f"## {title}", f"h{page}", (title,)))
        for paragraph in range(3):
            text = f"Section{page:03d} paragraphe {paragraph}. " + " ".join(SENTENCES * 4)
            segments.append(Segment(text, f"p{page}-{paragraph}", (title,)))
    return segments


def engine(gateway, store, **callbacks) -> tuple[LongInputEngine, list[str]]:
    deltas: list[str] = []
    calls: list[str] = []
    defaults = {
        "on_delta": deltas.append,
        "on_call": lambda result, stage: calls.append(stage),
    }
    defaults.update(callbacks)
    return LongInputEngine(gateway, RateLimiter(Limits()), store, Callbacks(**defaults)), deltas


def test_a_300_page_report_is_mapped_in_parallel_and_reduced_in_document_order(gateway, store, fake_model):
    fake_model.configure(latency=0.05)
    progress: list[tuple[int, int]] = []
    runner, deltas = engine(gateway, store, on_progress=lambda done, total: progress.append((done, total)))
    outcome = runner.run("summarize", report(300), {}, Plan("m", chunk_tokens=8000, max_input_tokens=500_000))

    assert outcome.chunks > 20
    assert len(fake_model.requests) == len(outcome.calls) == outcome.chunks + 1  # every chunk once, one reduce
    assert fake_model.stats()["max_in_flight"] > 1  # the map ran in parallel
    parts = outcome.text.split(" | ")  # the fake answers a reduce with one reply per partial, in order
    assert len(parts) == outcome.chunks  # each chunk's summary reached the final result…
    firsts = [int(re.match(r"SECTION(\d{3})", part).group(1)) for part in parts]
    assert firsts == sorted(set(firsts))  # …in document order
    assert "".join(deltas) == outcome.text  # the final reduce streamed
    assert progress[-1][0] == progress[-1][1] == outcome.chunks + 1
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert outcome.prompt_version.startswith("summarize.reduce@")


def test_chunks_carry_their_section_heading_and_never_cut_a_block(gateway, store, fake_model):
    runner, _ = engine(gateway, store)
    runner.run("summarize", report(40), {}, Plan("m", chunk_tokens=2000, max_input_tokens=500_000))
    maps = [
        r["body"]["messages"]
        for r in fake_model.requests
        if "partie d'un document" in r["body"]["messages"][0]["content"]
    ]
    assert maps
    for messages in maps:
        assert "(section : Section" in messages[0]["content"]
        document = messages[1]["content"]
        # Every paragraph in a chunk is whole: it starts with its marker and ends with the last sentence.
        for paragraph in re.findall(r"Section\d{3} paragraphe \d\..*?(?=\n\n|\n</document)", document, re.S):
            assert paragraph.endswith(SENTENCES[-1])


def test_hierarchical_reduce_keeps_order_when_partials_do_not_fit_one_call(gateway, store, fake_model):
    runner, _ = engine(gateway, store)
    outcome = runner.run("summarize", report(60), {}, Plan("m", chunk_tokens=600, max_input_tokens=500_000))
    merges = [
        r["body"]["messages"][1]["content"]
        for r in fake_model.requests
        if "Réponds dans la langue des extraits" in r["body"]["messages"][0]["content"]
    ]
    assert merges, "partials larger than one call must be merged in intermediate steps"
    for merge in merges:  # each merge takes neighbouring partials, in document order
        partials = re.findall(r"<document-[0-9a-f]+>\n(.*?)\n</document-", merge, re.S)
        firsts = [int(re.match(r"SECTION(\d{3})", p).group(1)) for p in partials]
        assert len(firsts) >= 2 and firsts == sorted(firsts)
    assert outcome.text.startswith("SECTION001")


def test_a_retried_job_does_not_recall_finished_chunks(gateway, store, fake_model):
    plan = Plan("m", chunk_tokens=4000, max_input_tokens=500_000, max_parallel=1)
    runner, _ = engine(gateway, store)
    first_run_calls = 5
    fake_model.fail_after(first_run_calls, status=503)  # the gateway breaks after five answers
    with pytest.raises(ModelError) as caught:
        runner.run("summarize", report(50), {}, plan)
    fake_model.reset()
    assert caught.value.code == "model_unavailable" and caught.value.retryable
    assert len(store.saved) == first_run_calls

    fake_model.reset_stats()
    again, _ = engine(gateway, store)
    outcome = again.run("summarize", report(50), {}, plan)
    assert outcome.reused == first_run_calls
    assert len(fake_model.requests) == outcome.chunks + 1 - first_run_calls  # only what was missing


def test_cancellation_stops_further_calls(gateway, store, fake_model):
    answered: list[str] = []
    runner, _ = engine(
        gateway,
        store,
        on_call=lambda result, stage: answered.append(stage),
        should_cancel=lambda: len(answered) >= 3,
    )
    with pytest.raises(Cancelled):
        runner.run("summarize", report(50), {}, Plan("m", chunk_tokens=4000, max_input_tokens=500_000, max_parallel=1))
    assert len(fake_model.requests) == 3


def test_inputs_over_the_hard_limit_are_refused_before_any_call(gateway, store, fake_model):
    runner, _ = engine(gateway, store)
    with pytest.raises(ModelError) as caught:
        runner.run("summarize", report(30), {}, Plan("m", chunk_tokens=2000, max_input_tokens=10_000))
    assert caught.value.code == "input_too_large" and "10000" in caught.value.message
    assert fake_model.requests == []


def test_long_transforms_are_chunked_and_concatenated_in_order(gateway, store, fake_model):
    deltas: list[str] = []
    runner, _ = engine(gateway, store, on_delta=deltas.append)
    outcome = runner.run(
        "translate", report(20), {"language": "en"}, Plan("m", chunk_tokens=1500, max_input_tokens=500_000)
    )
    assert outcome.chunks > 2
    assert len(fake_model.requests) == outcome.chunks  # no reduce for a translation
    assert "".join(deltas) == outcome.text
    sections = [int(n) for n in re.findall(r"SECTION(\d{3})", outcome.text)]
    assert sections == sorted(sections)


def test_a_short_input_is_one_streamed_call_without_checkpoint(gateway, store, fake_model):
    runner, deltas = engine(gateway, store)
    outcome = runner.run(
        "rephrase", [Segment("Un texte court.")], {}, Plan("m", chunk_tokens=8000, max_input_tokens=10)
    )
    assert len(fake_model.requests) == 1 and outcome.chunks == 1
    assert store.saved == {}
    assert "".join(deltas) == outcome.text
