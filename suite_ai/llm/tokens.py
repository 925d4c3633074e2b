"""Token counting offline, with the tekken tokenizer that mistral-common ships (nothing downloaded).

``count_tokens`` is exact for the bundled tekken (``MistralTokenizer.v3(is_tekken=True)``), loaded
lazily once per process and only when a text is long enough to need it, because loading it takes
noticeable time and memory (thread-safe). For models whose exact tokenizer is not bundled (newer
Mistral models, Albert's) it is a close estimate in the same family, which ``Calibration``
corrects with the ``usage`` the API reports.

``estimate_tokens`` is free (no tokenizer): ``ceil(chars / 3.5)``, a ratio chosen below what
tekken gives for French and English prose so that the estimate errs high there (the error on the
test corpus is checked by tests/llm/test_text.py). Text dense in digits, symbols, code or
non-Latin scripts has far fewer characters per token and is *under*-estimated, so decisions that
must not overflow use ``fits`` (exact beyond a bound that is safe for any text) rather than the
estimate alone.
"""

from __future__ import annotations

import math
import threading
from typing import Any

CHARS_PER_TOKEN_ESTIMATE = 3.5  # below prose's ratio, so that the free estimate errs high on prose
CHARS_PER_TOKEN_FRENCH = 4.55  # tekken's ratio on French prose, so that accounting without usage is unbiased

_lock = threading.Lock()
_loaded: dict[str, Any] = {}  # "text": the raw tekken tokenizer, once loaded


def _load() -> Any:
    tokenizer = _loaded.get("text")
    if tokenizer is None:
        with _lock:  # one load even when the first calls race
            if "text" not in _loaded:
                from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

                _loaded["text"] = MistralTokenizer.v3(is_tekken=True).instruct_tokenizer.tokenizer
            tokenizer = _loaded["text"]
    return tokenizer


def count_tokens(text: str) -> int:
    """Exact tekken count of ``text`` (no BOS/EOS)."""
    if not text:
        return 0
    return len(_load().encode(text, bos=False, eos=False))


def estimate_tokens(text: str) -> int:
    """A free estimate: high for prose, low for tables and code (see the module's docstring)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)


def approximate_tokens(text: str) -> int:
    """A free guess, neither high nor low on average for French/English prose, for accounting when a
    gateway reports no usage (where a safe bound would over-bill the user)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN_FRENCH)


def fits(text: str, budget: int) -> bool:
    """Whether ``text`` is at most ``budget`` tokens. A byte-level BPE token covers at least one
    UTF-8 byte, so a text of at most ``budget`` bytes fits without loading the tokenizer (a typical
    selection); longer texts are counted exactly."""
    if len(text) * 4 <= budget or len(text.encode("utf-8", "surrogatepass")) <= budget:
        return True
    return count_tokens(text) <= budget


class Calibration:
    """Running ratio of tokens the API billed to tokens we counted (or estimated), per model."""

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
        """Billed / counted so far; 1.0 before any observation."""
        with self._lock:
            counted = self._counted.get(model, 0)
            return self._billed.get(model, 0) / counted if counted else 1.0

    def adjust(self, model: str, counted: int) -> int:
        """``counted`` scaled up when the API bills more than we count (never scaled down)."""
        return math.ceil(counted * max(1.0, self.ratio(model)))


CALIBRATION = Calibration()
