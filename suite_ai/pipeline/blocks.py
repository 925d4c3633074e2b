"""BlockNote inputs and outputs of actions (blocks JSON, Yjs documents), via suite_ai.blocknote."""

from __future__ import annotations

from typing import Any


def _error(code: str, message: str, status: int = 400) -> Exception:
    from suite_ai.pipeline.requests import ActionRequestError

    return ActionRequestError(code, message, status)


def validate_blocks_input(blocks: Any) -> dict[str, Any]:
    raise _error("unsupported_input", "input.blocks is not supported yet; send input.markdown.")


def validate_ydoc_input(ydoc: Any, block_ids: Any) -> dict[str, Any]:
    raise _error("unsupported_input", "input.ydoc is not supported yet; send input.markdown.")


def source_from_blocknote_input(job_input: dict[str, Any]) -> Any:
    from suite_ai.pipeline.context import JobFailure

    raise JobFailure("unsupported_input", "BlockNote inputs are not supported yet.")
