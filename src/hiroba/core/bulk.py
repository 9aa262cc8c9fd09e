"""Write many rows without a model instance per row: `insert_rows` (an INSERT per row through
``executemany``, values as tuples, or multi-row INSERTs ``RETURNING`` the columns asked for) and
`update_by_pk` (one column of many rows, each to its own value, in one statement per `size` rows,
with other columns set alike).

Building a model instance per row and preparing each field of it is most of ``bulk_create``'s
time for tens of thousands of rows (a records scan's inventory, a notices batch). Django's ``bulk_update`` writes ``SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END``, which
the database evaluates row by row against every WHEN: quadratic in the batch size (a 6,000-notice
dispatch spent most of its time there). ``UPDATE … FROM (VALUES …)`` joins instead; PostgreSQL and
SQLite ≥ 3.33 both run it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import NotSupportedError, connection, models


def column(model: type[models.Model], field: str = "pk") -> str:
    """The quoted column of `field` (``"pk"``: the primary key), for the few statements the ORM cannot write."""
    meta = model._meta
    target = meta.pk if field == "pk" else meta.get_field(field)
    if not isinstance(target, models.Field) or not target.column:
        raise ValueError(f"{meta.label}.{field} is not a column")
    return connection.ops.quote_name(target.column)


def db_value(model: type[models.Model], field: str, value: Any) -> Any:
    """`value` as the database takes it for ``model.field`` (a datetime, a JSON document), for
    `insert_rows`: prepare a constant once, not once per row."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)  # type: ignore[union-attr]


def _max_params() -> int:
    """Parameters one statement may bind: SQLite's compiled-in limit (32,766 since 3.32; Django
    assumes 999), PostgreSQL's protocol limit."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return int(connection.features.max_query_params or 65535)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], *,
                size: int = 5000, returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """INSERT `rows` (values in the order of `fields`, each ready for the database: str, int,
    None, or `db_value`), `size` rows at a time: the rows ``bulk_create`` writes, with no model
    instance, no ``pre_save`` (give every column a value: defaults are not applied), no signal.

    Without `returning`: SQLite runs one ``executemany`` (a statement prepared once, bound per
    row); PostgreSQL one ``COPY … FROM STDIN`` for all the rows (psycopg 3 writes each row's
    values through its dumpers: no SQL text to build or parse — a multi-row INSERT of 1,000 rows
    of 13 columns spent most of its client time in psycopg splitting the statement at its 13,000
    placeholders, since Django binds parameters on the client). Returns ``[]``.

    With `returning` (field names, ``"pk"`` for the primary key): multi-row INSERTs ``RETURNING``
    those columns on both databases (PostgreSQL, SQLite ≥ 3.35), and the rows they return, in
    no promised order (SQLite does not promise one): return a column that tells the rows apart."""
    if not rows:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(column(model, f) for f in fields)
    one = f"({', '.join(['%s'] * len(fields))})"
    if returning and not connection.features.can_return_rows_from_bulk_insert:
        raise NotSupportedError(f"{connection.vendor} cannot return rows from a multi-row INSERT")
    back = f" RETURNING {', '.join(column(model, f) for f in returning)}" if returning else ""
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if not returning and connection.features.max_query_params is not None:  # SQLite
            for start in range(0, len(rows), size):
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one}", rows[start:start + size])  # nosec B608
            return out
        if not returning and hasattr(cursor.cursor, "copy"):  # PostgreSQL through psycopg 3
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # nosec B608
                for row in rows:
                    copy.write_row(row)
            return out
        size = max(1, min(size, _max_params() // len(fields)))
        for start in range(0, len(rows), size):
            part = rows[start:start + size]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(part))}{back}",  # nosec B608
                           [value for row in part for value in row])
            if returning:
                out.extend(tuple(row) for row in cursor.fetchall())
    return out


def update_by_pk(model: type[models.Model], field: str, values: Mapping[int, int | None], *, size: int = 2000,
                 also: Mapping[str, Any] | None = None) -> int:
    """For each ``pk → value`` of `values`, set ``model.field`` (an integer or foreign-key column)
    of row `pk` to `value`; and, in the same statement, each field of `also` to its value (the
    same for every row, ready for the database: str, int, None, or `db_value`) — a row that takes
    a new state and its own link is written once, not once per UPDATE. Returns how many rows were
    updated."""
    if not values:
        return 0
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    target, pk = column(model, field), column(model)
    constant = list((also or {}).items())
    sets = "".join(f", {column(model, name)} = %s" for name, _value in constant)
    items = list(values.items())
    done = 0
    with connection.cursor() as cursor:
        for start in range(0, len(items), size):
            part = items[start:start + size]
            rows = ", ".join(["(CAST(%s AS bigint), CAST(%s AS bigint))"] * len(part))
            cursor.execute(
                # both databases name a VALUES list's columns column1, column2, …
                f"UPDATE {table} SET {target} = v.column2{sets} FROM (VALUES {rows}) AS v "  # nosec B608
                f"WHERE {table}.{pk} = v.column1",
                [*(value for _name, value in constant), *(x for pair in part for x in pair)],
            )
            done += cursor.rowcount
    return done
