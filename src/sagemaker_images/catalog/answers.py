"""A record as answers show it and as requests give it, derived from its declaration.

Answers are native values keyed by the model's member names, absent members as None and
times in epoch milliseconds: the protocol layer turns them into wire JSON.

The functions that build answers are generated from the declaration, the way `dataclasses`
generates `__init__`: straight-line code that copies each present value under its member's
name. Measured, that costs a third of zipping names with an attrgetter's values, and a
Describe builds one on every call; leaving absent members out as it goes also spares the
serialiser its pass that drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sagemaker_images.codegen import function
from sagemaker_images.records import Column, columns_of, listed_columns


class Members:
    """The members of one record type."""

    def __init__(self, record_type: type) -> None:
        columns = columns_of(record_type)
        listed = listed_columns(record_type)
        # Every member the record carries: a Describe answer but for computed members.
        self.described = _builder([c for c in columns if c.member], "record.{}")
        # The members list calls show, from a record or from a row of the listed columns.
        self.listed = _builder(listed, "record.{}")
        self.listed_row = _builder(listed, "record[{}]", by_position=True)
        self._given = tuple((str(c.member), c.name) for c in columns if c.create)
        self._updated = tuple((str(c.member), c.name) for c in columns if c.update)

    def given(self, request: dict[str, Any]) -> dict[str, Any]:
        """Column values a create request gives (None for members it leaves out)."""
        return {column: request.get(member) for member, column in self._given}

    def changes(self, request: dict[str, Any]) -> dict[str, Any]:
        """Column values an update request changes (only members it sends)."""
        return {column: request[member] for member, column in self._updated if member in request}

    def column_of(self, member: str) -> str:
        for given, column in self._updated:
            if given == member:
                return column
        raise KeyError(member)


def _builder(
    columns: Sequence[Column], access: str, *, by_position: bool = False
) -> Callable[[Any], dict[str, Any]]:
    """A function of a record (or row) that answers `{member: value}` for each column whose
    value is not None; `access` spells reading one column (`record.name`, `record[0]`)."""
    body = ["answer = {}"]
    for position, column in enumerate(columns):
        value = access.format(position if by_position else column.name)
        body += [f"if {value} is not None:", f"    answer[{column.member!r}] = {value}"]
    body.append("return answer")
    return function("answer", "record", body)
