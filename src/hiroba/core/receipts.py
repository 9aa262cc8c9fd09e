"""One way to number what residents hand in (受付番号): a counter column on a parent row.

`take_next` advances the counter with one ``UPDATE … SET n = n + 1 WHERE id = %s RETURNING n``
(SQLite ≥ 3.35 and PostgreSQL). The row lock it takes lasts until the caller's transaction ends,
so numbers never repeat; a rolled-back transaction gives its number back, so they never skip.
Call it inside the transaction that stores the numbered record, and acknowledge the number only
after that transaction commits.

`receipt_number` is the one printed form: ``{prefix}-{seq:04d}`` — four digits at least, more
when the sequence outgrows them (9999 → ``-9999``, 10000 → ``-10000``). The same rule formatted
in SQL, for a hot path that numbers inside one statement, is `receipt_number_sql`.
"""

from __future__ import annotations

from django.db import connection, models

from hiroba.core.errors import ServiceError


def take_next(model: type[models.Model], pk: int, field: str) -> int:
    """Advance ``model.field`` of row ``pk`` by one and return the new value (1 for the first
    number when the counter starts at 0)."""
    table = connection.ops.quote_name(model._meta.db_table)
    concrete = model._meta.get_field(field)
    assert isinstance(concrete, models.Field) and concrete.column and model._meta.pk is not None
    column = connection.ops.quote_name(concrete.column)
    pk_column = connection.ops.quote_name(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE {pk_column} = %s RETURNING {column}", [pk]  # nosec B608
        )
        row = cursor.fetchone()
    if row is None:
        raise ServiceError("番号を振る対象が見つかりません。", code="counter_missing")
    return int(row[0])


def receipt_number(prefix: str, seq: int) -> str:
    """``{prefix}-{seq:04d}``: the 受付番号 as printed on every receipt."""
    return f"{prefix}-{seq:04d}"


def receipt_number_sql(seq_sql: str) -> str:
    """SQL (PostgreSQL) for the digits of `receipt_number` from an integer expression; the
    caller concatenates the prefix and its hyphen in front: ``%s || <this>``."""
    return f"CASE WHEN {seq_sql} < 10000 THEN lpad(({seq_sql})::text, 4, '0') ELSE ({seq_sql})::text END"
