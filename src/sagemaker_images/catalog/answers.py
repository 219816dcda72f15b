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

from sagemaker_images.resources.codegen import function
from sagemaker_images.resources.kinds import ResourceKind
from sagemaker_images.resources.records import Column, columns_of, listed_columns

Answer = Callable[..., dict[str, Any]]
AnswerList = Callable[..., list[dict[str, Any]]]


class Wire:
    """One kind's records as the wire carries them: its answers (Describe's, a List's
    items), and the columns a Create or an Update request gives.

    An answer carries the kind's ARN (`{wire}Arn`): a prefix given per call
    (`kind.arn_prefix(...)`) and the value of the key's last column. Each builder is called
    with the record (or rows), the ARN prefix, then one value for each member of `shared`:
    members every answer carries alike (an image version's ImageArn).
    """

    def __init__(self, kind: ResourceKind[Any], shared: Sequence[str] = ()) -> None:
        self.kind = kind
        record_type = kind.record
        listed_arn = kind.listed_arn
        columns = columns_of(record_type)
        listed = listed_columns(record_type)
        arn = (kind.arn_member, next(c for c in columns if c.name == kind.key[-1]))
        # Every member the record carries, with its ARN: a Describe answer.
        self.described: Answer = _builder([c for c in columns if c.member], arn, shared)
        # The members list calls show, from a record or from rows of the listed columns
        # (without the ARN where the listing's shape has none: user profiles, spaces).
        self.listed: Answer = _builder(listed, arn if listed_arn else None, shared)
        if listed_arn and arn[1] in listed:
            self.listed_rows: AnswerList = _builder(listed, arn, shared, rows=True)
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
    columns: Sequence[Column],
    arn: tuple[str, Column] | None,
    shared: Sequence[str],
    *,
    rows: bool = False,
) -> Callable[..., Any]:
    """A function of a record that answers `{member: value}` for each column whose value is
    not None, the ARN and the shared members; with `rows`, a function of a list of rows
    holding `columns` in order, that answers the list of answers.

    Columns that cannot be None go into one dictionary display, the others are added if
    present: the fastest way to build a dictionary in CPython."""
    positions = {column.name: position for position, column in enumerate(columns)}

    def read(column: Column) -> str:
        if rows:  # a row holds `columns` only, the ARN's key among them
            return f"record[{positions[column.name]}]"
        return f"record.{column.name}"

    parameters = ", ".join(["prefix", *(f"shared_{n}" for n in range(len(shared)))])
    always = []
    if arn is not None:
        arn_member, key = arn
        key_text = read(key) if key.type is str else f"str({read(key)})"
        always.append(f"{arn_member!r}: prefix + {key_text}")
    always += [f"{member!r}: shared_{n}" for n, member in enumerate(shared)]
    always += [f"{c.member!r}: {read(c)}" for c in columns if not c.optional]
    body = [f"answer = {{{', '.join(always)}}}"]
    for column in columns:
        if column.optional:
            value = read(column)
            body += [f"if {value} is not None:", f"    answer[{column.member!r}] = {value}"]
    if not rows:
        return function("answer", f"record, {parameters}", [*body, "return answer"])
    loop = ["answers = []", "for record in records:"]
    loop += [f"    {line}" for line in body]
    loop += ["    answers.append(answer)", "return answers"]
    return function("answers", f"records, {parameters}", loop)
