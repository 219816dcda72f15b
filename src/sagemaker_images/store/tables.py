"""A table's SQL, derived from its record's declaration (`sagemaker_images.resources.records`).

Column lists, the insert statement, update assignments and the conversions between a
record's values and what the database holds (`bool` as an integer, `dict` as JSON text)
are computed once per table, here, so no statement spells a resource's columns by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import orjson

from sagemaker_images.resources.codegen import function
from sagemaker_images.resources.records import Column, columns_of

R = TypeVar("R")
Convert = Callable[[Any], Any]


def _document_text(value: dict[str, Any] | list[Any]) -> str:
    return orjson.dumps(value).decode()


# Per column type: (to the database, from the database); None where the value passes as is.
_CONVERSIONS: dict[type, tuple[Convert, Convert]] = {
    bool: (int, bool),
    dict: (_document_text, orjson.loads),
    list: (_document_text, orjson.loads),
}


class Table(Generic[R]):
    def __init__(self, name: str, record_type: type[R]) -> None:
        self.name = name
        self.record_type = record_type
        self.columns: tuple[Column, ...] = columns_of(record_type)
        self.column_names = tuple(c.name for c in self.columns)
        self.select_list = ", ".join(self.column_names)
        inserted = [c for c in self.columns if not c.generated]
        generated = [c.name for c in self.columns if c.generated]
        self.insert_sql = (
            f"INSERT INTO {name} ({', '.join(c.name for c in inserted)})"
            f" VALUES ({', '.join('?' for _ in inserted)})"
            + (f" RETURNING {', '.join(generated)}" if generated else "")
        )
        self._updatable = frozenset(c.name for c in self.columns if not c.generated)
        self._to_db = {
            c.name: _CONVERSIONS[c.type][0] for c in self.columns if c.type in _CONVERSIONS
        }
        # Both generated (see codegen.py): every read and every create runs them.
        self.record: Callable[[Sequence[Any]], R] = _record_builder(record_type, self.columns)
        """The record of a row of all columns, in order."""
        self.insert_params: Callable[[R], tuple[Any, ...]] = _params_builder(inserted)
        """The parameters of `insert_sql` for a record."""

    def select_of(self, alias: str) -> str:
        """The column list qualified by a table alias, for joins."""
        return ", ".join(f"{alias}.{name}" for name in self.column_names)

    def to_db(self, column: str, value: Any) -> Any:
        convert = self._to_db.get(column)
        return value if convert is None or value is None else convert(value)

    def known(self, *names: str) -> tuple[str, ...]:
        """The names, once each is known to be one of its columns (what SQL is made of
        must never be anything else)."""
        unknown = set(names) - self._updatable
        if unknown:
            raise ValueError(f"{self.name} has no updatable columns {sorted(unknown)}")
        return names

    def assignments(self, changes: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """`a = ?, b = ?` and its parameters, for an UPDATE of the named columns."""
        self.known(*changes)
        names = sorted(changes)
        return (
            ", ".join(f"{name} = ?" for name in names),
            [self.to_db(name, changes[name]) for name in names],
        )


def _record_builder(record_type: type, columns: Sequence[Column]) -> Callable[..., Any]:
    """`record(row)`: the record built from the row, each converted column converted back."""
    body = ["record = record_type(*row)"]
    namespace: dict[str, Any] = {"record_type": record_type}
    for column in columns:
        if column.type in _CONVERSIONS:
            namespace[f"from_{column.name}"] = _CONVERSIONS[column.type][1]
            body += [
                f"if record.{column.name} is not None:",
                f"    record.{column.name} = from_{column.name}(record.{column.name})",
            ]
    body.append("return record")
    return function("record", "row", body, namespace)


def _params_builder(columns: Sequence[Column]) -> Callable[..., tuple[Any, ...]]:
    """`params(record)`: the record's values of `columns`, converted for the database."""
    namespace: dict[str, Any] = {}
    values = []
    for column in columns:
        value = f"record.{column.name}"
        if column.type in _CONVERSIONS:
            namespace[f"to_{column.name}"] = _CONVERSIONS[column.type][0]
            value = f"(None if {value} is None else to_{column.name}({value}))"
        values.append(value)
    return function("params", "record", [f"return ({', '.join(values)},)"], namespace)
