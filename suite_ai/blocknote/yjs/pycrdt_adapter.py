"""Every place suite_ai.blocknote goes past pycrdt's documented API, each with its reason.

Nothing else in the package touches these. pycrdt is pinned to one exact version, and
``tests/blocknote/test_pycrdt_adapter.py`` is the canary: it fails if any access below disappears
or starts to behave differently after an upgrade.

Reading (``NativeTree``, ``native_tree``):

1. ``pycrdt._pycrdt.XmlElement`` and ``pycrdt._pycrdt.XmlText``, the native (Rust) node classes,
   and their methods ``tag()``, ``attributes(txn)``, ``children(txn)`` and ``diff(txn)``. The
   public wrappers open a transaction and allocate a wrapper object on every access. A read visits
   every node of the document, so it works on the native nodes inside one transaction instead.
2. ``Transaction._txn``, the native transaction that those methods take. There is no public way
   to get it.
3. ``XmlFragment.integrated``, the native node behind the root fragment (an undocumented
   attribute). The walk starts from it.

Writing and editing (``local_encoder``, ``last_local_item``, ``integrate_local_items``):

4. Yjs items that we encode ourselves (``encoder.StructEncoder``) carry the Doc's own
   ``client_id``, starting at the Doc's next clock. ``Doc.apply_update`` integrates them as if the
   Doc had made them, and later pycrdt edits continue after them on the same clock. This is needed
   because pycrdt finds an insertion point by walking the siblings from the first one, which makes
   a write cost grow with the document. An encoded item names its left neighbour instead.
5. An empty ``XmlElement`` that is the last thing a transaction inserts is the item
   ``(client_id, next clock - 1)``. An edit lets pycrdt place one bare ``blockContainer`` (pycrdt
   resolves the index), then chains its encoded items to that id.

The Doc's next clock is read from ``Doc.get_state()``, the public Yjs state vector.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

from pycrdt import Doc, XmlFragment, _pycrdt

from .encoder import ID, StructEncoder, decode_state_vector
from .guard import check_update

# Typed Any: pycrdt's stubs omit some of the native methods used here (tag()).
_NativeElement: Any = _pycrdt.XmlElement
_NativeText: Any = _pycrdt.XmlText

#: A native node: only the ``NativeTree`` methods look inside it.
NativeNode: TypeAlias = Any


class NativeTree:
    """Read-only view of one document's native XML nodes, valid inside its read transaction (1–3)."""

    __slots__ = ("_txn",)

    def __init__(self, txn: Any) -> None:
        self._txn = txn

    def root(self, fragment: XmlFragment) -> list[NativeNode]:
        """The fragment's children."""
        return fragment.integrated.children(self._txn)

    @staticmethod
    def tag(node: NativeNode) -> str | None:
        """The element's node name; None for a text node or anything else that is not an element."""
        return str(node.tag()) if isinstance(node, _NativeElement) else None

    def attributes(self, element: NativeNode) -> dict[str, Any]:
        return dict(element.attributes(self._txn))

    def children(self, element: NativeNode) -> list[NativeNode]:
        return element.children(self._txn)

    def runs(self, element: NativeNode) -> Iterator[tuple[Any, dict[str, Any] | None]]:
        """The element's inline content in order: ``(text, marks)`` for each formatted run of each
        XmlText child (marks None when there are none), ``(element, None)`` for an element child.
        An embed inside a text comes as ``(value, attrs)`` with a value that is not a str."""
        txn = self._txn
        for child in element.children(txn):
            if isinstance(child, _NativeText):
                yield from child.diff(txn)
            elif isinstance(child, _NativeElement):
                yield child, None


@contextmanager
def native_tree(doc: Doc) -> Iterator[NativeTree]:
    """One transaction on ``doc``, and the native view of its nodes for the duration."""
    with doc.transaction() as transaction:
        yield NativeTree(transaction._txn)


def _next_clock(doc: Doc) -> int:
    return decode_state_vector(doc.get_state()).get(doc.client_id, 0)


def local_encoder(doc: Doc) -> StructEncoder:
    """An encoder whose items continue ``doc``'s own client and clock (4)."""
    return StructEncoder(doc.client_id, _next_clock(doc))


def last_local_item(doc: Doc) -> ID:
    """The id of the last item ``doc``'s own client created, e.g. the bare element just inserted (5)."""
    return (doc.client_id, _next_clock(doc) - 1)


def integrate_local_items(doc: Doc, encoder: StructEncoder) -> bytes:
    """Apply the encoder's items to ``doc`` as its own (4) and return them as an update.

    Raises RuntimeError if pycrdt did not take every item: the items would otherwise be missing
    from later diffs, or reuse clocks that pycrdt then gives to other items.
    """
    update = encoder.update()
    if encoder.count:
        # Our own items, but from blocks that came from outside: no update reaches pycrdt unchecked.
        check_update(update)
        doc.apply_update(update)
        if _next_clock(doc) != encoder.clock:
            raise RuntimeError("suite_ai.blocknote: pycrdt did not integrate encoded items as its own")
    return update
