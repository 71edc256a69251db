"""Statements written out for the saga's hot path (docs/adr/0008-cost-per-saga.md).

Building an ORM query costs the client more CPU than running it: measured on this
project's models, a `select_related` get takes about 1 ms of CPU, the same SELECT written
out 0.13 ms; a conditional `update()` 0.44 ms against 0.10 ms. A saga runs some thirty
statements across the stack, so the statements every saga runs are written out (with these
helpers, table names from the models' metadata), and every other query keeps the ORM.
Each helper runs on Django's connection, in the caller's transaction, with the same
adapters the ORM uses.
"""

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from django.db import connection, models

Write = tuple[str, Sequence]  # one SQL write and its parameters, to run alone or along another statement

M = TypeVar("M", bound=models.Model)


def sql_one(sql: str, params: Sequence | dict = ()) -> tuple | None:
    """The first row of a statement, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def sql_get(model: type[models.Model], sql: str, params: Sequence | dict, *, key: object) -> tuple:
    """The row a statement finds for `model`'s `key`; `model.DoesNotExist` if none, as `objects.get` raises."""
    row = sql_one(sql, params)
    if row is None:
        raise model.DoesNotExist(f"{model._meta.verbose_name} {key} does not exist")
    return row


def sql_all(sql: str, params: Sequence | dict = ()) -> list[tuple]:
    """Every row of a statement."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def sql_run(sql: str, params: Sequence | dict = ()) -> int:
    """Run a statement; return how many rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@cache
def columns(model: type[models.Model], alias: str = "") -> str:
    """Every concrete column of `model`, in field order (what `row_to_model` takes)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + connection.ops.quote_name(field.column) for field in model._meta.concrete_fields)


@cache
def _converters(model: type[models.Model]) -> tuple:
    return tuple(
        (index, field.from_db_value)
        for index, field in enumerate(model._meta.concrete_fields)
        if hasattr(field, "from_db_value")
    )


def row_to_model(model: type[M], row: Sequence) -> M:
    """An instance from a row of `columns(model)`, as the ORM would have loaded it."""
    values = list(row)
    for index, convert in _converters(model):
        values[index] = convert(values[index], None, connection)
    return model.from_db(connection.alias, None, values)


def row_to_partial_model(model: type[M], **values: object) -> M:
    """An instance holding only `values` (by attname); any other field loads on first access, as with `.only()`."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


@cache
def _insert_sql(model: type[models.Model], conflict: str | None) -> tuple[str, tuple[models.Field, ...]]:
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    on_conflict = f" ON CONFLICT ({quote(meta.get_field(conflict).column)}) DO NOTHING" if conflict else ""
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}){on_conflict} RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def sql_insert(record: models.Model, *, unless_conflict_on: str | None = None, along: Sequence[Write] = ()) -> bool:
    """Insert `record` (defaults and `auto_now_add` filled in as `save()` does); set its pk; return True.

    With `unless_conflict_on`, a row that would collide on that unique field is not
    inserted (`ON CONFLICT (...) DO NOTHING`) and the call returns False: a concurrent
    insert of the same key waits for the first to commit or roll back, then inserts nothing.

    `along` are other writes, `(sql, params)`, sent in the same statement as data-modifying
    WITH queries: PostgreSQL runs each exactly once and to completion, whatever the insert
    does, so an event and its fold into a projection cost one round trip, not two.
    """
    sql, fields = _insert_sql(type(record), unless_conflict_on)
    values = [field.get_db_prep_save(field.pre_save(record, add=True), connection) for field in fields]
    if along:
        withs = ", ".join(f"along_{index} AS ({statement})" for index, (statement, _) in enumerate(along))
        sql, values = f"WITH {withs} {sql}", [value for _, params in along for value in params] + values
    row = sql_one(sql, values)
    if row is None:
        return False
    record.pk, record._state.adding = row[0], False
    record._state.db = connection.alias
    return True


def ids_explicit_lock(model: type[models.Model]) -> None:
    """Before writing rows with explicit ids, first in that transaction: no other write to the table until it commits.

    A row being inserted with the sequence's next id, not yet committed, is invisible to the
    MAX(id) of `ids_restart_after_largest`, which would set the sequence back to that id: the next
    insert collides (found by the fuzzer: a batch_init beside an item/create, a 500). With the table
    locked first, inserts in flight commit before the MAX is read and later ones wait for the restart.
    Taken first, before this transaction's own writes, so two such writers queue instead of deadlocking.
    """
    sql_run(f"LOCK TABLE {table(model)} IN SHARE ROW EXCLUSIVE MODE")


def ids_restart_after_largest(model: type[models.Model]) -> None:
    """After rows were written with explicit ids: the next id the sequence gives is the largest + 1 (1 if none).

    Django's sequence_reset_sql sets the sequence *to* the largest id, which PostgreSQL refuses
    when that id is 0 (a sequence starts at 1): batch_init of one row, id 0, on an empty table.
    The transaction took `ids_explicit_lock` first.
    """
    pk = model._meta.pk
    sql_run(
        f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({column(model, pk.name)}), 0) + 1, false)"
        f" FROM {table(model)}",
        [model._meta.db_table, pk.column],
    )
