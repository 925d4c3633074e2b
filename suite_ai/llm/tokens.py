"""Token counting offline, with the tekken tokenizer that mistral-common ships (nothing downloaded).

Loading it costs about a second and 100 MB, once per process, on first use. The bundled tekken
is Mistral's current tokenizer family; for models whose exact tokenizer is not bundled it is an
estimate, which ``Calibration`` corrects with the ``usage`` the API reports.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

# French prose measures about 4.4 characters per tekken token; 3.5 errs on the side of more tokens,
# so an estimate never lets a chunk overflow the context window.
CHARS_PER_TOKEN_ESTIMATE = 3.5

_lock = threading.Lock()


@functools.cache
def _load() -> Any:
    with _lock:  # one load even when the first calls race
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

        return MistralTokenizer.v3(is_tekken=True).instruct_tokenizer.tokenizer


def count_tokens(text: str) -> int:
    """Exact tekken count."""
    if not text:
        return 0
    return len(_load().encode(text, bos=False, eos=False))


def estimate_tokens(text: str) -> int:
    """A cheap upper estimate, for places where a count is only a safety margin."""
    return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)


class Calibration:
    """Running ratio of tokens the API billed to tokens we counted, per model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counted: dict[str, int] = {}
        self._billed: dict[str, int] = {}

    def observe(self, model: str, counted: int, billed: int) -> None:
        if counted <= 0 or billed <= 0:
            return
        with self._lock:
            self._counted[model] = self._counted.get(model, 0) + counted
            self._billed[model] = self._billed.get(model, 0) + billed

    def ratio(self, model: str) -> float:
        with self._lock:
            counted = self._counted.get(model, 0)
            return self._billed.get(model, 0) / counted if counted else 1.0

    def adjust(self, model: str, counted: int) -> int:
        return math.ceil(counted * max(1.0, self.ratio(model)))


CALIBRATION = Calibration()
