"""A structural check of Yjs v1 updates, in pure Python, before any native decoder sees the bytes.

Why: pycrdt (yrs) decodes and integrates an update natively, and parts of it recurse: nested types
(an update holding tens of thousands of nested arrays kills the process with SIGSEGV, which no
``except`` catches), and lib0 ``Any`` values (``Any::decode`` calls itself for every array or map
level). yrs also pre-allocates from counts it reads (``Vec::with_capacity`` for an ``Any`` array or
map, ``SmallVec::with_capacity`` for the ranges of a delete set), so a huge claimed count aborts the
process, and it reads strings with ``from_utf8_unchecked``. ``check_update`` walks the whole update
once, iteratively, and refuses anything whose sizes, counts or nesting are over the limits or that
yrs might mishandle, with a typed error. What it accepts is exactly what Yjs writes.

The v1 format, as Yjs 13.6 reads it (and yrs, ``yrs/src/update.rs`` ``Update::decode`` /
``decode_block``, ``yrs/src/block.rs`` ``ItemContent::decode``, ``yrs/src/any.rs`` ``Any::decode``)::

    update      = structs deleteSet
    structs     = varuint(#clients) { varuint(#structs) varuint(client) varuint(clock) struct* }
                  -- Yjs src/utils/encoding.js readClientsStructRefs
    struct      = info:u8 ...
                  info & 0x1F == 0: GC, varuint(len); == 10: Skip, varuint(len)
                  otherwise an Item (src/structs/Item.js):
                    0x80: origin ID, 0x40: rightOrigin ID (ID = varuint(client) varuint(clock))
                    neither: varuint(parentInfo) then varstring(root name) if 1 else parent ID;
                             then varstring(parentSub) if 0x20
                    content by info & 0x1F (Item.js contentRefs):
                      1 Deleted  varuint(len)
                      2 JSON     varuint(n) n*varstring            (ContentJSON.js)
                      3 Binary   varuint8array                      (ContentBinary.js)
                      4 String   varstring                          (ContentString.js)
                      5 Embed    varstring(JSON)                    (ContentEmbed.js)
                      6 Format   varstring(key) varstring(JSON)     (ContentFormat.js)
                      7 Type     varuint(typeRef 0..6), +varstring for XmlElement(3)/XmlHook(5) (ContentType.js)
                      8 Any      varuint(n) n*any                   (ContentAny.js, lib0 decoding.readAny)
                      9 Doc      varstring(guid) any(opts)          (ContentDoc.js)
    deleteSet   = varuint(#clients) { varuint(client) varuint(#ranges) {varuint(clock) varuint(len)} }
                  -- src/utils/DeleteSet.js readDeleteSet
    varuint     = lib0 LEB128, 7 bits a byte; varstring = varuint(byte length) UTF-8 bytes

An item's parent is a root type (by name), an item whose content is a type (by ID), or, when the
item has an origin, the parent of that origin (Item.js ``integrate``: ``parent = left.parent``).
Nesting depth is computed from those references with explicit stacks, never by recursion.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass

from ..errors import InvalidYjsUpdateError, YDocTooComplexError, YDocTooLargeError
from .layout import DEFAULT_MAX_UPDATE_BYTES

#: A Docs document nests a type about twice per block level (blockGroup > blockContainer), plus a
#: few for a table cell's paragraph and its text; the block depth limit is far below this.
DEFAULT_MAX_DEPTH = 256
#: Structs (items, GC, skips) plus delete-set ranges in one update.
DEFAULT_MAX_STRUCTS = 2_000_000
#: One string (text run, key, JSON value, binary) in an update.
DEFAULT_MAX_STRING_BYTES = 4 * 1024 * 1024

# yrs reads clocks and lengths as u32 (update.rs ``read_var::<u32>``), Yjs client ids are at most 53 bits.
_MAX_CLOCK = 0xFFFFFFFF
_MAX_CLIENT = (1 << 53) - 1
_MAX_VARUINT_BYTES = 8  # 56 bits: every value above is out of range anyway

_GC = 0
_SKIP = 10
_CONTENT_TYPE = 7
_TYPE_REFS = 7  # YArray .. YXmlText (ContentType.js typeRefs); yrs-only refs (weak links, subdoc) are refused
_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
_UNUSED_INFO_BIT = 0x10  # Yjs masks 5 bits for the content ref, yrs 4: a set bit 4 reads differently

# Tags of ``_Parse.links`` (an item's parent reference), in the low 2 bits.
_LINK_NONE = 0  # GC / Skip: no parent
_LINK_ROOT = 1  # payload: index of the root name
_LINK_PARENT = 2  # payload: key of the parent type item
_LINK_ORIGIN = 3  # payload: key of the origin (or right origin): same parent as that item

# Container states while resolving (``container`` array).
_UNRESOLVED = -1
_IN_PROGRESS = -2
_TOP = -3  # a root type, or an item outside this update (its depth is not known here: counted as 0)


@dataclass(frozen=True, slots=True)
class UpdateLimits:
    """Bounds on one update. Depth counts nested types (a root's children are at depth 1) and
    nested lib0 ``Any`` values."""

    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_structs: int = DEFAULT_MAX_STRUCTS
    max_string_bytes: int = DEFAULT_MAX_STRING_BYTES


@dataclass(frozen=True, slots=True)
class UpdateStats:
    """What ``check_update`` measured."""

    structs: int
    depth: int


def _malformed(reason: str) -> InvalidYjsUpdateError:
    return InvalidYjsUpdateError(f"These bytes are not a Yjs update ({reason}).")


class _Parse:
    """One pass over the bytes; ``check_update`` is the entry point."""

    def __init__(self, data: bytes, limits: UpdateLimits) -> None:
        self.data = data
        self.view = memoryview(data)
        self.end = len(data)
        self.pos = 0
        self.limits = limits
        self.structs = 0
        # Per struct, in order of appearance: clock start, length, parent link, whether it is a type.
        self.starts = array("q")
        self.lengths = array("q")
        self.links = array("q")
        self.is_type = bytearray()
        self.sections: dict[int, tuple[int, int]] = {}  # client -> (first index, count)
        self.client_index: dict[int, int] = {}  # client -> small index used in keys
        self.root_names: dict[str, int] = {}
        self.clients_by_index: list[int] = []

    # --- lib0 primitives (lib0/decoding.js) ---

    def byte(self) -> int:
        if self.pos >= self.end:
            raise _malformed("unexpected end")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varuint(self) -> int:
        data = self.data
        pos = self.pos
        try:
            byte = data[pos]
            if byte < 0x80:  # the common one-byte case
                self.pos = pos + 1
                return byte
            value = byte & 0x7F
            shift = 7
            while True:
                pos += 1
                byte = data[pos]
                value |= (byte & 0x7F) << shift
                if byte < 0x80:
                    self.pos = pos + 1
                    return value
                shift += 7
                if shift >= 7 * _MAX_VARUINT_BYTES:
                    raise _malformed("integer out of range")
        except IndexError:
            raise _malformed("unexpected end") from None

    def varint(self) -> None:
        # lib0 readVarInt: 6 bits and a sign in the first byte, then 7 bits a byte.
        byte = self.byte()
        for _ in range(_MAX_VARUINT_BYTES):
            if byte < 0x80:
                return
            byte = self.byte()
        raise _malformed("integer out of range")

    def skip(self, count: int) -> None:
        if count > self.end - self.pos:
            raise _malformed("unexpected end")
        self.pos += count

    def buffer(self) -> tuple[int, int]:
        """A varuint8array's bounds, checked against the string limit."""
        length = self.varuint()
        if length > self.limits.max_string_bytes:
            raise YDocTooComplexError(
                f"A string of {length} bytes in the Yjs document is over the {self.limits.max_string_bytes} byte limit."
            )
        start = self.pos
        self.skip(length)
        return start, self.pos

    def string(self) -> str:
        start, end = self.buffer()
        try:
            # yrs reads strings with from_utf8_unchecked: invalid UTF-8 must never reach it.
            return str(self.view[start:end], "utf-8")
        except UnicodeDecodeError:
            raise _malformed("a string is not UTF-8") from None

    def json_string(self) -> None:
        """A JSON value as text (ContentJSON/Embed/Format): UTF-8, nesting within the depth limit."""
        start, end = self.buffer()
        chunk = self.view[start:end]
        try:
            str(chunk, "utf-8")
        except UnicodeDecodeError:
            raise _malformed("a string is not UTF-8") from None
        if b"[" in chunk or b"{" in chunk:
            _check_json_depth(bytes(chunk), self.limits.max_depth)

    def any_value(self) -> None:
        """lib0 readAny, with an explicit stack: ``pending`` counts the values still to read at each level."""
        max_depth = self.limits.max_depth
        pending = [1]
        map_level = [False]
        while pending:
            if pending[-1] == 0:
                pending.pop()
                map_level.pop()
                continue
            pending[-1] -= 1
            if map_level[-1]:
                self.string()
            tag = self.byte()
            if tag in (127, 126, 121, 120):  # undefined, null, false, true
                continue
            if tag == 125:
                self.varint()
            elif tag == 124:
                self.skip(4)
            elif tag in (123, 122):  # float64, bigint64
                self.skip(8)
            elif tag == 119:
                self.string()
            elif tag == 116:
                self.buffer()
            elif tag in (118, 117):  # object, array
                count = self.varuint()
                # Every value takes at least a byte: a larger count is a lie that yrs would pre-allocate.
                if count > self.end - self.pos:
                    raise _malformed("a count is larger than the rest of the update")
                if len(pending) >= max_depth:
                    raise YDocTooComplexError(f"The Yjs document nests values deeper than {max_depth} levels.")
                pending.append(count)
                map_level.append(tag == 118)
            else:
                raise _malformed(f"unknown value tag {tag}")

    def id_key(self) -> int:
        client = self.varuint()
        clock = self.varuint()
        if client > _MAX_CLIENT or clock > _MAX_CLOCK:
            raise _malformed("an id is out of range")
        return (self.index_of(client) << 32 | clock) << 2

    def index_of(self, client: int) -> int:
        index = self.client_index.get(client)
        if index is None:
            index = self.client_index[client] = len(self.clients_by_index)
            self.clients_by_index.append(client)
        return index

    def count(self, what: int) -> None:
        self.structs += what
        if self.structs > self.limits.max_structs:
            raise YDocTooComplexError(
                f"The Yjs document holds more than {self.limits.max_structs} structs and deletions."
            )

    # --- the update ---

    def run(self) -> None:
        clients = self.varuint()
        if clients > self.end - self.pos:
            raise _malformed("a count is larger than the rest of the update")
        for _ in range(clients):
            self.client_section()
        self.delete_set()
        if self.pos != self.end:
            raise _malformed("trailing bytes")

    def client_section(self) -> None:
        number = self.varuint()
        if number > self.end - self.pos:
            raise _malformed("a count is larger than the rest of the update")
        self.count(number)
        client = self.varuint()
        clock = self.varuint()
        if client > _MAX_CLIENT or clock > _MAX_CLOCK:
            raise _malformed("a client id or clock is out of range")
        if client in self.sections:
            # Yjs writes each client once (encoding.js writeClientsStructs); a repeat would be read
            # differently by Yjs (the last wins) and yrs (appended).
            raise _malformed("a client's structs appear twice")
        self.index_of(client)
        self.sections[client] = (len(self.starts), number)
        starts, lengths, links, is_type = self.starts, self.lengths, self.links, self.is_type
        for _ in range(number):
            info = self.byte()
            length = 1
            link = _LINK_NONE
            content_type = 0
            ref = info & 0x1F
            if ref in (_GC, _SKIP):
                if info != ref:
                    raise _malformed("a GC or Skip struct with flags")
                length = self.varuint()
            else:
                if info & _UNUSED_INFO_BIT:
                    raise _malformed(f"unknown content ref {ref}")
                if info & _HAS_ORIGIN:
                    link = self.id_key() | _LINK_ORIGIN
                if info & _HAS_RIGHT_ORIGIN:
                    right = self.id_key() | _LINK_ORIGIN
                    if link == _LINK_NONE:
                        link = right
                if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                    if self.varuint() == 1:
                        name = self.string()
                        link = (self.root_names.setdefault(name, len(self.root_names)) << 2) | _LINK_ROOT
                    else:
                        link = (self.id_key() & ~3) | _LINK_PARENT
                    if info & _HAS_PARENT_SUB:
                        self.string()
                length, content_type = self.content(ref)
            if length > _MAX_CLOCK - clock:
                raise _malformed("a clock is out of range")
            starts.append(clock)
            lengths.append(length)
            links.append(link)
            is_type.append(content_type)
            clock += length

    def content(self, ref: int) -> tuple[int, int]:
        """Reads an item's content; returns (clock length, 1 if it is a type)."""
        if ref == 1:  # Deleted
            return self.varuint(), 0
        if ref == 2:  # JSON
            number = self.varuint()
            if number > self.end - self.pos:
                raise _malformed("a count is larger than the rest of the update")
            for _ in range(number):
                self.json_string()
            return number, 0
        if ref == 3:  # Binary
            self.buffer()
            return 1, 0
        if ref == 4:  # String: the clock advances by UTF-16 code units (ContentString.getLength)
            return _utf16_length(self.string()), 0
        if ref == 5:  # Embed
            self.json_string()
            return 1, 0
        if ref == 6:  # Format
            self.string()
            self.json_string()
            return 1, 0
        if ref == _CONTENT_TYPE:
            type_ref = self.varuint()
            if type_ref >= _TYPE_REFS:
                raise _malformed(f"unknown type ref {type_ref}")
            if type_ref in (3, 5):  # XmlElement node name, XmlHook key
                self.string()
            return 1, 1
        if ref == 8:  # Any
            number = self.varuint()
            if number > self.end - self.pos:
                raise _malformed("a count is larger than the rest of the update")
            for _ in range(number):
                self.any_value()
            return number, 0
        if ref == 9:  # Doc: guid and options
            self.string()
            self.any_value()
            return 1, 0
        raise _malformed(f"unknown content ref {ref}")

    def delete_set(self) -> None:
        clients = self.varuint()
        if clients > self.end - self.pos:
            raise _malformed("a count is larger than the rest of the update")
        for _ in range(clients):
            client = self.varuint()
            ranges = self.varuint()
            # Each range is at least 2 bytes; yrs pre-allocates this many (SmallVec::with_capacity).
            if client > _MAX_CLIENT or ranges > (self.end - self.pos) // 2:
                raise _malformed("a delete set count is out of range")
            self.count(ranges)
            for _ in range(ranges):
                clock = self.varuint()
                length = self.varuint()
                if clock > _MAX_CLOCK or length > _MAX_CLOCK - clock:
                    raise _malformed("a deleted range is out of range")

    # --- nesting ---

    def find(self, key: int) -> int:
        """The index of the struct holding the id ``key``, or -1 if it is not in this update."""
        payload = key >> 2
        clock = payload & _MAX_CLOCK
        index = payload >> 32
        client = self.clients_by_index[index]
        section = self.sections.get(client)
        if section is None:
            return -1
        first, number = section
        position = bisect_right(self.starts, clock, first, first + number) - 1
        if position < first or clock >= self.starts[position] + self.lengths[position]:
            return -1
        return position

    def depth(self) -> int:
        """The deepest type nesting, computed with explicit stacks."""
        total = len(self.starts)
        container = array("q", [_UNRESOLVED]) * total  # resolved parent: a type item's index, or _TOP
        depth = array("q", [0]) * total  # of type items: 1 for a root's child
        max_depth = self.limits.max_depth
        deepest = 0
        links, is_type = self.links, self.is_type
        for start in range(total):
            if not is_type[start] or depth[start]:
                continue
            # 1. Climb from this type through its ancestors until one whose depth is known.
            chain: list[int] = []
            node = start
            while True:
                parent = self.container_of(node, container, links)
                chain.append(node)
                if parent == _TOP or depth[parent]:
                    base = depth[parent] if parent != _TOP else 0
                    break
                if len(chain) > total:
                    raise _malformed("types are their own ancestors")
                node = parent
            # 2. Assign depths back down the chain.
            for node in reversed(chain):
                base += 1
                depth[node] = base
            if base > deepest:
                deepest = base
                if deepest > max_depth:
                    raise YDocTooComplexError(f"The Yjs document nests types deeper than {max_depth} levels.")
        return deepest

    def container_of(self, index: int, container: array[int], links: array[int]) -> int:
        """The type item an item belongs to, following origins (memoized, iterative)."""
        resolved = container[index]
        if resolved != _UNRESOLVED:
            if resolved == _IN_PROGRESS:
                raise _malformed("items are their own origins")
            return resolved
        path: list[int] = []
        node = index
        while True:
            link = links[node]
            tag = link & 3
            if tag == _LINK_ORIGIN:
                container[node] = _IN_PROGRESS
                path.append(node)
                target = self.find(link)
                if target < 0:
                    result = _TOP
                    break
                known = container[target]
                if known == _IN_PROGRESS:
                    raise _malformed("items are their own origins")
                if known != _UNRESOLVED:
                    result = known
                    break
                node = target
                continue
            if tag == _LINK_PARENT:
                target = self.find(link)
                if target >= 0 and not self.is_type[target]:
                    raise _malformed("an item's parent is not a type")
                result = target if target >= 0 else _TOP
            else:  # root, or a GC/Skip struct: at the top as far as depth goes
                result = _TOP
            path.append(node)
            break
        for node in path:
            container[node] = result
        return result


def _utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _check_json_depth(text: bytes, max_depth: int) -> None:
    """Bracket nesting of a JSON text, outside string literals (ASCII bytes never occur inside a
    UTF-8 multi-byte sequence, so bytes are enough)."""
    depth = 0
    in_string = False
    escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > max_depth:
                raise YDocTooComplexError(f"The Yjs document nests values deeper than {max_depth} levels.")
        elif byte in (0x5D, 0x7D):
            depth -= 1


def check_update(update: bytes, limits: UpdateLimits | None = None) -> UpdateStats:
    """Refuse a v1 update that is malformed (``InvalidYjsUpdateError``), too large
    (``YDocTooLargeError``) or too deep or too numerous (``YDocTooComplexError``), before pycrdt reads it."""
    limits = limits or UpdateLimits()
    if not isinstance(update, bytes | bytearray | memoryview):
        raise InvalidYjsUpdateError("A Yjs update must be bytes.")
    data = bytes(update)
    if len(data) > limits.max_bytes:
        raise YDocTooLargeError(f"The Yjs document is {len(data)} bytes, over the {limits.max_bytes} byte limit.")
    parse = _Parse(data, limits)
    parse.run()
    return UpdateStats(structs=parse.structs, depth=parse.depth())


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_STRING_BYTES",
    "DEFAULT_MAX_STRUCTS",
    "UpdateLimits",
    "UpdateStats",
    "check_update",
]
