"""CPU per streamed model call through the gateway, with and without each SDK patch.

Each patch of ``suite_ai/llm/sdk_speedup.py`` is switched off in turn (the others on), and the
whole set is compared with the stock SDK. The configurations are interleaved: every round runs
each of them once, in a shuffled order, on the same warm process, so drift of the shared machine
hits them all alike; the figure for a configuration is the median over rounds of its CPU per call
divided by the all-patches CPU of the same round.

The client side only: the fake model (tests/fakes/mistral_server.py) runs in its own process and
answers at once. Two stream shapes: the fake's default (a role chunk, 8 content chunks, a final
chunk; what the service benchmark's jobs get) and one event per word (about 60 events, how
Mistral streams tokens). The process's garbage collector is settled as a worker's is.

Usage: .venv/bin/python bench/sdk_bench.py [--rounds 15] [--calls 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.performance_doc import sdk_block  # noqa: E402
from suite_ai.llm import gateway as gateway_module  # noqa: E402
from suite_ai.llm import sdk_speedup  # noqa: E402
from suite_ai.llm.config import LLMSettings  # noqa: E402
from suite_ai.llm.gateway import Gateway  # noqa: E402
from suite_ai.llm.prompts import build_prompt  # noqa: E402
from suite_ai.runtime import settle_garbage_collector  # noqa: E402
from tests.support.processes import ManagedProcess, free_port  # noqa: E402

# The gateway's own speed-up, measured with the patches' (absent if the gateway drops it).
_MESSAGE_MODELS = getattr(gateway_module, "_sdk_messages", None)

API_KEY = "bench-sdk-key"
ALL, STOCK = "all patches", "stock SDK"
WITHOUT_MESSAGE_MODELS = "without the gateway's message models"
TEXT = (
    "La réunion du comité de pilotage a permis de faire le point sur l'avancement du projet. "
    "Les équipes ont présenté les résultats de la phase de test auprès des agents, qui sont "
    "globalement positifs, et les prochaines étapes ont été validées : ouverture à trois "
    "nouveaux ministères, formation des référents et mise à jour de la documentation. "
) * 3


def _fake_model(chunks: int, log_dir: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.mistral_server", "--port", str(port), "--latency", "0",
               "--chunks", str(chunks), "--api-key", API_KEY]  # fmt: skip
    process = ManagedProcess(f"sdk-bench-model-{chunks}", command, dict(os.environ), log_dir)
    process.wait_for_log("fake Mistral on")
    return process, f"http://127.0.0.1:{port}"


def configure(name: str) -> None:
    """All patches but the one named, or none (the stock SDK); the gateway's own message models
    (``_sdk_messages``) are measured the same way, all patches on, passing the SDK plain dicts."""
    sdk_speedup.uninstall()
    if _MESSAGE_MODELS is not None:
        gateway_module._sdk_messages = _MESSAGE_MODELS if name != WITHOUT_MESSAGE_MODELS else _plain_dicts
    if name == STOCK:
        return
    for patch in sdk_speedup.PATCHES:
        if name != f"without {patch.name}":
            patch.apply()


def _plain_dicts(messages: list[dict[str, str]]) -> list[Any]:
    return list(messages)


def cpu_per_call(gateway: Gateway, messages: list[dict[str, str]], calls: int) -> float:
    """CPU milliseconds of this process per streamed call (the model answers from another process)."""
    deltas: list[str] = []
    started = time.process_time()
    for _ in range(calls):
        result = gateway.stream_chat(messages, model="bench-model", on_delta=deltas.append)
        assert result.finish_reason == "stop"
    return (time.process_time() - started) / calls * 1000


def measure(url: str, rounds: int, calls: int, seed: int) -> dict[str, Any]:
    gateway = Gateway(LLMSettings(api_key=API_KEY, server_url=url, timeout_s=10.0))
    messages = build_prompt("rephrase", TEXT).messages
    names = [ALL, STOCK, *(f"without {patch.name}" for patch in sdk_speedup.PATCHES)]
    if _MESSAGE_MODELS is not None:
        names.append(WITHOUT_MESSAGE_MODELS)
    rng = random.Random(seed)
    for name in names:  # warm-up: imports, connections, every configuration's first calls
        configure(name)
        cpu_per_call(gateway, messages, 3)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        order = names[:]
        rng.shuffle(order)
        for name in order:
            configure(name)
            samples[name].append(cpu_per_call(gateway, messages, calls))
    configure(ALL)
    gateway.close()
    ratios = {name: [value / base for value, base in zip(samples[name], samples[ALL], strict=True)] for name in names}
    return {
        name: {
            "cpu_ms_median": statistics.median(samples[name]),
            "ratio_to_all_median": statistics.median(ratios[name]),
            "ratio_to_all_min": min(ratios[name]),
            "ratio_to_all_max": max(ratios[name]),
        }
        for name in names
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=40, help="streamed calls per configuration and round")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not sdk_speedup.install():
        sys.exit(f"mistralai {sdk_speedup.sdk_version()} is not {sdk_speedup.WRITTEN_FOR}: nothing to compare")
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    settle_garbage_collector()
    results: dict[str, Any] = {}
    for shape, chunks in (("8 content chunks", 8), ("one event per word", 64)):
        process, url = _fake_model(chunks, log_dir)
        try:
            results[shape] = measure(url, args.rounds, args.calls, args.seed)
        finally:
            process.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print()
    print(sdk_block(results))


if __name__ == "__main__":
    main()
