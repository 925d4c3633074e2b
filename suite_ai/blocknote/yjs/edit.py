"""Edit an existing BlockNote document: its current state in, the incremental update of the edit out.

The update is built on the given state, so merging it keeps every concurrent human edit (it is a
CRDT update like the editor's own) and the document keeps its one root blockGroup. A freshly
written document merged into one that clients hold would instead add a second root blockGroup,
and its text would be invisible.

Each edit validates all its blocks before it writes, so an invalid block never leaves a half
edit. pycrdt places the first new blockContainer (it resolves the index in one walk of the parent);
the rest is encoded as items chained after it, so the walk is done once, not once per block.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from pycrdt import Doc, XmlElement, merge_updates

from ..errors import InvalidEditError, UnknownBlockIdError
from ..model import Block, iter_blocks
from ..schema import DOCS_SCHEMA, Schema, validate_blocks
from .guard import UpdateLimits
from .layout import BLOCK_CONTAINER, BLOCK_GROUP, DEFAULT_MAX_UPDATE_BYTES, FRAGMENT_NAME
from .pycrdt_adapter import integrate_local_items, last_local_item, local_encoder
from .read import Anomaly, document_store, load_doc, read_doc
from .write import BlockWriter, empty_paragraph, with_fresh_ids

_NO_CHANGE = b"\x00\x00"


@dataclass(slots=True)
class EditResult:
    """An incremental Yjs update (diff against the state before the edit) and the blocks it wrote."""

    update: bytes
    block_ids: list[str]
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def update_base64(self) -> str:
        return base64.b64encode(self.update).decode("ascii")


def insert_blocks_update(
    update: bytes,
    blocks: list[Block],
    *,
    after: str | None = None,
    keep_ids: bool = False,
    schema: Schema = DOCS_SCHEMA,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
    limits: UpdateLimits | None = None,
) -> EditResult:
    """Insert ``blocks`` after block ``after`` (same parent), or at the end of the document when None.

    The blocks get new UUID v4 ids unless ``keep_ids``; kept ids must not clash with the document's.
    An empty document gets its root blockGroup here: only write into an empty document that no
    other client is initialising at the same time.
    """
    return _Editor(load_doc(update, max_bytes=max_bytes, limits=limits), schema).insert(blocks, after, keep_ids)


def replace_blocks_update(
    update: bytes,
    first_id: str,
    last_id: str | None,
    blocks: list[Block],
    *,
    keep_ids: bool = False,
    schema: Schema = DOCS_SCHEMA,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
    limits: UpdateLimits | None = None,
) -> EditResult:
    """Replace the sibling range ``first_id``…``last_id`` (inclusive, same parent; None: just the first).

    The replaced blocks' children go with them. Replacing every block of the document with nothing
    leaves one empty paragraph, as the editor would.
    """
    editor = _Editor(load_doc(update, max_bytes=max_bytes, limits=limits), schema)
    return editor.replace(first_id, first_id if last_id is None else last_id, blocks, keep_ids)


def append_children_update(
    update: bytes,
    parent_id: str,
    blocks: list[Block],
    *,
    keep_ids: bool = False,
    schema: Schema = DOCS_SCHEMA,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
    limits: UpdateLimits | None = None,
) -> EditResult:
    """Append ``blocks`` as children of block ``parent_id`` (creating its child blockGroup if needed)."""
    return _Editor(load_doc(update, max_bytes=max_bytes, limits=limits), schema).append_children(
        parent_id, blocks, keep_ids
    )


@dataclass(slots=True)
class _Located:
    container: XmlElement
    group: XmlElement
    index: int


class _Editor:
    """One edit of a loaded document."""

    def __init__(self, doc: Doc, schema: Schema) -> None:
        self.doc = doc
        self.schema = schema
        document_store(doc)  # a document with other roots and no document-store is refused up front

    # -- finding blocks --

    def root_groups(self) -> list[XmlElement]:
        fragment = document_store(self.doc)
        if fragment is None:
            return []
        return [c for c in fragment.children if isinstance(c, XmlElement) and c.tag == BLOCK_GROUP]

    def locate_all(self, wanted: set[str]) -> dict[str, _Located]:
        """Containers by id, in the visible (first) root group; one walk that stops when all are found."""
        found: dict[str, _Located] = {}
        groups = self.root_groups()
        if not groups or not wanted:
            return found
        stack: list[XmlElement] = [groups[0]]
        with self.doc.transaction():
            while stack and len(found) < len(wanted):
                group = stack.pop()
                for index, child in enumerate(group.children):
                    if not isinstance(child, XmlElement) or child.tag != BLOCK_CONTAINER:
                        continue
                    block_id = child.attributes.get("id")
                    if block_id in wanted:
                        found[block_id] = _Located(child, group, index)
                    for grandchild in child.children:
                        if isinstance(grandchild, XmlElement) and grandchild.tag == BLOCK_GROUP:
                            stack.append(grandchild)
        return found

    def locate(self, *block_ids: str) -> list[_Located]:
        for block_id in block_ids:
            if not isinstance(block_id, str):
                raise UnknownBlockIdError(f"Block id {block_id!r} must be a string.")
        found = self.locate_all(set(block_ids))
        for block_id in block_ids:
            if block_id not in found:
                raise UnknownBlockIdError(f"No block with id {block_id!r} in this document.", block_id=block_id)
        return [found[block_id] for block_id in block_ids]

    def prepare(self, blocks: list[Block], keep_ids: bool) -> list[Block]:
        if not isinstance(blocks, list):
            validate_blocks(blocks, self.schema)  # raises the typed error
        prepared = blocks if keep_ids else with_fresh_ids(blocks)
        taken = {block.id for block in iter_blocks(read_doc(self.doc, schema=self.schema).blocks)} if keep_ids else ()
        validate_blocks(prepared, self.schema, taken_ids=taken)
        return prepared

    # -- writing --

    def write(self, place: Callable[[], bool], blocks: list[Block]) -> bytes:
        """Run ``place`` in one pycrdt transaction, then encode ``blocks`` after what it placed.

        ``place`` makes the pycrdt mutations of the edit and returns True when it ended by inserting
        one bare blockContainer for ``blocks[0]``. Returns the incremental update of the whole edit.
        """
        captured: list[bytes] = []
        subscription = self.doc.observe(lambda event: captured.append(event.update))
        try:
            with self.doc.transaction(origin="suite_ai"):
                placed = place()
        finally:
            self.doc.unobserve(subscription)
        if placed and blocks:
            first = last_local_item(self.doc)
            encoder = local_encoder(self.doc)
            writer = BlockWriter(self.schema, encoder)
            writer.fill_container(first, blocks[0])
            writer.blocks(blocks[1:], parent=None, origin=first)
            captured.append(integrate_local_items(self.doc, encoder))
        if not captured:
            return _NO_CHANGE
        return captured[0] if len(captured) == 1 else merge_updates(*captured)

    def write_new_root(self, blocks: list[Block]) -> bytes:
        """An empty document: its one root blockGroup and the blocks, all encoded."""
        encoder = local_encoder(self.doc)
        group = encoder.element(BLOCK_GROUP, parent=FRAGMENT_NAME)
        BlockWriter(self.schema, encoder).blocks(blocks, parent=group)
        return integrate_local_items(self.doc, encoder)

    # -- the edits --

    def insert(self, blocks: list[Block], after: str | None, keep_ids: bool) -> EditResult:
        prepared = self.prepare(blocks, keep_ids)
        ids = [block.id for block in prepared]
        anomalies: list[Anomaly] = []
        if after is not None:
            (located,) = self.locate(after)
            target, index = located.group, located.index + 1
        else:
            groups = self.root_groups()
            if len(groups) > 1:
                anomalies.append(
                    Anomaly("multiple_root_block_groups", "Wrote into the first (visible) of several root blockGroups.")
                )
            if not groups:
                return EditResult(self.write_new_root(prepared) if prepared else _NO_CHANGE, ids, anomalies)
            target = groups[0]
            index = len(target.children)

        def place() -> bool:
            if not prepared:
                return False
            target.children.insert(index, XmlElement(BLOCK_CONTAINER))
            return True

        return EditResult(self.write(place, prepared), ids, anomalies)

    def replace(self, first_id: str, last_id: str, blocks: list[Block], keep_ids: bool) -> EditResult:
        prepared = self.prepare(blocks, keep_ids)
        first, last = self.locate(first_id, last_id)
        if first.group != last.group:
            raise InvalidEditError(f"Blocks {first_id!r} and {last_id!r} are not siblings; cannot replace the range.")
        if last.index < first.index:
            raise InvalidEditError(f"Block {last_id!r} comes before {first_id!r}.")
        start, stop = first.index, last.index + 1
        group = first.group
        whole_group = stop - start == len(group.children)
        if not prepared and whole_group and group == self.root_groups()[0]:
            prepared = [empty_paragraph(self.schema)]

        def place() -> bool:
            if not prepared and whole_group:  # a nested group left empty goes away with its blocks
                parent = group.parent
                assert isinstance(parent, XmlElement)
                position = next(i for i, child in enumerate(parent.children) if child == group)
                del parent.children[position]
                return False
            del group.children[start:stop]
            if not prepared:
                return False
            group.children.insert(start, XmlElement(BLOCK_CONTAINER))
            return True

        return EditResult(self.write(place, prepared), [block.id for block in prepared])

    def append_children(self, parent_id: str, blocks: list[Block], keep_ids: bool) -> EditResult:
        prepared = self.prepare(blocks, keep_ids)
        (located,) = self.locate(parent_id)
        if not prepared:
            return EditResult(_NO_CHANGE, [])

        def place() -> bool:
            group = next(
                (c for c in located.container.children if isinstance(c, XmlElement) and c.tag == BLOCK_GROUP),
                None,
            )
            if group is None:
                group = located.container.children.append(XmlElement(BLOCK_GROUP))
            group.children.insert(len(group.children), XmlElement(BLOCK_CONTAINER))
            return True

        return EditResult(self.write(place, prepared), [block.id for block in prepared])
