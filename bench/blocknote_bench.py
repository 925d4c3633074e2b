"""suite_ai.blocknote against @blocknote/server-util, on the same documents, in one run.

    .venv/bin/python bench/blocknote_bench.py [--sizes 1000 10000] [--repeat 5] [--version 0.55]

Measures markdown → Yjs update, Yjs update → markdown (same update bytes for both sides: the one
BlockNote wrote), and an incremental append of 10 blocks through ``insert_blocks_update`` (the state
is loaded by the call), next to loading that state alone. Node times are taken inside Node (no pipe
overhead); medians of ``--repeat`` runs. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import suite_ai.blocknote as bn  # noqa: E402
from tests.interop.harness import VERSIONS, NodeHarness  # noqa: E402


def make_markdown(blocks: int) -> str:
    """French administrative prose with the usual structure: ~`blocks` top-level blocks."""
    parts: list[str] = []
    section = 0
    while len(parts) < blocks:
        section += 1
        parts.append(f"## {section}. Dispositions relatives au service n° {section}")
        parts.append(
            f"Le service a instruit **{section * 7} dossiers** au cours de la période, avec un délai *moyen* "
            f"de {section % 30 + 5} jours, conformément à la [circulaire](https://www.legifrance.gouv.fr/c/{section})."
        )
        parts.append(f"- Point d'attention n° {section}\n- Échéance : le {section % 28 + 1} juin")
        parts.append(f"1. Étape préalable\n2. Validation par la direction {section}")
        if section % 10 == 0:
            parts.append("> Rappel : toute demande incomplète est retournée à l'usager 📨")
            parts.append("| Indicateur | Valeur |\n|---|---:|\n| Dossiers | 42 |\n| Délai | 12 j |")
    return "\n\n".join(parts[:blocks])


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def append_ms(update: bytes, repeat: int) -> tuple[float, float, int]:
    """Median times of ``insert_blocks_update`` of 10 blocks at the end, and of ``load_doc`` alone; diff size."""
    new_blocks = bn.markdown_to_blocks(
        "\n\n".join(f"Paragraphe ajouté par l'assistant n° {i} avec du **gras** 🚀" for i in range(10))
    )
    size = len(bn.insert_blocks_update(update, new_blocks).update)
    edit = median_ms(lambda: bn.insert_blocks_update(update, new_blocks), repeat)
    load = median_ms(lambda: bn.load_doc(update), repeat)
    return edit, load, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--version", default="0.55", choices=list(VERSIONS))
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str, str]] = []
    appends: dict[int, tuple[float, float]] = {}
    with NodeHarness(args.version) as node:
        for size in args.sizes:
            markdown = make_markdown(size)
            repeat = args.repeat if size <= 2000 else max(2, args.repeat // 2)
            node_result = node.call("bench", schema="docs", markdown=markdown, update=None, repeat=repeat)
            update = base64.b64decode(node_result["update"])  # what BlockNote writes: input for both readers
            blocks = len(bn.read_update(update).blocks)
            py_to_update = median_ms(lambda: bn.markdown_to_update(markdown), repeat)  # noqa: B023
            py_to_markdown = median_ms(lambda: bn.update_to_markdown(update), repeat)  # noqa: B023
            node_to_update = statistics.median(node_result["markdown_to_update_ms"])
            node_to_markdown = statistics.median(node_result["update_to_markdown_ms"])
            label = f"{size} md blocks ({blocks} blocks, {len(update) // 1024} KiB)"
            rows.append(
                (
                    "markdown → Yjs update",
                    label,
                    f"{py_to_update:.1f}",
                    f"{node_to_update:.1f}",
                    f"{node_to_update / py_to_update:.1f}×",
                )
            )
            rows.append(
                (
                    "Yjs update → markdown",
                    label,
                    f"{py_to_markdown:.1f}",
                    f"{node_to_markdown:.1f}",
                    f"{node_to_markdown / py_to_markdown:.1f}×",
                )
            )
            appended, loaded, diff_bytes = append_ms(update, max(7, args.repeat))
            appends[size] = (appended, loaded)
            rows.append(
                ("append 10 blocks (load + edit)", f"{label}, diff {diff_bytes} B", f"{appended:.2f}", "-", "-")
            )
            rows.append(("  of which: load_doc", label, f"{loaded:.2f}", "-", "-"))

    headers = ("operation", "document", "python ms", f"server-util {args.version} ms", "python faster")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))
    if len(appends) > 1:
        sizes = sorted(appends)
        edits = [appends[n][0] - appends[n][1] for n in (sizes[0], sizes[-1])]
        print(
            f"\nappend of 10 blocks without the load: {edits[0]:.2f} ms at {sizes[0]} vs {edits[1]:.2f} ms at "
            f"{sizes[-1]} blocks (what grows is the one index walk pycrdt makes to place the first block)"
        )
    print("medians; Node timed inside Node; machine load affects both sides")


if __name__ == "__main__":
    main()
