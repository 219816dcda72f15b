"""CreateImageVersion's writes on PostgreSQL: one statement, committed alone, for a call or
for a group of calls.

The statement locks the image's row, advances its counter and writes the version, its
aliases, its client token and its job from the number it gave. Creates on one image queue
on that lock, so the time it is held bounds their rate: a transaction of seven statements
holding it gave 220 creates/s here, one statement and its COMMIT 627/s, one autocommit
statement about 1,000-1,400/s. What remained was the statement and its commit, once per
call.

So a server writes one group of creates at a time (2,900-3,900 creates/s on one image
here, measured the same way): the creates that arrive while its
previous group is being written are written together, in one statement and one commit
(group commit, done by the server). A lone create is written at once, as before; under
load a group holds as many as arrived meanwhile. Each call gets the answer the statement
would have given it alone: where a group cannot tell (its image refused the group, or one
call's alias or client token clashed with another's and failed the whole statement), that
call is written again by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from sagemaker_images.resources.states import VersionStatus
from sagemaker_images.store.errors import DuplicateKey, UnstorableValue
from sagemaker_images.store.events import (
    COLUMNS as EVENT_COLUMNS,
)
from sagemaker_images.store.events import (
    DELIVER,
    IMAGE_EVENT,
    ON_JOB_CONFLICT,
    VERSION_EVENT,
    EventSinks,
)
from sagemaker_images.store.pg_presence import JOB_CHANNEL
from sagemaker_images.store.sql import Batch
from sagemaker_images.store.versions import ALLOCATE, VERSIONS, NewVersion
from sagemaker_images.store.waiting import answer, fail

# The most creates written in one statement.
MOST_IN_A_GROUP = 64

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Announcing:
    """A statement that adds jobs, in two forms: `quiet`, and `notifying` the other servers
    of them (with the notification's payload as its last parameter)."""

    quiet: str
    notifying: str

    def sql(self, announce: bool) -> str:
        return self.notifying if announce else self.quiet


# Runs a statement committed alone, for jobs due at a time: (statement, params, due_ms).
Write = Callable[[Announcing, Sequence[Any], int], Awaitable[Rows]]

_INSERTED = [c for c in VERSIONS.columns if not c.generated]
# The version's own columns (the statement takes the image and the number from the
# counter), and where they sit among its insert parameters.
_OWN = [c for c in _INSERTED if c.name not in ("image_id", "version")]
_OWN_AT = [_INSERTED.index(c) for c in _OWN]
_SQL_TYPES = {str: "text", int: "bigint", bool: "smallint"}


def _own_values(new: NewVersion) -> list[Any]:
    inserted = VERSIONS.insert_params(new.version)
    return [inserted[i] for i in _OWN_AT]


def _notify(announce: bool, source: str) -> tuple[str, str]:
    """The CTE that notifies (once, if `source` has rows) and the column that makes it run."""
    if not announce:
        return "", ""
    return (
        f", x AS (SELECT pg_notify('{JOB_CHANNEL}', ?) WHERE EXISTS (SELECT 1 FROM {source}))",
        ", (SELECT COUNT(*) FROM x)",
    )


def _events(source: str, columns: tuple[str, str, str, str, str, str]) -> str:
    """The CTEs that write each new version's CREATING event, from the rows of `source`
    (their image's id, account, region and name, the number and the time, as `columns`
    name them), for every sink, and ask for each delivered sink's job. Parameters: the
    sinks' numbers, the delivered ones' and the jobs' due time."""
    image_id, account, region, name, number, created = columns
    tags = (
        "COALESCE((SELECT json_object_agg(tag_key, tag_value ORDER BY tag_key) FROM tags"
        f" WHERE resource_type = '{IMAGE_EVENT}' AND resource_id = {image_id}), '{{}}')::text"
    )
    return (
        f", e AS (INSERT INTO events ({EVENT_COLUMNS}) SELECT gen_random_uuid()::text,"
        f" {account}, {region}, '{VERSION_EVENT}', {name}, {number}, '{VersionStatus.CREATING}',"
        f" NULL, {tags}, {created} FROM {source} RETURNING id),"
        " ed AS (INSERT INTO event_deliveries (sink_id, event_id)"
        " SELECT s, e.id FROM e, unnest(?::bigint[]) AS s),"
        " ej AS (INSERT INTO jobs (kind, subject_id, version, due_ms, attempts)"
        f" SELECT '{DELIVER}', s, NULL, ?, 0 FROM unnest(?::bigint[]) AS s"
        f" WHERE EXISTS (SELECT 1 FROM e) {ON_JOB_CONFLICT})"
    )


def _single_sql(announce: bool, events: bool = False) -> str:
    """One call's writes. Parameters: the image key, status, limit and client token (the
    counter's), the version's own columns, the aliases, the client token with its digest
    and time, the job's kind and due time; with `events`, the account, region and time of
    the version's event and `_events`' parameters."""
    counted = {"image_id": "n.id", "version": "n.last_version"}
    values = [counted.get(c.name, "?") for c in _INSERTED]
    notify, count = _notify(announce, "n")
    if events:
        notify = (
            _events("n", ("n.id", "?::text", "?::text", "n.name", "n.last_version", "?::bigint"))
            + notify
        )
    return (
        f"WITH n AS ({ALLOCATE}),"
        f" v AS (INSERT INTO image_versions ({', '.join(c.name for c in _INSERTED)})"
        f" SELECT {', '.join(values)} FROM n),"
        " a AS (INSERT INTO image_version_aliases (image_id, alias, version)"
        " SELECT n.id, alias, n.last_version FROM n, unnest(?::text[]) AS alias),"
        " t AS (INSERT INTO client_tokens (image_id, token, request_digest, version, created_ms)"
        " SELECT n.id, ?, ?, n.last_version, ? FROM n),"
        " j AS (INSERT INTO jobs (kind, subject_id, version, due_ms, attempts)"
        f" SELECT ?, n.id, n.last_version, ?, 0 FROM n){notify}"
        f" SELECT name, last_version{count} FROM n"
    )


# The fields of a group's rows, sent as one JSON document: the call's place in the group,
# the image key, the client token, the version's own columns, the aliases, the job.
_GROUP_FIELDS = [
    "ord integer",
    "account text",
    "region text",
    "name_key text",
    "token text",
    "digest text",
    "token_ms bigint",
    "kind text",
    "due bigint",
    "aliases json",
    *(f"{c.name} {_SQL_TYPES[c.type]}" for c in _OWN),
]

_GROUP_NAMES = [field.split()[0] for field in _GROUP_FIELDS]


def _group_sql(announce: bool, events: bool = False) -> str:
    """A group's writes. Parameters: the rows (JSON), the status and the limit; with
    `events`, `_events`' parameters.

    Each image named in the group is locked and advanced once, by its number of calls,
    only while it may take them all and holds no version made with any of their client
    tokens; its calls are numbered in their order in the group."""
    key = ("account", "region", "name_key")
    same = " AND ".join(f"images.{k} = c.{k}" for k in key)
    joined = " AND ".join(f"r.{k} = n.{k}" for k in key)
    own = ", ".join(c.name for c in _OWN)
    notify, count = _notify(announce, "m")
    if events:
        columns = ("m.image_id", "m.account", "m.region", "m.name", "m.number", "m.created_ms")
        notify = _events("m", columns) + notify
    return (
        "WITH r AS (SELECT * FROM json_to_recordset(?::json)"
        f" AS r({', '.join(_GROUP_FIELDS)})),"
        f" c AS (SELECT {', '.join(key)}, COUNT(*) AS k, array_agg(token) AS tokens"
        f" FROM r GROUP BY {', '.join(key)}),"
        " n AS (UPDATE images SET last_version = last_version + c.k,"
        " version_count = version_count + c.k FROM c"
        f" WHERE {same} AND images.status = ? AND images.version_count + c.k <= ?"
        # Each token looked up by its whole key (an image may hold many thousands). As a
        # join, PostgreSQL read all of an image's tokens when its statistics were stale
        # (made before most of the tokens): 40 ms a group after 50,000 creates. OFFSET 0
        # keeps the lookup a subquery run per token, which can only go by key.
        " AND NOT EXISTS (SELECT 1 FROM unnest(c.tokens) AS x(token) WHERE EXISTS"
        " (SELECT 1 FROM client_tokens t WHERE t.image_id = images.id AND t.token = x.token"
        " OFFSET 0))"
        " RETURNING images.id, images.name, c.account, c.region, c.name_key,"
        " images.last_version - c.k AS base),"
        " m AS (SELECT r.*, n.id AS image_id, n.name,"
        " n.base + ROW_NUMBER() OVER (PARTITION BY n.id ORDER BY r.ord) AS number"
        f" FROM r JOIN n ON {joined}),"
        f" v AS (INSERT INTO image_versions ({', '.join(c.name for c in _INSERTED)})"
        f" SELECT image_id, number, {own} FROM m),"
        " a AS (INSERT INTO image_version_aliases (image_id, alias, version)"
        " SELECT m.image_id, x.alias, m.number FROM m,"
        " json_array_elements_text(m.aliases) AS x(alias)),"
        " t AS (INSERT INTO client_tokens (image_id, token, request_digest, version, created_ms)"
        " SELECT image_id, token, digest, number, token_ms FROM m),"
        " j AS (INSERT INTO jobs (kind, subject_id, version, due_ms, attempts)"
        f" SELECT kind, image_id, number, due, 0 FROM m){notify}"
        f" SELECT ord, name, number{count} FROM m"
    )


SINGLE = Announcing(_single_sql(False), _single_sql(True))
GROUP = Announcing(Batch(_group_sql(False)), Batch(_group_sql(True)))
# The same, writing each version's CREATING event too.
SINGLE_EVENTS = Announcing(_single_sql(False, True), _single_sql(True, True))
GROUP_EVENTS = Announcing(Batch(_group_sql(False, True)), Batch(_group_sql(True, True)))


def _event_params(due_ms: int, sinks: EventSinks) -> list[Any]:
    return [list(sinks.recorded), due_ms, list(sinks.delivered)]


def single_params(new: NewVersion) -> list[Any]:
    token = new.token
    return [
        *new.image,
        new.status,
        new.limit,
        token.token,
        *_own_values(new),
        list(new.aliases),
        token.token,
        token.request_digest,
        token.created_ms,
        *new.job,
    ]


def group_params(group: Sequence[NewVersion]) -> list[Any]:
    rows = [
        dict(
            zip(
                _GROUP_NAMES,
                [
                    ord_,
                    *new.image,
                    new.token.token,
                    new.token.request_digest,
                    new.token.created_ms,
                    *new.job,
                    list(new.aliases),
                    *_own_values(new),
                ],
                strict=True,
            )
        )
        for ord_, new in enumerate(group)
    ]
    return [orjson.dumps(rows).decode(), group[0].status, group[0].limit]


Outcome = tuple[str, int] | None
Waiting = tuple[NewVersion, "asyncio.Future[Outcome]"]


class VersionCreates:
    """This server's creates, written one group at a time (see the module's docstring)."""

    def __init__(self, write: Write, sinks: EventSinks, *, always: bool = False) -> None:
        """`sinks`: where the new versions' events go (none: no events written). `always`:
        write even a lone create with the group's statement (for tests: every create takes
        that path)."""
        self._write = write
        self._sinks = sinks
        self._always = always
        self._waiting: list[Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def create(self, new: NewVersion) -> Outcome:
        """The image's stored name and the version's number; None if refused (no such
        image, not in the status, at the limit, or a version made with the token)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((new, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_groups(), name="version-creates")
        return await future

    async def alone(self, new: NewVersion) -> Outcome:
        params, statement = single_params(new), SINGLE
        if self._sinks.on:
            account, region, _ = new.image
            created = new.version.created_ms
            params += [account, region, created, *_event_params(created, self._sinks)]
            statement = SINGLE_EVENTS
        # Announced to the other servers: the transition (a sink's delivery job is run by
        # this server's worker, woken by the store, or found by any server's next look).
        rows = await self._write(statement, params, new.job[1])
        if statement is SINGLE_EVENTS:
            self._sinks.written += len(rows)
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    async def _write_groups(self) -> None:
        try:
            while self._waiting:
                await self._write_group(self._next_group())
        finally:
            self._writer = None

    def _next_group(self) -> list[Waiting]:
        """The first waiting calls that share the first one's status and limit."""
        first = self._waiting[0][0]
        group: list[Waiting] = []
        rest: list[Waiting] = []
        for item in self._waiting:
            new = item[0]
            alike = (new.status, new.limit) == (first.status, first.limit)
            (group if alike and len(group) < MOST_IN_A_GROUP else rest).append(item)
        self._waiting = rest
        return group

    async def _write_group(self, group: list[Waiting]) -> None:
        """The group in one statement; then, in their order, each call it could not answer
        by itself."""
        if len(group) > 1 or self._always:
            news = [new for new, _ in group]
            due = min(n.job[1] for n in news)
            params, statement = group_params(news), GROUP
            if self._sinks.on:
                created = min(n.version.created_ms for n in news)
                params += _event_params(created, self._sinks)
                statement = GROUP_EVENTS
            try:
                rows = await self._write(statement, params, due)
            except (DuplicateKey, UnstorableValue):
                pass  # whose alias, token or value it was, each call's own statement says
            except BaseException as error:  # the database is out of reach, or shutting down
                fail((future for _, future in group), error)
                raise
            else:
                if statement is GROUP_EVENTS:
                    self._sinks.written += len(rows)
                written = {int(row[0]): (str(row[1]), int(row[2])) for row in rows}
                for n, (_, future) in enumerate(group):
                    if n in written:
                        answer(future, written[n])
                group = [item for n, item in enumerate(group) if n not in written]
        for at, (new, future) in enumerate(group):
            try:
                outcome = await self.alone(new)
            except Exception as error:
                fail([future], error)
            except BaseException as error:
                fail((waiting for _, waiting in group[at:]), error)
                raise
            else:
                answer(future, outcome)
