"""The few words of SQL, and the habits, in which SQLite and PostgreSQL differ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    autoid: str
    lock: str
    skip_locked: str
    # Statements that open the one transaction migrations run in, excluding every other
    # process that migrates the same database.
    begin_exclusive: tuple[str, ...]
    without_rowid: str = ""
    placeholder: str = "?"
    text: str = "TEXT"
    # A statement that holds a lock on a named key (`?`) until the transaction ends; None
    # where the database has one writer, which serialises transactions already.
    lock_key: str | None = None
    # Appended to "the job's lease has lapsed" when claiming (`{lease_holder_gone}`): where
    # servers share the database, "... or the server holding it is gone".
    lease_holder_gone: str = ""
    # The jobs a claim chose in its `due` WITH query (`{chosen_jobs}`), as a condition on
    # `jobs.id`; PostgreSQL's looks them up by key whatever its statistics say.
    chosen_jobs: str = "id IN (SELECT id FROM due)"

    def render(self, sql: str) -> str:
        if self.placeholder == "?" and "{" not in sql:
            return sql  # SQLite's common case: the statement as written
        # Keyed by name, not by the dialect itself: hashing a dataclass costs a microsecond a
        # statement, and every statement passes through here.
        key = (self.name, sql)
        rendered = _RENDERED.get(key)
        if rendered is None:
            # Of the statement's own type: what it is (a Lookup, a Batch) survives.
            rendered = _RENDERED[key] = type(sql)(_render(self, sql))
        return rendered


_RENDERED: dict[tuple[str, str], str] = {}


def _render(dialect: Dialect, sql: str) -> str:
    if "{" in sql:
        sql = (
            sql.replace("{lock}", dialect.lock)
            .replace("{skip_locked}", dialect.skip_locked)
            .replace("{lease_holder_gone}", dialect.lease_holder_gone)
            .replace("{chosen_jobs}", dialect.chosen_jobs)
        )
    if dialect.placeholder != "?":
        sql = sql.replace("?", dialect.placeholder)
    return sql
