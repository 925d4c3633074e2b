"""BlockNote JSON (``editor.document``, ``yDocToBlocks``) ⇄ typed blocks.

``blocks_to_json`` gives exactly what BlockNote's ``yDocToBlocks`` gives for the same document, so the
editor can apply a result without a lossy markdown round trip. ``blocks_from_json`` accepts what the
editor sends (and BlockNote's partial-block shorthands), fills defaults and validates.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidBlocksError, InvalidInlineContentError, UnknownBlockTypeError
from .model import Block, InlineContent, InlineNode, Link, StyledText, TableCell, TableContent, new_block_id
from .schema import (
    DOCS_SCHEMA,
    TABLE_CELL_PROPS,
    UNSET,
    PropSpec,
    Schema,
    normalize_block,
    validate_blocks,
    validate_props,
)

# --- to JSON ----------------------------------------------------------------------------------------------


def _props_json(props: dict[str, Any], specs: tuple[PropSpec, ...] | None) -> dict[str, Any]:
    if specs is None:
        return dict(props)
    out = {spec.name: props[spec.name] for spec in specs if spec.name in props and props[spec.name] is not UNSET}
    for name, value in props.items():  # props read from a document that the schema does not list
        if name not in out and value is not UNSET:
            out[name] = value
    return out


def _text_json(run: StyledText) -> dict[str, Any]:
    return {"type": "text", "text": run.text, "styles": dict(run.styles)}


def inline_to_json(content: list[InlineContent], schema: Schema = DOCS_SCHEMA) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in content:
        if isinstance(item, StyledText):
            out.append(_text_json(item))
        elif isinstance(item, Link):
            out.append({"type": "link", "href": item.href, "content": [_text_json(run) for run in item.content]})
        else:
            spec = schema.inline.get(item.type)
            node: dict[str, Any] = {
                "type": item.type,
                "props": _props_json(item.props, spec.props if spec else None),
            }
            if isinstance(item.content, list):
                node["content"] = [_text_json(run) for run in item.content]
            elif item.content is not None:
                node["content"] = item.content
            out.append(node)
    return out


def _table_json(table: TableContent, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tableContent", "columnWidths": list(table.column_widths)}
    if table.header_rows is not None:
        out["headerRows"] = table.header_rows
    if table.header_cols is not None:
        out["headerCols"] = table.header_cols
    out["rows"] = [
        {
            "cells": [
                {
                    "type": "tableCell",
                    "content": inline_to_json(cell.content, schema),
                    "props": _props_json(cell.props, TABLE_CELL_PROPS),
                }
                for cell in row
            ]
        }
        for row in table.rows
    ]
    return out


def block_to_json(block: Block, schema: Schema = DOCS_SCHEMA) -> dict[str, Any]:
    spec = schema.blocks.get(block.type)
    out: dict[str, Any] = {
        "id": block.id,
        "type": block.type,
        "props": _props_json(block.props, spec.props if spec else None),
    }
    if isinstance(block.content, TableContent):
        out["content"] = _table_json(block.content, schema)
    elif block.content is not None and (spec is None or spec.content != "none"):
        out["content"] = inline_to_json(block.content, schema)
    out["children"] = [block_to_json(child, schema) for child in block.children]
    return out


def blocks_to_json(blocks: list[Block], *, schema: Schema = DOCS_SCHEMA) -> list[dict[str, Any]]:
    """Blocks → BlockNote JSON, key for key what ``yDocToBlocks`` returns (undefined props left out)."""
    return [block_to_json(block, schema) for block in blocks]


# --- from JSON -------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def styles(self, raw: Any, where: str, block_id: str | None) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise InvalidInlineContentError(f"{where}.styles must be an object.", block_id=block_id, path=where)
        return dict(raw)

    def text(self, raw: Any, where: str, block_id: str | None) -> StyledText:
        if isinstance(raw, str):
            return StyledText(raw, {})
        if not isinstance(raw, dict) or raw.get("type", "text") != "text" or not isinstance(raw.get("text"), str):
            raise InvalidInlineContentError(
                f"{where} must be a text item ({{'type': 'text', 'text': …}}).", block_id=block_id, path=where
            )
        return StyledText(raw["text"], self.styles(raw.get("styles"), where, block_id))

    def inline(self, raw: Any, where: str, block_id: str | None) -> list[InlineContent]:
        if raw is None:
            return []
        if isinstance(raw, str):
            return [StyledText(raw, {})]
        if not isinstance(raw, list):
            raise InvalidInlineContentError(
                f"{where} must be a list of inline content or a string.", block_id=block_id, path=where
            )
        out: list[InlineContent] = []
        for index, item in enumerate(raw):
            at = f"{where}[{index}]"
            if isinstance(item, str):
                out.append(StyledText(item, {}))
                continue
            if not isinstance(item, dict):
                raise InvalidInlineContentError(f"{at} must be an object or a string.", block_id=block_id, path=at)
            kind = item.get("type", "text")
            if kind == "text":
                out.append(self.text(item, at, block_id))
            elif kind == "link":
                href = item.get("href")
                if not isinstance(href, str):
                    raise InvalidInlineContentError(f"{at}.href must be a string.", block_id=block_id, path=at)
                content = item.get("content", [])
                runs = (
                    [StyledText(content, {})]
                    if isinstance(content, str)
                    else [self.text(run, f"{at}.content[{i}]", block_id) for i, run in enumerate(content or [])]
                )
                out.append(Link(href, runs))
            elif isinstance(kind, str) and kind in self.schema.inline:
                spec = self.schema.inline[kind]
                props = self.props(item.get("props"), spec.props, f"{at}.props", block_id, kind)
                node_content: Any = None
                if spec.content == "styled":
                    node_content = [
                        self.text(run, f"{at}.content[{i}]", block_id)
                        for i, run in enumerate(item.get("content") or [])
                    ]
                elif spec.content == "plain":
                    node_content = item.get("content") or ""
                out.append(InlineNode(kind, props, node_content))
            else:
                raise InvalidInlineContentError(
                    f"{at}: unknown inline content type {kind!r}.", block_id=block_id, path=at
                )
        return out

    def props(
        self, raw: Any, specs: tuple[PropSpec, ...], where: str, block_id: str | None, owner: str
    ) -> dict[str, Any]:
        by_name = {spec.name: spec for spec in specs}
        if raw is None:
            raw = {}
        elif isinstance(raw, dict):  # null for a prop whose default is JS undefined means "not set"
            raw = {k: v for k, v in raw.items() if v is not None or k not in by_name or by_name[k].default is not UNSET}
        validate_props(raw, by_name, where, block_id, owner)
        props: dict[str, Any] = {}
        for spec in specs:
            value = raw.get(spec.name, spec.default)
            if value is not UNSET:
                props[spec.name] = value
        return props

    def table(self, raw: Any, where: str, block_id: str | None) -> TableContent:
        if not isinstance(raw, dict) or raw.get("type", "tableContent") != "tableContent":
            raise InvalidInlineContentError(
                f"{where} must be table content ({{'type': 'tableContent', 'rows': […]}}).",
                block_id=block_id,
                path=where,
            )
        rows_raw = raw.get("rows")
        if not isinstance(rows_raw, list):
            raise InvalidInlineContentError(f"{where}.rows must be a list.", block_id=block_id, path=where)
        rows: list[list[TableCell]] = []
        for row_index, row in enumerate(rows_raw):
            at = f"{where}.rows[{row_index}]"
            cells_raw = row.get("cells") if isinstance(row, dict) else None
            if not isinstance(cells_raw, list):
                raise InvalidInlineContentError(f"{at}.cells must be a list.", block_id=block_id, path=at)
            cells: list[TableCell] = []
            for cell_index, cell in enumerate(cells_raw):
                cell_at = f"{at}.cells[{cell_index}]"
                if isinstance(cell, dict) and cell.get("type") == "tableCell":
                    content = self.inline(cell.get("content"), f"{cell_at}.content", block_id)
                    props = self.props(cell.get("props"), TABLE_CELL_PROPS, f"{cell_at}.props", block_id, "tableCell")
                else:  # older BlockNote JSON: a cell is its inline content
                    content = self.inline(cell, cell_at, block_id)
                    props = self.props(None, TABLE_CELL_PROPS, f"{cell_at}.props", block_id, "tableCell")
                cells.append(TableCell(content, props))
            rows.append(cells)
        widths = raw.get("columnWidths")
        if widths is None:
            widths = []
        if not isinstance(widths, list):
            raise InvalidInlineContentError(f"{where}.columnWidths must be a list.", block_id=block_id, path=where)
        header_rows = raw.get("headerRows")
        header_cols = raw.get("headerCols")
        return TableContent(rows, list(widths), header_rows, header_cols)

    def block(self, raw: Any, where: str) -> Block:
        if not isinstance(raw, dict):
            raise InvalidBlocksError(f"{where} must be an object.", path=where)
        block_id = raw.get("id")
        if block_id is None:
            block_id = new_block_id()
        elif not isinstance(block_id, str) or not block_id:
            raise InvalidBlocksError(f"{where}.id must be a non-empty string.", path=where)
        block_type = raw.get("type", "paragraph")
        if not isinstance(block_type, str) or block_type not in self.schema.blocks:
            raise UnknownBlockTypeError(
                f"{where}: unknown block type {block_type!r}; the {self.schema.name} schema knows "
                f"{sorted(self.schema.blocks)}.",
                block_id=block_id,
                path=where,
            )
        spec = self.schema.blocks[block_type]
        props = self.props(raw.get("props"), spec.props, f"{where}.props", block_id, block_type)
        content_raw = raw.get("content")
        content: Any
        if spec.content in ("inline", "plain"):
            content = self.inline(content_raw, f"{where}.content", block_id)
        elif spec.content == "table":
            content = self.table(content_raw, f"{where}.content", block_id)
        else:
            if content_raw not in (None, []):
                raise InvalidInlineContentError(
                    f"{where}.content: a {block_type} block has no content.", block_id=block_id, path=where
                )
            content = None
        children_raw = raw.get("children", [])
        if children_raw is None:
            children_raw = []
        if not isinstance(children_raw, list):
            raise InvalidBlocksError(f"{where}.children must be a list.", block_id=block_id, path=where)
        children = [self.block(child, f"{where}.children[{i}]") for i, child in enumerate(children_raw)]
        return Block(block_type, props, content, children, block_id)


def blocks_from_json(data: Any, *, schema: Schema = DOCS_SCHEMA) -> list[Block]:
    """BlockNote JSON → validated, normalized blocks (missing props get defaults, missing ids new UUIDs).

    Raises ``UnknownBlockTypeError``, ``InvalidBlockPropsError``, ``InvalidInlineContentError``,
    ``DuplicateBlockIdError`` or ``InvalidBlocksError``, each naming the path of the culprit.
    """
    if isinstance(data, dict) and "blocks" in data:
        data = data["blocks"]
    if not isinstance(data, list):
        raise InvalidBlocksError("Blocks must be a JSON list of BlockNote blocks.")
    parser = _Parser(schema)
    blocks = [parser.block(raw, f"[{index}]") for index, raw in enumerate(data)]
    validate_blocks(blocks, schema)
    return [normalize_block(block, schema) for block in blocks]
