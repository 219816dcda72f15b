"""The schema's history: numbered SQL files applied in order, each exactly once.

The files are shared by both dialects; the few words that differ are placeholders that a
`Dialect` fills in (`{autoid}` for an auto-numbered key column, `{without_rowid}` for
tables SQLite should cluster on their primary key). Every `TEXT` column becomes the
dialect's `text` type: on PostgreSQL that is `TEXT COLLATE "C"`, so text sorts and compares
byte by byte as on SQLite, whatever the database's default collation.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    autoid: str
    lock: str
    skip_locked: str
    without_rowid: str = ""
    placeholder: str = "?"
    text: str = "TEXT"

    def render(self, sql: str) -> str:
        if self.placeholder == "?" and "{" not in sql:
            return sql  # SQLite's common case: the statement as written
        # Keyed by name, not by the dialect itself: hashing a dataclass costs a microsecond a
        # statement, and every statement passes through here.
        key = (self.name, sql)
        rendered = _RENDERED.get(key)
        if rendered is None:
            rendered = _RENDERED[key] = _render(self, sql)
        return rendered


_RENDERED: dict[tuple[str, str], str] = {}


def _render(dialect: Dialect, sql: str) -> str:
    if "{" in sql:
        sql = sql.replace("{lock}", dialect.lock).replace("{skip_locked}", dialect.skip_locked)
    if dialect.placeholder != "?":
        sql = sql.replace("?", dialect.placeholder)
    return sql


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def migrations(dialect: Dialect) -> list[Migration]:
    found = []
    folder = resources.files("sagemaker_images.store") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        number, _, rest = entry.name.partition("_")
        text = (
            entry.read_text(encoding="utf-8")
            .replace("{autoid}", dialect.autoid)
            .replace("{without_rowid}", dialect.without_rowid)
        )
        if dialect.text != "TEXT":
            text = _TEXT_TYPE.sub(dialect.text, text)
        statements = tuple(s.strip() for s in text.split(";") if _has_sql(s))
        found.append(Migration(int(number), rest.removesuffix(".sql"), statements))
    return found


_TEXT_TYPE = re.compile(r"\bTEXT\b(?!\s*\[)")


def _has_sql(chunk: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in chunk.splitlines())


class _Connection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...


def apply_migrations(connection: _Connection, dialect: Dialect) -> list[int]:
    """Bring a SQLite database up to date inside one exclusive transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"
        )
        done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
        applied = []
        for migration in migrations(dialect):
            if migration.version in done:
                continue
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
                (migration.version, migration.name, int(time.time() * 1000)),
            )
            applied.append(migration.version)
        connection.execute("COMMIT")
        return applied
    except BaseException:
        connection.execute("ROLLBACK")
        raise
