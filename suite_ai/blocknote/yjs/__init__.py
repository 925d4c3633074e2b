"""BlockNote documents in Yjs, with pycrdt: read, write a new document, edit an existing one.

The tree that ``@blocknote/core`` writes through y-prosemirror::

    XmlFragment "document-store" > blockGroup (exactly one) > blockContainer {id}
        > <blockType {props}> > XmlText (marks = formatting attributes) | hardBreak | inline nodes
        > blockGroup (children, optional)

Modules:

* ``read``: bytes → pycrdt Doc → the blocks the editor shows, plus anomalies.
* ``write``: blocks → Yjs items; a brand-new document (a note).
* ``edit``: current state + an insert / replace / append → the incremental update.
* ``encoder``: the Yjs v1 update encoder that ``write`` and ``edit`` use (no pycrdt).
* ``pycrdt_adapter``: the only module that goes past pycrdt's documented API, and why.
* ``guard``: the structural check every update passes before pycrdt reads it.
* ``layout``: node names.

pycrdt, not y-py: y-py writes attribute values that Yjs reads as their last character and cannot
write marks. Text offsets in pycrdt are UTF-8 bytes.
"""

from __future__ import annotations

from .edit import EditResult, append_children_update, insert_blocks_update, replace_blocks_update
from .guard import UpdateLimits, check_update
from .layout import DEFAULT_MAX_UPDATE_BYTES, FRAGMENT_NAME
from .read import Anomaly, ReadResult, decode_base64_update, load_doc, read_base64, read_doc, read_update
from .write import new_document, new_document_update, with_fresh_ids

__all__ = [
    "DEFAULT_MAX_UPDATE_BYTES",
    "FRAGMENT_NAME",
    "Anomaly",
    "EditResult",
    "ReadResult",
    "UpdateLimits",
    "append_children_update",
    "check_update",
    "decode_base64_update",
    "insert_blocks_update",
    "load_doc",
    "new_document",
    "new_document_update",
    "read_base64",
    "read_doc",
    "read_update",
    "replace_blocks_update",
    "with_fresh_ids",
]
