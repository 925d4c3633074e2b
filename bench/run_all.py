"""``make bench``: every benchmark, one after the other (they measure CPU: never in parallel)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("service_bench.py", "sse_bench.py", "llm_bench.py", "blocknote_bench.py"):
    print(f"\n## {script}\n", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *(["--workers", "2"] if script == "service_bench.py" else [])],
                   check=True)  # fmt: skip
