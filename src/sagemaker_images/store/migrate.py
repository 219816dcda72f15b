"""The schema's history: numbered SQL files applied in order, each exactly once.

The files are shared by both dialects; the few words that differ are placeholders that a
`Dialect` fills in (`{autoid}` for an auto-numbered key column, `{without_rowid}` for
tables SQLite should cluster on their primary key). Every `TEXT` column becomes the
dialect's `text` type: on PostgreSQL that is `TEXT COLLATE "C"`, so text sorts and compares
byte by byte as on SQLite, whatever the database's default collation.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from sagemaker_images.store.dialect import Dialect
from sagemaker_images.store.errors import DatabaseUnusable


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
        statements = tuple(s.strip() for s in _without_comments(text).split(";") if s.strip())
        found.append(Migration(int(number), rest.removesuffix(".sql"), statements))
    return found


_TEXT_TYPE = re.compile(r"\bTEXT\b(?!\s*\[)")


def _without_comments(text: str) -> str:
    """The file without its comment lines (whose words may hold a ';')."""
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))


class MigrationConnection(Protocol):
    """One connection, outside any transaction, that runs a statement and returns its rows."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


async def apply_migrations(connection: MigrationConnection, dialect: Dialect) -> list[int]:
    """Bring a database up to date in one transaction, one process at a time.

    The dialect's exclusive start (SQLite's `BEGIN IMMEDIATE`, a PostgreSQL advisory lock)
    makes processes that start together queue here: the first applies what is missing, the
    others then find nothing left to do.
    """
    for statement in dialect.begin_exclusive:
        await connection.execute(statement)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"
        )
        done = {row[0] for row in await connection.execute("SELECT version FROM schema_migrations")}
        known = migrations(dialect)
        latest = max(m.version for m in known)
        if done and max(done) > latest:
            raise DatabaseUnusable(
                f"its schema is at version {max(done)}, newer than this release's {latest}:"
                " a newer sagemaker-images wrote it; run that release, or restore a backup"
                " made before the upgrade"
            )
        applied = []
        for migration in known:
            if migration.version in done:
                continue
            for statement in migration.statements:
                await connection.execute(statement)
            await connection.execute(
                dialect.render(
                    "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)"
                ),
                (migration.version, migration.name, int(time.time() * 1000)),
            )
            applied.append(migration.version)
        await connection.execute("COMMIT")
        return applied
    except BaseException:
        with contextlib.suppress(Exception):  # a lost connection has rolled back already
            await connection.execute("ROLLBACK")
        raise
