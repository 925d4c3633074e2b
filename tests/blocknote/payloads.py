"""Hostile Yjs updates, built with the repo's own encoder primitives (the v1 wire format)."""

from __future__ import annotations

from suite_ai.blocknote.yjs.encoder import write_var_string, write_var_uint

_CONTENT_TYPE = 7
_CONTENT_ANY = 8
_TYPE_ARRAY = 0


def nested_arrays_update(depth: int, *, client: int = 1) -> bytes:
    """``depth`` Y.Arrays, each the only child of the previous one, the first in the root array "a".

    As Yjs writes ``arr.insert(0, [inner])`` repeated: every item names its parent by id (no origin).
    """
    body = bytearray()
    write_var_uint(body, 1)  # one client
    write_var_uint(body, depth)
    write_var_uint(body, client)
    write_var_uint(body, 0)
    for clock in range(depth):
        body.append(_CONTENT_TYPE)
        if clock == 0:
            body.append(1)
            write_var_string(body, "a")
        else:
            body.append(0)
            write_var_uint(body, client)
            write_var_uint(body, clock - 1)
        body.append(_TYPE_ARRAY)
    body.append(0)  # empty delete set
    return bytes(body)


def nested_any_update(depth: int, *, client: int = 1) -> bytes:
    """One ContentAny item in the root array "a" holding ``depth`` nested lib0 arrays: ``[[[…]]]``."""
    body = bytearray(b"\x01\x01")
    write_var_uint(body, client)
    body.append(0)
    body.append(_CONTENT_ANY)
    body.append(1)
    write_var_string(body, "a")
    body.append(1)  # one value
    body += b"\x75\x01" * (depth - 1) + b"\x75\x00"  # array of one element, ..., empty array
    body.append(0)
    return bytes(body)
