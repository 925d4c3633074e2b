"""Long inputs through the real SDK and the fake model: map-reduce, order, checkpoints, cancellation."""

from __future__ import annotations

import math
import re
import threading
import uuid

import pytest

from suite_ai.llm.chunking import Segment
from suite_ai.llm.config import LLMSettings
from suite_ai.llm.engine import Callbacks, Cancelled, LongInputEngine, MemoryCheckpointStore, Plan, plan_for
from suite_ai.llm.errors import ModelError
from suite_ai.llm.prompts import document_tag
from suite_ai.llm.ratelimit import Limits, RateLimiter
from tests.fakes.mistral_server import Behaviour

SENTENCES = [
    "La direction régionale présente le bilan des actions menées durant l'exercice écoulé.",
    "Les crédits consommés atteignent quatre-vingt-douze pour cent de l'enveloppe votée.",
    "Le comité souligne la hausse des demandes d'accompagnement dans les territoires ruraux.",
    "Plusieurs agents ont suivi la formation au nouvel outil de gestion des dossiers.",
    "Les délais de traitement ont diminué de onze jours en moyenne sur l'année.",
]


def report(pages: int) -> list[Segment]:
    """A long administrative report: one section per page, ~840 words (~1,200 tokens) each."""
    segments: list[Segment] = []
    for page in range(1, pages + 1):
        title = f"Section{page:03d} Rapport annuel"
        segments.append(Segment(f"## {title}", f"h{page}", (title,)))
        for paragraph in range(3):
            text = f"Section{page:03d} paragraphe {paragraph}. " + " ".join(SENTENCES * 4)
            segments.append(Segment(text, f"p{page}-{paragraph}", (title,)))
    return segments


def sections_in(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"SECTION(\d{3})", text)]


class Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.deltas: list[str] = []
        self.stages: list[str] = []
        self.progress: list[tuple[int, int]] = []
        self.cancel_after = cancel_after
        self.lock = threading.Lock()

    def callbacks(self) -> Callbacks:
        def on_call(call):
            with self.lock:
                self.stages.append(call.stage)

        def on_progress(done, total):
            with self.lock:
                self.progress.append((done, total))

        return Callbacks(
            on_delta=self.deltas.append,
            on_call=on_call,
            on_progress=on_progress,
            should_cancel=lambda: self.cancel_after is not None and len(self.stages) >= self.cancel_after,
        )


def engine(gateway, store, recorder: Recorder | None = None, limiter: RateLimiter | None = None) -> LongInputEngine:
    return LongInputEngine(gateway, limiter or RateLimiter(Limits()), store, (recorder or Recorder()).callbacks())


def test_a_300_page_report_is_mapped_in_parallel_and_reduced_in_document_order(gateway, store, fake_model):
    fake_model.configure(latency=0.05)
    recorder = Recorder()
    outcome = engine(gateway, store, recorder).run(
        "summarize", report(300), {}, Plan("m", chunk_tokens=8000, max_input_tokens=500_000)
    )

    assert outcome.chunks > 40
    usage = outcome.usage.to_dict()
    assert len(fake_model.requests) == usage["calls"] == outcome.chunks + 1  # every chunk once, one reduce
    assert recorder.stages.count("map") == outcome.chunks and recorder.stages[-1] == "reduce"
    # The map ran in parallel, never above max_parallel (how close to it depends on the machine's load).
    assert 2 <= fake_model.stats()["max_in_flight"] <= 16
    parts = outcome.text.split(" | ")  # the fake answers a reduce with one reply per partial, in order
    assert len(parts) == outcome.chunks  # each chunk's summary reached the final result…
    firsts = [sections_in(part)[0] for part in parts]
    assert firsts == sorted(firsts) and firsts[0] == 1  # …in document order
    assert sections_in(outcome.text)[-1] >= 290  # the end of the document was read too
    assert "".join(recorder.deltas) == outcome.text  # the final reduce streamed
    assert outcome.first_delta_ms is not None
    assert recorder.progress[-1] == (outcome.chunks + 1, outcome.chunks + 1)
    assert [done for done, _ in recorder.progress] == sorted(done for done, _ in recorder.progress)
    assert outcome.prompt_version.startswith("summarize.reduce@")
    assert usage["reused_calls"] == 0
    assert usage["by_stage"]["map"]["calls"] == outcome.chunks
    assert usage["prompt_tokens"] == sum(c.prompt_tokens for c in outcome.usage.calls) > 300 * 1000
    # Map prompts carry the document once: tokens sent stay close to the document's size.
    map_chars = sum(len(r["body"]["messages"][1]["content"]) for r in fake_model.requests[:-1])
    document_chars = sum(len(s.text) + 2 for s in report(300))
    assert document_chars <= map_chars <= document_chars * 1.05


def test_chunks_carry_their_section_heading_and_never_cut_a_block(gateway, store, fake_model):
    outcome = engine(gateway, store).run(
        "summarize", report(40), {}, Plan("m", chunk_tokens=2000, max_input_tokens=500_000)
    )
    maps = [
        r["body"]["messages"] for r in fake_model.requests if "est une partie (" in r["body"]["messages"][0]["content"]
    ]
    assert len(maps) == outcome.chunks > 10
    for messages in maps:
        document = re.search(r"<(document-[0-9a-f]+)>\n(.*)\n</\1>", messages[1]["content"], re.S).group(2)
        # The heading is the delimited part's first line, never in the instructions (issue #13).
        assert re.match(r"Section : Section\d{3} Rapport annuel\n\n", document)
        assert "Rapport annuel" not in messages[0]["content"]
        for paragraph in document.split("\n\n"):  # whole blocks only
            assert paragraph.startswith(("## Section", "Section")) and paragraph.endswith(("annuel", SENTENCES[-1]))


def test_hierarchical_reduce_keeps_order_when_partials_do_not_fit_one_call(gateway, store, fake_model):
    recorder = Recorder()
    outcome = engine(gateway, store, recorder).run(
        "summarize", report(20), {}, Plan("m", chunk_tokens=500, max_input_tokens=500_000)
    )
    merges = [
        r["body"]["messages"][1]["content"]
        for r in fake_model.requests
        if "Fusionne-les" in r["body"]["messages"][0]["content"]
    ]
    assert merges, "partials larger than one call must be merged in intermediate steps"
    assert outcome.levels >= 1 and recorder.stages.count("reduce") == 1
    assert outcome.levels <= math.ceil(math.log2(outcome.chunks))  # each level at least halves them: log depth
    assert len(merges) < outcome.chunks
    for merge in merges:  # each merge takes neighbouring partials, in document order
        partials = re.findall(r"<document-[0-9a-f]+>\n(.*?)\n</document-", merge, re.S)
        firsts = [sections_in(p)[0] for p in partials]
        assert len(firsts) >= 2 and firsts == sorted(firsts)
    assert sections_in(outcome.text)[0] == 1
    assert len(fake_model.requests) == outcome.chunks + len(merges) + 1


def test_a_retried_job_does_not_recall_finished_chunks(gateway, store, fake_model):
    plan = Plan("m", chunk_tokens=4000, max_input_tokens=500_000, max_parallel=1)
    fake_model.fail_after(5, status=503)  # the gateway breaks after five answers
    with pytest.raises(ModelError) as caught:
        engine(gateway, store).run("summarize", report(50), {}, plan)
    assert caught.value.code == "model_unavailable" and caught.value.retryable
    assert len(store.saved) == 5
    fake_model.reset()

    recorder = Recorder()
    outcome = engine(gateway, store, recorder).run("summarize", report(50), {}, Plan(**{**plan.__dict__, "attempt": 2}))
    assert len(fake_model.requests) == outcome.chunks + 1 - 5  # only what was missing
    sent = {document_tag(r["body"]["messages"][1]["content"]) for r in fake_model.requests}
    assert len(sent) == len(fake_model.requests)  # and nothing twice
    usage = outcome.usage.to_dict()
    assert usage["reused_calls"] == 5 and usage["calls"] == outcome.chunks + 1 - 5
    assert {c.attempts for c in outcome.usage.paid} == {2}
    assert len(recorder.stages) == usage["calls"]  # the job's ledger gets the calls paid, not those reused

    fake_model.reset_stats()  # a third run with everything checkpointed re-sends nothing at all
    recorder = Recorder()
    again = engine(gateway, store, recorder).run("summarize", report(50), {}, plan)
    assert fake_model.requests == [] and again.text == outcome.text
    assert "".join(recorder.deltas) == again.text  # the saved final answer is still streamed


def test_a_failing_chunk_raises_its_code_and_keeps_the_others(gateway, store, fake_model):
    fake_model.when("Section007", Behaviour(kind="status", status=429, retry_after=12), times=1)
    with pytest.raises(ModelError) as caught:
        engine(gateway, store).run("summarize", report(30), {}, Plan("m", chunk_tokens=1500, max_input_tokens=500_000))
    assert (caught.value.code, caught.value.retry_after) == ("model_rate_limited", 12.0)
    assert len(store.saved) >= 1  # the chunks that finished are kept for the retry


def test_cancellation_stops_further_calls(gateway, store, fake_model):
    recorder = Recorder(cancel_after=3)
    with pytest.raises(Cancelled):
        engine(gateway, store, recorder).run(
            "summarize", report(50), {}, Plan("m", chunk_tokens=4000, max_input_tokens=500_000, max_parallel=1)
        )
    assert len(fake_model.requests) == 3


def test_cancellation_in_parallel_stops_the_calls_not_yet_started(gateway, store, fake_model):
    fake_model.configure(latency=0.2)
    recorder = Recorder(cancel_after=1)
    with pytest.raises(Cancelled):
        engine(gateway, store, recorder).run(
            "summarize", report(100), {}, Plan("m", chunk_tokens=2000, max_input_tokens=500_000, max_parallel=4)
        )
    assert len(fake_model.requests) <= 8  # the first wave (4) and at most one more each, out of ~60 chunks


def test_inputs_over_the_hard_limit_are_refused_before_any_call(gateway, store, fake_model):
    with pytest.raises(ModelError) as caught:
        engine(gateway, store).run("summarize", report(30), {}, Plan("m", chunk_tokens=2000, max_input_tokens=10_000))
    assert caught.value.code == "input_too_large" and "10000" in caught.value.message and not caught.value.retryable
    assert fake_model.requests == []


def test_long_transforms_are_chunked_and_concatenated_in_order(gateway, store, fake_model):
    fake_model.configure(latency=0.02, jitter=0.02)  # chunks finish out of order…
    recorder = Recorder()
    outcome = engine(gateway, store, recorder).run(
        "translate", report(20), {"language": "en"}, Plan("m", chunk_tokens=1500, max_input_tokens=500_000)
    )
    assert outcome.chunks > 10
    assert len(fake_model.requests) == outcome.chunks  # no reduce for a translation
    assert "".join(recorder.deltas) == outcome.text  # …but stream in document order
    firsts = [sections_in(part)[0] for part in outcome.text.split("\n\n")]
    assert len(firsts) == outcome.chunks and firsts == sorted(firsts)
    assert "Traduis le texte en English (en)" in fake_model.requests[0]["body"]["messages"][0]["content"]
    assert outcome.prompt_version.startswith("translate@")


def test_a_short_input_is_one_streamed_call_without_checkpoint(gateway, store, fake_model):
    recorder = Recorder()
    outcome = engine(gateway, store, recorder).run(
        "rephrase",
        [Segment("Un texte court.", "b1")],
        {"lang": "en"},
        Plan("m", chunk_tokens=8000, max_input_tokens=100),
    )
    assert len(fake_model.requests) == 1 and outcome.chunks == 1
    assert store.saved == {}
    assert "".join(recorder.deltas) == outcome.text == "UN TEXTE COURT"
    assert recorder.progress == [(0, 1), (1, 1)]
    assert fake_model.requests[0]["body"]["messages"][0]["content"].startswith("You are")
    assert outcome.prompt_version.startswith("rephrase@") and outcome.usage.to_dict()["ttft_ms"] is not None


def test_a_single_call_over_the_rate_limit_is_handed_back_not_waited_for(gateway, store, fake_model):
    limiter = RateLimiter(Limits(requests_per_minute=1), prefix=f"test:{uuid.uuid4()}")
    runner = LongInputEngine(gateway, limiter, store)
    runner.run("correct", [Segment("Texte.", "x")], {}, Plan("m"))
    with pytest.raises(ModelError) as caught:
        LongInputEngine(gateway, limiter, store).run("correct", [Segment("Texte.", "x")], {}, Plan("m"))
    assert caught.value.code == "model_rate_limited" and caught.value.retry_after > 50
    assert len(fake_model.requests) == 1


def test_the_map_fan_out_waits_for_the_limiter_within_a_bound(gateway, store, fake_model):
    limiter = RateLimiter(Limits(requests_per_minute=4, period_s=0.5), prefix=f"test:{uuid.uuid4()}")
    outcome = LongInputEngine(gateway, limiter, store).run(
        "summarize", report(12), {}, Plan("m", chunk_tokens=2000, max_input_tokens=500_000)
    )
    starts = sorted(r["at"] for r in fake_model.requests)
    assert len(starts) == outcome.chunks + 1 > 8
    for i in range(len(starts) - 4):
        assert starts[i + 4] - starts[i] >= 0.45  # never more than 4 calls in any half second
    tight = RateLimiter(Limits(requests_per_minute=2, period_s=60), prefix=f"test:{uuid.uuid4()}")
    fake_model.reset_stats()
    with pytest.raises(ModelError) as caught:
        LongInputEngine(gateway, tight, MemoryCheckpointStore()).run(
            "summarize", report(12), {}, Plan("m", chunk_tokens=2000, max_input_tokens=500_000, rate_limit_wait=0.2)
        )
    assert caught.value.code == "model_rate_limited" and caught.value.retryable
    assert len(fake_model.requests) == 2  # the limit held: the job goes back to the queue


def test_plan_from_settings_picks_the_long_model_for_notes(settings_for, gateway, store, fake_model):
    settings = settings_for(model="small-model", model_long="large-model", chunk_tokens=3000)
    plan = plan_for(settings, "note")
    engine(gateway, store).run("note", report(10), {}, plan)
    assert {r["body"]["model"] for r in fake_model.requests} == {"large-model"}
    assert len(fake_model.requests) > 2
    assert isinstance(settings, LLMSettings)
