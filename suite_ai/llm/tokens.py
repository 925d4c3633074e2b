"""Token counting offline, with the tekken tokenizer that mistral-common ships (nothing downloaded).

``count_tokens`` is exact for the bundled tekken (``MistralTokenizer.v3(is_tekken=True)``), loaded
lazily once per process (≈0.7 s, ≈110 MB; thread-safe) and then ≈0.11 ms per 1,000 characters.
For models whose exact tokenizer is not bundled (newer Mistral models, Albert's) it is a close
estimate in the same family, which ``Calibration`` corrects with the ``usage`` the API reports.

``estimate_tokens`` is free (no tokenizer): ``ceil(chars / 3.5)``. Measured against tekken
(``tests/llm/data/fr_prose.txt``, 3,459 characters of French administrative prose, 761 tokens:
4.55 characters and 1.41 tokens per word): the estimate is **+30 %** over on the whole text and
between **+21 % and +41 %** per paragraph, so it errs on the safe side for prose (English:
4.6 characters/token, +32 %). It *under*-estimates text dense in digits and symbols — a markdown
table of figures is 1.5 characters/token (−56 %), URLs and code 1.7 (−51 %), Chinese 1.2 (−65 %)
— so decisions that must not overflow use ``fits`` (exact beyond a bound that is safe for any
text) rather than the estimate alone.
"""

from __future__ import annotations

import math
import threading
from typing import Any

CHARS_PER_TOKEN_ESTIMATE = 3.5  # conservative for prose; see the measurements above
CHARS_PER_TOKEN_FRENCH = 4.55  # measured: tekken on French prose

_lock = threading.Lock()
_loaded: dict[str, Any] = {}  # "chat": MistralTokenizer, "text": its raw tekken tokenizer


def _load() -> Any:
    tokenizer = _loaded.get("text")
    if tokenizer is None:
        with _lock:  # one load even when the first calls race
            if "text" not in _loaded:
                from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

                chat = MistralTokenizer.v3(is_tekken=True)
                _loaded["chat"] = chat
                _loaded["text"] = chat.instruct_tokenizer.tokenizer
            tokenizer = _loaded["text"]
    return tokenizer


def tokenizer_loaded() -> bool:
    return "text" in _loaded


def count_tokens(text: str) -> int:
    """Exact tekken count of ``text`` (no BOS/EOS)."""
    if not text:
        return 0
    return len(_load().encode(text, bos=False, eos=False))


def count_chat_tokens(messages: list[dict[str, str]]) -> int:
    """Tokens of a whole chat request as the model sees it (control tokens included; ≈ +3 per
    exchange over the sum of the texts)."""
    from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    _load()
    kinds = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
    request = ChatCompletionRequest(messages=[kinds[m["role"]](content=m["content"]) for m in messages])
    return len(_loaded["chat"].encode_chat_completion(request).tokens)


def estimate_tokens(text: str) -> int:
    """A free estimate, high for prose (+30 % on French), low for tables/code (see module doc)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)


def approximate_tokens(text: str) -> int:
    """A free unbiased guess for French/English prose (±12 % per paragraph), for accounting when
    a gateway reports no usage."""
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
