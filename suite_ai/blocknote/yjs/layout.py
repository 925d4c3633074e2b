"""Names in the Yjs tree of a La Suite Docs document (the tree is drawn in the package docstring)."""

from __future__ import annotations

#: The root XmlFragment that La Suite Docs and its y-provider use.
FRAGMENT_NAME = "document-store"
#: Docs accepts content up to 20 MB (``CONVERSION_FILE_MAX_SIZE``), so one update may be that large.
DEFAULT_MAX_UPDATE_BYTES = 20 * 1024 * 1024

BLOCK_GROUP = "blockGroup"
BLOCK_CONTAINER = "blockContainer"
HARD_BREAK_TAG = "hardBreak"
TABLE_ROW = "tableRow"
TABLE_CELL = "tableCell"
TABLE_HEADER = "tableHeader"
TABLE_PARAGRAPH = "tableParagraph"
