"""A consistent copy of a SQLite catalog, taken while a server may be writing to it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def backup_path(source: Path, directory: Path, now: float) -> Path:
    """`catalog-20261207T091500Z.db` for `catalog.db`: a backup's file in a directory, named
    in UTC to the second so that backups sort by time (`-2`, `-3`... after a name taken in
    the same second): a new one never replaces an old."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = directory / f"{source.stem}-{stamp}{source.suffix}"
    again = 2
    while path.exists():
        path = directory / f"{source.stem}-{stamp}-{again}{source.suffix}"
        again += 1
    return path


def backup_sqlite(
    source: Path, destination: Path, *, overwrite: bool = False, now: float | None = None
) -> Path:
    """Copy `source` to `destination` (a file, or a directory to put a timestamped file in,
    `backup_path`); returns the file. An existing file is replaced only with `overwrite`.

    SQLite's online backup API in a single step: it reads one snapshot (in WAL mode the
    server's writes carry on meanwhile), whereas a stepped backup restarts whenever another
    process writes. The copy is written beside its destination and renamed into place, so
    a failed or interrupted backup never leaves a half-written file under the final name.
    """
    if not source.is_file():
        raise BackupError(f"there is no catalog at {source}")
    if destination.is_dir():
        destination = backup_path(source, destination, time.time() if now is None else now)
    if destination.resolve() == source.resolve():
        raise BackupError(f"{destination} is the catalog itself")
    if destination.exists() and not overwrite:
        raise BackupError(
            f"{destination} exists already: give another name, a directory (each backup is"
            " then a file of its own, named by its time), or --overwrite to replace it"
        )
    partial = destination.with_name(f".{destination.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        reader = sqlite3.connect(source)
    except sqlite3.Error as error:
        raise BackupError(f"cannot open {source}: {error}") from None
    try:
        copy = sqlite3.connect(partial)
        try:
            reader.backup(copy)
            # A backup keeps the WAL mode of its source; a file restored by copying it back
            # should not need its -wal file, so it is written out in rollback mode.
            copy.execute("PRAGMA journal_mode = DELETE").fetchall()
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the copy failed its integrity check: {verdict}")
        finally:
            copy.close()
        os.replace(partial, destination)
    except sqlite3.Error as error:
        raise BackupError(f"backup of {source} failed: {error}") from None
    finally:
        reader.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return destination
