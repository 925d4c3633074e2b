"""Which errors say "the storage is full" (503 ``storage_full``) rather than "a bug" (500): the
errors as the libraries raise them, chained as Django wraps them. The end-to-end proof, a real
full file system under a real web server, is tests/e2e/test_faults_storage.py."""

from __future__ import annotations

import errno
import sqlite3

import psycopg.errors
import pytest
from django.db import utils as db_utils

from suite_ai.api_errors import is_storage_full


def wrapped(cause: BaseException) -> db_utils.OperationalError:
    error = db_utils.OperationalError(str(cause))
    error.__cause__ = cause
    return error


def sqlite_full() -> sqlite3.OperationalError:
    """SQLite's own SQLITE_FULL: a database not allowed to grow past its first pages."""
    database = sqlite3.connect(":memory:")
    database.execute("CREATE TABLE t (x TEXT)")
    database.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as raised:
        database.executemany("INSERT INTO t VALUES (?)", [("x" * 4000,)] * 10)
    assert raised.value.sqlite_errorname == "SQLITE_FULL"
    return raised.value


def test_a_full_disk_as_each_layer_reports_it():
    assert is_storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_storage_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_storage_full(wrapped(sqlite_full()))
    assert is_storage_full(wrapped(psycopg.errors.DiskFull("could not extend file")))


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied"),
        ValueError("database or disk is full"),
        wrapped(psycopg.errors.UniqueViolation("duplicate key")),
        RuntimeError("boom"),
    ],
)
def test_other_errors_are_not_a_full_disk(error):
    assert not is_storage_full(error)
