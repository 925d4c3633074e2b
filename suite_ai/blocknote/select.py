"""Pick blocks out of a document by id (the editor's selection)."""

from __future__ import annotations

from .errors import UnknownBlockIdError
from .model import Block


def select_blocks(blocks: list[Block], block_ids: list[str]) -> list[Block]:
    """The blocks with these ids, each with its children, in document order.

    A block whose ancestor is also selected is not repeated (it comes with the ancestor). Raises
    ``UnknownBlockIdError`` naming the ids the document does not hold: a stale selection must fail
    loudly rather than summarise the wrong text.
    """
    if not isinstance(block_ids, list) or not all(isinstance(block_id, str) for block_id in block_ids):
        raise UnknownBlockIdError("block_ids must be a list of block id strings.")
    wanted = set(block_ids)
    selected: list[Block] = []
    found: set[str] = set()

    def visit(items: list[Block], inside_selected: bool) -> None:
        for block in items:
            hit = block.id in wanted
            if hit:
                found.add(block.id)
                if not inside_selected:
                    selected.append(block)
            visit(block.children, inside_selected or hit)

    visit(blocks, False)
    missing = [block_id for block_id in block_ids if block_id not in found]
    if missing:
        raise UnknownBlockIdError(
            f"{len(missing)} block id(s) are not in the document: {', '.join(missing[:5])}.", block_id=missing[0]
        )
    return selected
