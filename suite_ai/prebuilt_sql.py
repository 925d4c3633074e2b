"""Model instances from rows read by prebuilt SQL, converted exactly as the ORM converts them.

For the few statements that run on every request or every job and are kept as SQL built once
(docs/performance.md, section 3): ``Model.objects.raw()`` works out, for every query, which column
goes to which field and which converters apply, which cost more than the statement itself. Here
that is worked out once per model and database vendor. The converters are the ones the ORM's
compiler applies (the backend's, then the field's), so a value reads the same either way on SQLite
and on Postgres; tests/jobs/test_services_sql.py compares the instances with the ORM's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def columns(model: type[Model], table: str = "") -> str:
    """The model's concrete columns, in field order, quoted (prefixed with ``table``): the select
    list whose rows ``from_row`` reads."""
    quote = connection.ops.quote_name
    prefix = f"{quote(table)}." if table else ""
    return ", ".join(prefix + quote(str(field.column)) for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model], vendor: str) -> tuple[tuple[int, Any, tuple[Converter, ...]], ...]:
    """(position, column expression, converters) for every column that needs converting; cached
    per database vendor, whose converters they are."""
    found = []
    for position, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = (*connection.ops.get_db_converters(column), *column.get_db_converters(connection))
        if converters:
            found.append((position, column, converters))
    return tuple(found)


def from_row(model: type[M], row: Sequence[Any]) -> M:
    """The instance of ``model`` a row of ``columns(model)`` holds (extra trailing values ignored)."""
    values = list(row[: len(model._meta.concrete_fields)])
    for position, column, converters in _converters(model, connection.vendor):
        value = values[position]
        for convert in converters:
            value = convert(value, column, connection)
        values[position] = value
    return model.from_db(connection.alias, _attnames(model), values)


@functools.cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)
