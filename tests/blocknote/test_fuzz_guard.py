"""Fuzzing the Yjs input boundary: mutated and truncated real updates, random bytes, and random
update-shaped bytes. Whatever the bytes, the check and the decoder either read them or raise one of
our typed errors, and the process survives (a crash here kills the test run: that is the failure).
Inputs that once crashed pycrdt are kept below as fixed regressions."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

import suite_ai.blocknote as bn
from suite_ai.blocknote.yjs.encoder import write_var_string, write_var_uint
from tests.blocknote.corpus import CORPUS
from tests.blocknote.fuzzing import fuzz_settings
from tests.blocknote.payloads import nested_any_update, nested_arrays_update

SEEDS = [bn.new_document_update(CORPUS[name]()) for name in sorted(CORPUS)[:12]]
LIMITS = bn.UpdateLimits(max_bytes=1 << 20, max_depth=64, max_structs=100_000, max_string_bytes=1 << 16)


def read(update: bytes) -> None:
    """The whole path a Docs document takes: check, pycrdt, the block reader, markdown."""
    try:
        result = bn.read_update(update, limits=LIMITS)
        bn.blocks_to_markdown(result.blocks)
    except bn.BlockNoteError as error:
        assert error.code in {"invalid_yjs_update", "ydoc_too_complex", "ydoc_too_large", "missing_document_store"}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x07, 0x7F, 0x80, 0xFF, 0x75, 0x76]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@fuzz_settings(300)
@given(mutated())
def test_mutated_real_updates_are_read_or_refused(update: bytes) -> None:
    read(update)


@fuzz_settings(300)
@given(st.binary(max_size=256))
def test_random_bytes_are_read_or_refused(update: bytes) -> None:
    read(update)


@st.composite
def update_shaped(draw: st.DrawFn) -> bytes:
    """Well-framed updates with random items: deep parents, origins anywhere, odd contents."""
    count = draw(st.integers(1, 40))
    body = bytearray()
    write_var_uint(body, 1)
    write_var_uint(body, count)
    write_var_uint(body, 7)
    write_var_uint(body, 0)
    for clock in range(count):
        ref = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 7, 7, 8, 9]))
        link = draw(st.sampled_from(["root", "parent", "origin", "right"]))
        target = draw(st.integers(0, clock + 2))
        info = ref | {"root": 0, "parent": 0, "origin": 0x80, "right": 0x40}[link]
        sub = draw(st.booleans()) and link in ("root", "parent")
        body.append(info | (0x20 if sub else 0))
        if link in ("origin", "right"):
            write_var_uint(body, 7)
            write_var_uint(body, target)
        elif link == "root":
            body.append(1)
            write_var_string(body, draw(st.sampled_from(["document-store", "a"])))
        else:
            body.append(0)
            write_var_uint(body, 7)
            write_var_uint(body, target)
        if sub:
            write_var_string(body, "k")
        if ref == 7:
            type_ref = draw(st.integers(0, 6))
            write_var_uint(body, type_ref)
            if type_ref in (3, 5):
                write_var_string(body, draw(st.sampled_from(["blockGroup", "blockContainer", "paragraph", "x"])))
        elif ref == 4:
            write_var_string(body, draw(st.text(max_size=5)))
        elif ref == 8:
            body += b"\x01" + draw(st.sampled_from([b"\x7e", b"\x77\x01a", b"\x75\x01\x75\x00", b"\x76\x01\x01k\x78"]))
        elif ref in (5, 6):
            if ref == 6:
                write_var_string(body, "bold")
            write_var_string(body, draw(st.sampled_from(["true", "null", '{"a":[1]}', "[[[]]]"])))
        elif ref == 2:
            body.append(1)
            write_var_string(body, "1")
        elif ref == 3:
            body += b"\x01\x00"
        elif ref == 9:
            write_var_string(body, "guid")
            body.append(0x7E)
        else:
            body.append(draw(st.integers(1, 3)))
    body += draw(st.sampled_from([b"\x00", b"\x01\x07\x01\x00\x02", b"\x01\x07\x01\x05\x09"]))
    return bytes(body)


@fuzz_settings(300)
@given(update_shaped())
def test_update_shaped_bytes_are_read_or_refused(update: bytes) -> None:
    read(update)


@pytest.mark.parametrize(
    "update",
    [
        nested_any_update(30_000),  # SIGSEGV in pycrdt's Any::decode (the 80 KB request)
        nested_arrays_update(30_000),
        nested_any_update(65),
        nested_arrays_update(65),
        b"\x01\x01\x01\x00\x08\x01\x01a\x01\x75\xff\xff\xff\xff\x0f\x00",  # a 2^32-value array to pre-allocate
        b"\x00\x01\x01\xff\xff\xff\xff\x0f",  # a 2^32-range delete set to pre-allocate
        b"\x01\x01\x01\x00\x04\x01\x01a\x02\xff\xfe\x00",  # not UTF-8, which yrs reads unchecked
    ],
    ids=["values-30000", "types-30000", "values-65", "types-65", "any-count", "delete-count", "utf8"],
)
def test_known_hostile_updates_are_refused(update: bytes) -> None:
    with pytest.raises(bn.BlockNoteError) as caught:
        bn.read_update(update, limits=LIMITS)
    assert caught.value.code in {"invalid_yjs_update", "ydoc_too_complex"}
    with pytest.raises(bn.BlockNoteError):
        bn.read_base64(base64.b64encode(update).decode())
