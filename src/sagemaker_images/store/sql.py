"""What every resource's queries share: the three primitives a dialect provides, and the
pieces of SQL that listings have in common (time filters, name filters, keyset pages).

Statements are written with `?` placeholders and two words a dialect fills in: `{lock}`
(a row lock: `FOR UPDATE`, or nothing on SQLite, whose one writer locks everything) and
`{skip_locked}` (for claiming jobs), and where servers share a database `{lease_holder_gone}`
(for taking over the jobs of a server that died).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Lookup(str):
    """A statement that reads at most one row, found by key. On PostgreSQL, lookups of one
    statement that wait for a connection together may be asked as one (pg_reads.py)."""


class Batch(str):
    """A statement that works on a batch of rows, run once per batch: planned for its
    values and the tables' present size each time it runs, never from a plan kept on the
    connection (PostgreSQL keeps the plan of a prepared statement that it chose while the
    tables were small until they are next analyzed: seen scanning 66,000 versions to finish
    a batch of 64 jobs, and every token of an image to group creates). Its planning is
    shared by the batch; a one-row statement keeps its saved plan, which costs a third."""


class Queries(Protocol):
    """Reads: as part of a transaction they see it, outside one the last commit."""

    async def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class Statements(Queries, Protocol):
    """Reads and writes inside one open transaction."""

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute; the number of rows changed. A unique violation raises DuplicateKey."""
        ...

    async def lock_key(self, key: str) -> None:
        """Hold a lock named `key` until the transaction ends (a no-op where the database
        has a single writer)."""
        ...

    async def present(self, owner: str) -> bool:
        """Whether `owner`'s server holds its presence (`Store.presence`) as the transaction
        sees it: always, where the database serves a single server."""
        ...


@dataclass(frozen=True, slots=True)
class TimeFilters:
    """Inclusive bounds on creation and last-modified time, in epoch milliseconds."""

    created_after: int | None = None
    created_before: int | None = None
    modified_after: int | None = None
    modified_before: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One keyset page: sort columns, direction, the key of the last row seen, the size."""

    sort: tuple[str, ...]
    descending: bool
    after: tuple[Any, ...] | None
    limit: int


class Where:
    """A WHERE clause and its parameters, built up condition by condition."""

    def __init__(self, condition: str, *params: Any) -> None:
        self.conditions = [condition]
        self.params: list[Any] = list(params)

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def times(self, filters: TimeFilters) -> None:
        for column, op, value in (
            ("created_ms", ">=", filters.created_after),
            ("created_ms", "<=", filters.created_before),
            ("modified_ms", ">=", filters.modified_after),
            ("modified_ms", "<=", filters.modified_before),
        ):
            if value is not None:
                self.add(f"{column} {op} ?", value)

    def name_contains(self, fragment: str | None) -> None:
        """Rows whose lower-cased name holds `fragment` (already lower-cased)."""
        if fragment:
            escaped = fragment.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            self.add("name_key LIKE ? ESCAPE '!'", f"%{escaped}%")

    def page(self, page: PageRequest) -> str:
        """Add 'after the last row seen'; the clause with its ORDER BY ... LIMIT tail."""
        direction = " DESC" if page.descending else ""
        if page.after is not None:
            columns = ", ".join(page.sort)
            marks = ", ".join("?" for _ in page.sort)
            self.add(f"({columns}) {'<' if page.descending else '>'} ({marks})", *page.after)
        self.params.append(page.limit)
        order = ", ".join(c + direction for c in page.sort)
        return f"{self} ORDER BY {order} LIMIT ?"

    def __str__(self) -> str:
        return " AND ".join(self.conditions)
