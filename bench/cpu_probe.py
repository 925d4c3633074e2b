"""Runs a service process (``-m uvicorn …`` or ``-m celery …``) counting the CPU spent in some of
its functions, for bench/cpu_budget.py.

Usage: python bench/cpu_probe.py OUT.json FUNCTION[,FUNCTION…] -m MODULE [ARGS…]

Each FUNCTION (``package.module:Class.method`` or ``package.module:function``) is wrapped so that
the CPU time of the calling thread (``time.thread_time``) spent inside it, and its calls, add up;
nested functions count in both (inclusive). Only synchronous functions: a coroutine's thread time
would count whatever the loop ran meanwhile. The totals are written to OUT.json every half second
(replaced atomically), so the benchmark reads them before and after what it measures.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import runpy
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_totals: dict[str, list[float]] = {}
_lock = threading.Lock()


def _counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def counted(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            with _lock:
                total = _totals.setdefault(name, [0.0, 0])
                total[0] += spent
                total[1] += 1

    return counted


def wrap(name: str) -> None:
    module_name, _, path = name.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, attribute = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    setattr(owner, attribute, _counted(name, getattr(owner, attribute)))


def _write_forever(out: Path) -> None:
    while True:
        time.sleep(0.5)
        with _lock:
            text = json.dumps({name: {"cpu_s": cpu, "calls": calls} for name, (cpu, calls) in _totals.items()})
        out.with_suffix(".tmp").write_text(text)
        os.replace(out.with_suffix(".tmp"), out)


def main() -> None:
    out, functions, flag, module, *args = sys.argv[1:]
    if flag != "-m":
        sys.exit(__doc__)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
    import django

    django.setup(set_prefix=False)  # the service's modules import models: the app registry first
    for name in functions.split(","):
        wrap(name)
    threading.Thread(target=_write_forever, args=(Path(out),), daemon=True, name="cpu-probe").start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
