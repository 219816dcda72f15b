"""Reads that wait for a connection together go to PostgreSQL together.

A single-row read costs PostgreSQL and the server far more for its round trip (a wakeup
at each end, a bind and an execute, psycopg's send and wait) than for its rows: measured
here, one lookup a statement ran at about 6k/s where eight lookups a statement ran at 24k
lookups/s, with a third of the database's CPU per lookup. So when every connection is busy,
lookups of the same statement (`sql.Lookup`: at most one row, by key) that queue for the
next one free become one statement:

    SELECT grouped_call.n, q.*
    FROM json_to_recordset(?) AS grouped_call(n integer, arg0 text, ...)
    CROSS JOIN LATERAL (<the read, each ? replaced by grouped_call.argN>) q

one row of arguments per read, and each read gets the rows numbered with its own `n`. A
read that finds a connection free runs alone, as before: grouping only ever replaces
waiting. Each read of a group still sees every write acknowledged before it was asked
(the statement starts after the last of them arrived).

Every other read runs alone, as does a lookup that cannot be written so (one without
parameters, a parameter that is NULL in every read of a group, an aggregate of a parameter
alone, a value PostgreSQL cannot hold): statements PostgreSQL refuses to group are
remembered, and a group refused for its values is run again read by read, so each gets the
answer it would have had alone. When the group's wait for a connection times out, all its
reads are answered unavailable (503) together, including those that joined it late.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg

from sagemaker_images.store.errors import StoreUnavailable, UnstorableValue
from sagemaker_images.store.pg_connections import StatementMaker
from sagemaker_images.store.sql import Lookup
from sagemaker_images.store.waiting import answer, fail

log = logging.getLogger(__name__)

Rows = list[tuple[Any, ...]]
# Runs a statement (`?` placeholders) on a pooled connection; its maker is called once the
# connection is held (a group takes no member after that).
Fetch = Callable[[StatementMaker], Awaitable[Rows]]

# Reads in one statement at most: beyond it, the next group.
MOST_PER_GROUP = 64
_ALIAS = "grouped_call"

# How each Python value a read passes travels in the JSON rows (bool before int: a bool is
# an int to Python).
_SQL_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "float8"),
    (str, "text"),
)


class _Group:
    """Reads of one statement waiting for the same connection."""

    def __init__(self, sql: str, joined: bool) -> None:
        self.sql = sql
        self.members: list[tuple[Sequence[Any], asyncio.Future[Rows]]] = []
        self.statement: tuple[str, Sequence[Any]] | None = None
        # Whether the statement is the grouping one (its rows numbered by read), even for
        # one read; else a lone read is asked as it was written.
        self.joined = joined


class GroupedReads:
    """Groups the single-row reads that find no connection free (see the module's text)."""

    def __init__(
        self, fetch: Fetch, connection_free: Callable[[], bool], *, always: bool = False
    ) -> None:
        """`always`: group every lookup, even one that finds a connection free, and ask
        even a lone one in the grouping form (for tests: every read takes that path)."""
        self._fetch = fetch
        self._connection_free = connection_free
        self._always = always
        self._forming: dict[str, _Group] = {}
        self._refused: set[str] = set()  # statements PostgreSQL cannot take as a group
        self._running: set[asyncio.Task[None]] = set()  # held here: the loop keeps weak ones
        self.groups = 0  # statements that answered several reads, since the server started
        self.grouped = 0  # the reads they answered

    async def rows(self, sql: str, params: Sequence[Any]) -> Rows:
        """The rows of one read: a lookup with others when it would wait for a connection,
        any other alone."""
        if (
            not isinstance(sql, Lookup)
            or not params
            or sql in self._refused
            or (not self._always and self._connection_free())
        ):
            return await self._read_alone(sql, params)
        group = self._forming.get(sql)
        if group is None or len(group.members) >= MOST_PER_GROUP:
            group = self._forming[sql] = _Group(sql, self._always)
            task = asyncio.get_running_loop().create_task(self._run(group))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        answer: asyncio.Future[Rows] = asyncio.get_running_loop().create_future()
        group.members.append((params, answer))
        return await answer

    async def close(self) -> None:
        """Stop the groups still waiting (their reads are told they were cancelled)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _read_alone(self, sql: str, params: Sequence[Any]) -> Rows:
        return await self._fetch(lambda: (sql, params))

    async def _run(self, group: _Group) -> None:
        try:
            rows = await self._fetch(lambda: self._close(group))
        except BaseException as error:
            # Before anything else: a read that joined a group already answered (here, one
            # that never got a connection) would wait for ever.
            self._seal(group)
            alone = not group.joined  # its own statement: its own error
            if not alone and isinstance(error, (psycopg.Error, UnstorableValue, ValueError)):
                await self._ask_alone(group, error)
                return
            fail((waiting for _, waiting in group.members), error)  # unavailable, or stopped
            if not isinstance(error, (StoreUnavailable, psycopg.Error, UnstorableValue)):
                raise
            return
        if not group.joined:
            answer(group.members[0][1], rows)
            return
        self.groups += 1
        self.grouped += len(group.members)
        by_member: list[Rows] = [[] for _ in group.members]
        for row in rows:
            by_member[row[0]].append(row[1:])
        for (_, waiting), found in zip(group.members, by_member, strict=True):
            answer(waiting, found)

    async def _ask_alone(self, group: _Group, error: Exception) -> None:
        """A group PostgreSQL refused, for its values (a text it cannot hold) or for its
        form: each read again alone, for the answer (or error) it would have had."""
        if isinstance(error, psycopg.ProgrammingError):
            log.debug("reads of this statement are not grouped: %s", error)
            self._refused.add(group.sql)
        await asyncio.gather(*(self._answer_alone(group.sql, *m) for m in group.members))

    async def _answer_alone(
        self, sql: str, params: Sequence[Any], waiting: asyncio.Future[Rows]
    ) -> None:
        try:
            rows = await self._read_alone(sql, params)
        except BaseException as error:
            fail([waiting], error)
            if not isinstance(error, Exception):
                raise
        else:
            answer(waiting, rows)

    def _close(self, group: _Group) -> tuple[str, Sequence[Any]]:
        """The group's statement, made when its connection is held: no member joins after
        that (a later read starts the next group). The same statement on every call."""
        if group.statement is None:
            self._seal(group)
            group.statement = _statement(group)
        return group.statement

    def _seal(self, group: _Group) -> None:
        if self._forming.get(group.sql) is group:
            del self._forming[group.sql]


def _statement(group: _Group) -> tuple[str, Sequence[Any]]:
    """One read alone as it was asked; several (or one, where always joined) as one
    statement of JSON rows."""
    if len(group.members) == 1 and not group.joined:
        return group.sql, group.members[0][0]
    group.joined = True
    columns = [_sql_type([params[i] for params, _ in group.members]) for i in range(_width(group))]
    if None in columns:
        raise ValueError("a parameter without a value in every read: no type to give it")
    declared = ", ".join(f"arg{i} {kind}" for i, kind in enumerate(columns))
    parts = group.sql.split("?")
    lateral = parts[0] + "".join(f"{_ALIAS}.arg{i}{rest}" for i, rest in enumerate(parts[1:]))
    sql = (
        f"SELECT {_ALIAS}.n, q.* FROM json_to_recordset(?) AS {_ALIAS}(n integer, {declared})"
        f" CROSS JOIN LATERAL ({lateral}) q"
    )
    rows = [
        {"n": n, **{f"arg{i}": value for i, value in enumerate(params)}}
        for n, (params, _) in enumerate(group.members)
    ]
    return sql, (json.dumps(rows),)


def _width(group: _Group) -> int:
    return len(group.members[0][0])


def _sql_type(values: list[Any]) -> str | None:
    """The one type that every value given is of (enumerations by their values' type)."""
    kinds = {_kind(value) for value in values if value is not None}
    return kinds.pop() if len(kinds) == 1 else None


def _kind(value: Any) -> str | None:
    for python_type, sql_type in _SQL_TYPES:
        if isinstance(value, python_type):
            return sql_type
    return None
