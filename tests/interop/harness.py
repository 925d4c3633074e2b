"""Drive the real BlockNote/Yjs libraries (tests/interop/harness.mjs) from Python.

One Node process per BlockNote version serves a whole test session over JSON lines, because loading
server-util costs far more than any request. Used by the interop tests and by bench/blocknote_bench.py.
Versions: 0.51 (La Suite Docs 5.4.1's pin), 0.54 and 0.55; see tests/interop/package.json.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

INTEROP_DIR = Path(__file__).resolve().parent
VERSIONS = ("0.51", "0.54", "0.55")
INSTALL_COMMAND = ["npm", "ci", "--legacy-peer-deps", "--no-audit", "--no-fund", "--loglevel=error"]


class HarnessError(RuntimeError):
    pass


def ensure_node_modules() -> None:
    """Install the pinned packages (package-lock.json) if a fresh checkout has none yet."""
    if (INTEROP_DIR / "node_modules" / ".package-lock.json").exists():
        return
    if shutil.which("npm") is None:
        raise HarnessError("npm is not installed; the interop tests need Node 20+ and npm.")
    subprocess.run(INSTALL_COMMAND, cwd=INTEROP_DIR, check=True, timeout=600)


class NodeHarness:
    """A JSON-lines client for one harness.mjs process (one BlockNote version). Not thread-safe."""

    def __init__(self, version: str = "0.55", *, timeout: float = 120.0) -> None:
        if version not in VERSIONS:
            raise HarnessError(f"unknown BlockNote version {version!r}; known: {VERSIONS}")
        self.version = version
        ensure_node_modules()
        node = shutil.which("node")
        if node is None:
            raise HarnessError("node is not installed; the interop tests need Node 20+.")
        self.timeout = timeout
        self._next_id = 0
        self._stderr: list[str] = []
        self.process = subprocess.Popen(
            [node, str(INTEROP_DIR / "harness.mjs"), version],
            cwd=INTEROP_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        ready = self._read_line()
        if not ready.get("ok"):
            raise HarnessError(f"harness did not start: {ready}")
        self.core_version = ready["result"]["core"]

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)
            del self._stderr[:-200]

    def _read_line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.timeout)
        if not result or not result[0]:
            raise HarnessError("harness.mjs stopped answering.\n" + "".join(self._stderr[-30:]))
        return json.loads(result[0])

    def call(self, op: str, **params: Any) -> Any:
        self._next_id += 1
        request = {"id": self._next_id, "op": op, "version": self.version, **params}
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        response = self._read_line()
        if response.get("id") != self._next_id:
            raise HarnessError(f"out-of-order response {response.get('id')} for {self._next_id}")
        if not response.get("ok"):
            raise HarnessError(f"{op} failed in Node:\n{response.get('error')}")
        return response["result"]

    # -- conveniences (updates travel as base64) --

    def to_blocks(self, update: bytes, *, schema: str = "docs") -> dict[str, Any]:
        """``yDocToBlocks(doc, "document-store")`` + whether reading mutated the shared doc."""
        result = self.call("to_blocks", schema=schema, update=_b64(update))
        result["update"] = base64.b64decode(result["update"])
        return result

    def to_ydoc(self, blocks: list[dict[str, Any]], *, schema: str = "docs") -> bytes:
        """``blocksToYDoc(blocks, "document-store")`` → full update."""
        return base64.b64decode(self.call("to_ydoc", schema=schema, blocks=blocks)["update"])

    def xml(self, update: bytes) -> str:
        """The document's XML tree, attributes sorted: equal trees give equal strings."""
        return str(self.call("xml", update=_b64(update))["xml"])

    def human_edit(self, update: bytes, edits: list[dict[str, Any]], *, schema: str = "docs") -> bytes:
        """An edit made the editor's way (blocks → PM doc → updateYFragment); returns its diff."""
        result = self.call("human_edit", schema=schema, update=_b64(update), edits=edits)
        return base64.b64decode(result["update"])

    def merge(
        self, updates: list[bytes], orders: list[list[int]] | None = None, *, schema: str = "docs"
    ) -> dict[str, Any]:
        """Replicas fed ``updates`` in each order (Yjs), plus ``Y.mergeUpdates``; canonical XML of each."""
        result = self.call("merge", schema=schema, updates=[_b64(u) for u in updates], orders=orders)
        result["read"]["update"] = base64.b64decode(result["read"]["update"])
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> NodeHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class HarnessPool:
    """One NodeHarness per BlockNote version, started on first use, closed together."""

    def __init__(self) -> None:
        self._harnesses: dict[str, NodeHarness] = {}

    def __getitem__(self, version: str) -> NodeHarness:
        if version not in self._harnesses:
            self._harnesses[version] = NodeHarness(version)
        return self._harnesses[version]

    def close(self) -> None:
        for harness in self._harnesses.values():
            harness.close()
        self._harnesses.clear()
