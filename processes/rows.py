"""The statements the engine runs on every step, with their SQL built once per process.

Compiling a statement through the ORM costs a worker more CPU than PostgreSQL spends on
running it (profile in bench/README.md), and a step locks one row and writes six. These
functions build each statement's SQL once from the model's metadata and pass every value
through its field's own `get_db_prep_save`, as the ORM does, so they follow the schema and
run on PostgreSQL and SQLite alike. No signals are sent (none are connected to the models
written here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, GeneratedField, Model
from django.db.models.fields import NOT_PROVIDED, AutoFieldMixin
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)
MAX_PARAMS = 65_535  # bound parameters per statement in PostgreSQL's protocol


def row_get(model: type[M], pk: Any) -> M | None:
    """The row `pk` (None: there is no such row)."""
    return _first(model, _select_sql(model, lock=None), pk)


def row_lock(model: type[M], pk: Any, *, skip_locked: bool = False) -> M | None:
    """The row `pk`, locked until the transaction ends (None: no such row, or it is locked
    by another transaction and `skip_locked`).

    FOR NO KEY UPDATE where the database has it. SQLite has no row locks; its transactions
    take the database's write lock up front (see config.settings).
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("a row lock outside a transaction ends at once")
    return _first(model, _select_sql(model, lock="skip_locked" if skip_locked else "wait"), pk)


def row_insert(obj: Model) -> None:
    """INSERT `obj` and set its primary key."""
    model = type(obj)
    fields = _insert_fields(model)
    returning = connection.features.can_return_columns_from_insert
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, 1, returning), _insert_params(obj, fields))
        if returning:
            obj.pk = cursor.fetchone()[0]
        else:
            obj.pk = connection.ops.last_insert_id(
                cursor, model._meta.db_table, model._meta.pk.column
            )
    obj._state.adding, obj._state.db = False, connection.alias


def rows_insert(objs: Sequence[Model], *, returning_pks: bool = False) -> None:
    """INSERT rows of one model, as many per statement as the database binds parameters for.

    Their primary keys stay unset (these rows are written once and never saved again), unless
    `returning_pks`: then each gets its key from the same statement (INSERT ... RETURNING,
    in the order of the rows, as Django's bulk_create relies on too).
    """
    if not objs:
        return
    model = type(objs[0])
    fields = _insert_fields(model)
    size = min(connection.ops.bulk_batch_size(fields, objs), MAX_PARAMS // len(fields))
    returning = returning_pks and connection.features.can_return_rows_from_bulk_insert
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            batch = objs[start : start + size]
            params = [value for obj in batch for value in _insert_params(obj, fields)]
            cursor.execute(_insert_sql(model, len(batch), returning=returning), params)
            if returning:
                for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    obj.pk = pk
                    obj._state.adding, obj._state.db = False, connection.alias
    if returning_pks and not returning:
        raise NotImplementedError(f"{connection.vendor} cannot return the keys of an INSERT")


def row_save(obj: Model, fields: Iterable[str]) -> None:
    """UPDATE the named fields of `obj`'s row (as `save(update_fields=...)` without signals)."""
    names = tuple(fields)
    model = type(obj)
    values = {name: model._meta.get_field(name).pre_save(obj, False) for name in names}
    rows_update(model, values, pk=obj.pk)


def rows_update(model: type[Model], values: dict[str, Any], **where: Any) -> int:
    """UPDATE the rows whose fields equal `where` (a compare-and-set); returns how many."""
    if None in where.values():
        raise ValueError("a condition `= NULL` matches no row")
    meta = model._meta
    set_names, where_names = tuple(values), tuple(where)
    params = [
        meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    params += [
        _where_field(model, name).get_db_prep_value(value, connection, prepared=False)
        for name, value in where.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, set_names, where_names), params)
        return cursor.rowcount


def _insert_params(obj: Model, fields: tuple[Field, ...]) -> list[Any]:
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def _first(model: type[M], sql: str, pk: Any) -> M | None:
    """The row as a model instance, its values passed through the converters the ORM
    applies (`_readers`): a raw queryset would match the columns to the fields again on
    every read, a cost that grows with every column a model gains."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    names, readers = _readers(model)
    values = list(row)
    for index, column, converters in readers:
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return model.from_db(connection.alias, names, values)


@cache
def _readers(model: type[Model]) -> tuple[list[str], list[tuple[int, Any, list]]]:
    """The attribute names of the model's columns, in `_select_sql`'s order, and for each
    column that has them its database converters (as `SQLCompiler.apply_converters`)."""
    fields = model._meta.concrete_fields
    readers = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            readers.append((index, column, converters))
    return [field.attname for field in fields], readers


@cache
def _select_sql(model: type[Model], *, lock: str | None) -> str:
    quote, features = connection.ops.quote_name, connection.features
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    sql = f"SELECT {columns} FROM {table} WHERE {pk} = %s"  # noqa: S608 - names from the model
    if lock is not None and features.has_select_for_update:
        sql += " " + connection.ops.for_update_sql(
            no_key=features.has_select_for_no_key_update,
            skip_locked=lock == "skip_locked" and features.has_select_for_update_skip_locked,
        )
    return sql


@cache
def _insert_fields(model: type[Model]) -> tuple[Field, ...]:
    """Every column but the auto-increment key; refuses models these statements can't write."""
    meta = model._meta
    if not isinstance(meta.pk, AutoFieldMixin) or meta.parents:
        raise TypeError(f"{meta.label}: only models with an auto-increment key, no parents")
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    for field in fields:
        if isinstance(field, GeneratedField) or field.db_default is not NOT_PROVIDED:
            raise TypeError(f"{meta.label}.{field.name}: the database computes it")
    return fields


@cache
def _insert_sql(model: type[Model], rows: int, returning: bool) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql


@cache
def _update_sql(model: type[Model], set_names: tuple[str, ...], where_names: tuple[str, ...]):
    """Names come from the model's metadata, never from input; values are bound."""
    quote = connection.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in set_names)
    conditions = " AND ".join(
        f"{quote(_where_field(model, name).column)} = %s" for name in where_names
    )
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608


def _where_field(model: type[Model], name: str) -> Field:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)
