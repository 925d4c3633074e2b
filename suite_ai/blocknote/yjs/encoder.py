"""A small Yjs v1 update encoder for BlockNote block trees.

Why: pycrdt (yrs) finds an insertion point by walking the parent's children from the first one, so
inserting N blocks into a group of M siblings costs N·M, and a large document or a large append gets
slow in proportion. Yjs items name their left neighbour (``origin``) instead of an index; encoding
them directly makes writing linear and an append independent of the document's size. The items are
exactly those y-prosemirror and pycrdt create (XmlElement/XmlText types, attributes as map entries
with ``ContentAny``, marks as ``ContentFormat`` pairs around each ``ContentString``); tests read every
encoded document back with pycrdt and with Yjs/BlockNote. Pure Yjs wire format: no pycrdt here.

Reference: the Yjs update format (``Item.write``, ``writeStructs``, ``writeDeleteSet``, lib0
``writeAny``) — encoding v1.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

ID = tuple[int, int]

_CONTENT_STRING = 4
_CONTENT_FORMAT = 6
_CONTENT_TYPE = 7
_CONTENT_ANY = 8
_TYPE_XML_ELEMENT = 3
_TYPE_XML_TEXT = 6
_HAS_ORIGIN = 0x80
_HAS_PARENT_SUB = 0x20
_BITS31 = 0x7FFFFFFF


def write_var_uint(buffer: bytearray, value: int) -> None:
    if value < 0x80:
        buffer.append(value)
        return
    while value > 0x7F:
        buffer.append(0x80 | (value & 0x7F))
        value >>= 7
    buffer.append(value)


def write_var_int(buffer: bytearray, value: int) -> None:
    negative = value < 0
    value = -value if negative else value
    buffer.append((0x80 if value > 0x3F else 0) | (0x40 if negative else 0) | (value & 0x3F))
    value >>= 6
    while value > 0:
        buffer.append((0x80 if value > 0x7F else 0) | (value & 0x7F))
        value >>= 7


def write_var_string(buffer: bytearray, text: str) -> None:
    data = text.encode("utf-8")
    if len(data) < 0x80:
        buffer.append(len(data))
    else:
        write_var_uint(buffer, len(data))
    buffer += data


def var_uint_bytes(value: int) -> bytes:
    buffer = bytearray()
    write_var_uint(buffer, value)
    return bytes(buffer)


_ENTRY_CACHE: dict[tuple[str, Any, type], bytes] = {}


def _entry_bytes(name: str, value: Any) -> bytes:
    """``parentSub`` + ``ContentAny[value]`` of one attribute; cached for the common short values."""
    cacheable = isinstance(value, str | bool | int)
    key = (name, value, type(value))
    cached = _ENTRY_CACHE.get(key) if cacheable else None
    if cached is None:
        buffer = bytearray()
        write_var_string(buffer, name)
        buffer.append(1)
        write_any(buffer, value)
        cached = bytes(buffer)
        if cacheable and len(_ENTRY_CACHE) < 4096 and len(cached) < 96:
            _ENTRY_CACHE[key] = cached
    return cached


def write_any(buffer: bytearray, value: Any) -> None:
    """lib0 ``writeAny``: the JSON-like values of attributes."""
    if value is None:
        buffer.append(126)
    elif value is True:
        buffer.append(120)
    elif value is False:
        buffer.append(121)
    elif isinstance(value, str):
        buffer.append(119)
        write_var_string(buffer, value)
    elif isinstance(value, int):
        if -_BITS31 <= value <= _BITS31:
            buffer.append(125)
            write_var_int(buffer, value)
        else:
            buffer.append(123)
            buffer += struct.pack(">d", float(value))
    elif isinstance(value, float):
        buffer.append(123)
        buffer += struct.pack(">d", value)
    elif isinstance(value, list | tuple):
        buffer.append(117)
        write_var_uint(buffer, len(value))
        for item in value:
            write_any(buffer, item)
    elif isinstance(value, dict):
        buffer.append(118)
        write_var_uint(buffer, len(value))
        for key, item in value.items():
            write_var_string(buffer, str(key))
            write_any(buffer, item)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} in a Yjs update")


def utf16_length(text: str) -> int:
    """Yjs counts string items in UTF-16 code units (its clock advances by that much)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def read_var_uint(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def decode_state_vector(state: bytes) -> dict[int, int]:
    """``Y.decodeStateVector``: client id → next clock."""
    count, offset = read_var_uint(state, 0)
    clocks: dict[int, int] = {}
    for _ in range(count):
        client, offset = read_var_uint(state, offset)
        clock, offset = read_var_uint(state, offset)
        clocks[client] = clock
    return clocks


class StructEncoder:
    """Items of one client, in clock order; ``update()`` wraps them into a v1 update."""

    __slots__ = ("_buffer", "_client_bytes", "client", "clock", "count", "start_clock")

    def __init__(self, client: int, clock: int) -> None:
        self.client = client
        self.start_clock = clock
        self.clock = clock
        self.count = 0
        self._buffer = bytearray()
        self._client_bytes = var_uint_bytes(client)

    def _id(self, item: ID) -> None:
        if item[0] == self.client:
            self._buffer += self._client_bytes
        else:
            write_var_uint(self._buffer, item[0])
        write_var_uint(self._buffer, item[1])

    def _head(self, ref: int, origin: ID | None, parent: ID | str | None, parent_sub: str | None) -> ID:
        buffer = self._buffer
        item_id = (self.client, self.clock)
        if origin is not None:
            buffer.append(ref | _HAS_ORIGIN | (_HAS_PARENT_SUB if parent_sub is not None else 0))
            self._id(origin)
        else:
            buffer.append(ref | (_HAS_PARENT_SUB if parent_sub is not None else 0))
            if isinstance(parent, str):
                buffer.append(1)
                write_var_string(buffer, parent)
            elif parent is not None:
                buffer.append(0)
                self._id(parent)
            else:
                raise ValueError("an item needs an origin or a parent")
            if parent_sub is not None:
                write_var_string(buffer, parent_sub)
        self.count += 1
        return item_id

    def element(self, tag: str, *, origin: ID | None = None, parent: ID | str | None = None) -> ID:
        """An XmlElement item; returns its id (the parent id of its children and attributes)."""
        item_id = self._head(_CONTENT_TYPE, origin, parent, None)
        self._buffer.append(_TYPE_XML_ELEMENT)
        write_var_string(self._buffer, tag)
        self.clock += 1
        return item_id

    def xml_text(self, *, origin: ID | None = None, parent: ID | None = None) -> ID:
        item_id = self._head(_CONTENT_TYPE, origin, parent, None)
        self._buffer.append(_TYPE_XML_TEXT)
        self.clock += 1
        return item_id

    def attributes(self, element: ID, attrs: dict[str, Any]) -> None:
        """Each attribute is a map entry: an item with ``parentSub`` = name and ``ContentAny[value]``."""
        buffer = self._buffer
        for name, value in attrs.items():
            buffer.append(_CONTENT_ANY | _HAS_PARENT_SUB)
            buffer.append(0)
            self._id(element)
            buffer += _entry_bytes(name, value)
            self.count += 1
            self.clock += 1

    def _format(self, key: str, value: Any, origin: ID | None, parent: ID) -> ID:
        item_id = self._head(_CONTENT_FORMAT, origin, parent, None)
        write_var_string(self._buffer, key)
        write_var_string(self._buffer, json.dumps(value, separators=(",", ":"), ensure_ascii=False))
        self.clock += 1
        return item_id

    def text_runs(self, text: ID, runs: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Text items of one XmlText: ``[format k=v…] string [format k=null…]`` per formatted run."""
        last: ID | None = None
        buffer = self._buffer
        for value, attrs in runs:
            for key, attr in attrs.items():
                last = self._format(key, attr, last, text)
            self._head(_CONTENT_STRING, last, text, None)
            write_var_string(buffer, value)
            length = utf16_length(value)
            self.clock += length
            last = (self.client, self.clock - 1)
            for key in attrs:
                last = self._format(key, None, last, text)

    def structs(self) -> bytes:
        """This client's structs section (count, client, first clock, items)."""
        head = bytearray()
        write_var_uint(head, self.count)
        write_var_uint(head, self.client)
        write_var_uint(head, self.start_clock)
        return bytes(head + self._buffer)

    def update(self) -> bytes:
        """A complete v1 update: one client's structs and an empty delete set."""
        if not self.count:
            return b"\x00\x00"
        out = bytearray(b"\x01")
        out += self.structs()
        out.append(0)
        return bytes(out)
