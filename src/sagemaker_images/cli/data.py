"""`backup`, `export`, `import` and `copy`: moving a catalog's data in and out.

Each command answers a mistake with one line and a non-zero exit (2 for a usage mistake,
1 for anything else), never a traceback; what it did goes to stderr, so `export`'s stdout
is the archive alone.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlsplit

import click

from sagemaker_images.cli.options import settings_from, settings_options
from sagemaker_images.config import BACKUP, COPY, EXPORT, IMPORT, Settings, redacted, sqlite_path
from sagemaker_images.data.archive import ONE_LINE
from sagemaker_images.store import DatabaseInUse, Store, StoreError, open_store

T = TypeVar("T")


def _say(text: str) -> None:
    click.echo(text, err=True)


def _start(options: dict[str, Any]) -> Settings:
    from sagemaker_images.logs import configure

    settings = settings_from(options)
    configure(settings.log_level, settings.log_format)
    return settings


def _sqlite_file(settings: Settings) -> Path | None:
    url = settings.resolved_database_url()
    return sqlite_path(url) if urlsplit(url).scheme == "sqlite" else None


def _require_existing(settings: Settings) -> None:
    """Reading commands refuse a SQLite file that is not there (opening would create it)."""
    path = _sqlite_file(settings)
    if path is not None and not path.is_file():
        raise click.ClickException(f"there is no catalog at {path}")


@asynccontextmanager
async def _store(settings: Settings, *, writing: bool) -> AsyncIterator[Store]:
    """`writing`: on SQLite, take the server lock, since a server keeps rows it has read and
    would not see another process's changes."""
    try:
        store = await open_store(settings, serving=writing)
    except StoreError as error:
        hint = " (stop the server on it first)" if isinstance(error, DatabaseInUse) else ""
        raise click.ClickException(f"{error}{hint}") from None
    try:
        yield store
    finally:
        await store.close()


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(work())
    except StoreError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@settings_options(BACKUP)
@click.option(
    "--overwrite", is_flag=True, help="Replace DESTINATION if it is a file that exists already."
)
@click.argument("destination")
def backup(destination: str, overwrite: bool, **options: Any) -> None:
    """Copy a SQLite catalog, consistently, while a server may be serving it: to
    DESTINATION, a file, or a directory where each backup is a file named by its time
    (catalog-20261207T091500Z.db). To restore, stop the server and copy the file back."""
    from sagemaker_images.data.backup import BackupError, backup_sqlite

    settings = _start(options)
    source = _sqlite_file(settings)
    if source is None:
        raise click.UsageError(
            "backup copies SQLite catalogs; back up PostgreSQL with pg_dump, e.g."
            " pg_dump --format=custom --file catalog.dump"
            f" '{redacted(settings.resolved_database_url())}'"
        )
    target = Path(destination)
    if destination.endswith("/"):
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise click.ClickException(f"cannot make {target}: {error.strerror}") from None
    try:
        written = backup_sqlite(source, target, overwrite=overwrite)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {target}: {error.strerror}") from None
    _say(f"backed up {source} to {written} ({written.stat().st_size} bytes)")


@click.command()
@settings_options(EXPORT)
@click.option("--account", help="Export only this account's resources (default: every account).")
def export(account: str | None, **options: Any) -> None:
    """Write every image, version, alias, AppImageConfig, Studio domain, user profile, space
    and tag to stdout as JSON lines (one snapshot, while a server may be serving the
    catalog)."""
    from sagemaker_images.data.exporting import export_lines

    settings = _start(options)
    _require_existing(settings)
    counts: list[int] = []
    out: BinaryIO = sys.stdout.buffer

    async def work() -> None:
        async with _store(settings, writing=False) as store:
            async for line in export_lines(store, account, counts):
                out.write(line)
        out.flush()

    try:
        _run(work)
    except BrokenPipeError:
        # `export | head`: the reader stopped early. Quietly: point stdout at /dev/null so
        # that Python's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    _say(f"exported {_counted(counts)} from {redacted(settings.resolved_database_url())}")


@click.command(name="import")
@settings_options(IMPORT)
@click.option(
    "--merge",
    type=click.Choice(["skip", "overwrite"]),
    help="For resources the catalog holds already: keep the catalog's (skip) or replace"
    " them with the file's (overwrite). Without it, any such resource refuses the import.",
)
@click.argument("file", type=click.File("rb"), default="-")
def import_(merge: str | None, file: BinaryIO, **options: Any) -> None:
    """Read an export (FILE, or stdin) into the catalog, all of it or nothing.

    Stop a server on a SQLite catalog first; servers on PostgreSQL may keep running.
    """
    from sagemaker_images.data.archive import BadArchive, read
    from sagemaker_images.data.importing import Conflicts, Merge, import_catalog

    settings = _start(options)
    try:
        catalog = read(file)
    except BadArchive as error:
        raise click.ClickException(f"nothing imported: {error}") from None

    async def work() -> Any:
        async with _store(settings, writing=True) as store:
            return await import_catalog(store, catalog, Merge(merge) if merge else None)

    try:
        done = _run(work)
    except Conflicts as conflicts:
        listed = "\n".join(f"  {name}" for name in conflicts.names)
        raise click.ClickException(
            f"nothing imported: the catalog already holds {len(conflicts.names)} resources"
            f" of the file:\n{listed}\nGive --merge skip to keep them or --merge overwrite"
            " to replace them."
        ) from None
    _say(
        f"imported {_counted([done.images, done.versions, *done.added.values()])}"
        f" into {redacted(settings.resolved_database_url())}"
        + (f"; skipped {len(done.skipped)} already there" if done.skipped else "")
        + (f"; replaced {len(done.replaced)}" if done.replaced else "")
        + (f"; {done.jobs} transitions will finish when a server runs" if done.jobs else "")
    )


@click.command()
@settings_options(COPY)
@click.option(
    "--from-endpoint",
    "endpoint",
    metavar="URL",
    help="The SageMaker endpoint to read from (default: AWS's own, for the region).",
)
@click.option("--profile", help="The AWS profile whose credentials sign the reads.")
@click.option("--region", help="The source's region (default: the profile's or AWS_REGION).")
def copy(endpoint: str | None, profile: str | None, region: str | None, **options: Any) -> None:
    """Copy a whole catalog from a SageMaker endpoint (AWS, or another sagemaker-images
    server) into the database. Running it again resumes: nothing is copied twice."""
    from tqdm import tqdm

    from sagemaker_images.data.copying import copy_catalog, plan, source_client
    from sagemaker_images.data.importing import Imported

    settings = _start(options)
    client = _source(lambda: source_client(endpoint, profile, region))
    source = endpoint or "AWS"
    planned = _source(lambda: plan(client))
    done = Imported()
    copied: list[str] = []
    with tqdm(total=planned.total, unit="resource", disable=None, file=sys.stderr) as bar:

        def advance(name: str) -> None:
            copied.append(name)
            bar.update()

        async def work() -> None:
            async with _store(settings, writing=True) as store:
                await copy_catalog(client, store, planned, advance, done)

        try:
            _source(lambda: _run(work))
        except KeyboardInterrupt:
            bar.close()
            _say(
                f"interrupted after {len(copied)} of {planned.total} resources: run the same"
                " command again to copy the rest"
            )
            raise SystemExit(130) from None
    counts = [len(planned.images), done.versions, *(planned.count(kind) for kind in ONE_LINE)]
    _say(
        f"copied {_counted(counts, versions='new versions')} from {source}"
        f" into {redacted(settings.resolved_database_url())}"
    )


def _source(call: Callable[[], T]) -> T:
    """`call`, with the errors of reaching the source as one line each."""
    from botocore.exceptions import BotoCoreError, ClientError

    from sagemaker_images.data.copying import CopyError

    try:
        return call()
    except ClientError as error:
        raise click.ClickException(f"the source refused: {error}") from None
    except (BotoCoreError, CopyError) as error:
        raise click.ClickException(str(error)) from None


# The export format's counts, as words: images, versions, then each one-line kind's.
_NOUNS = ("images", "versions", *(kind.noun + "s" for kind in ONE_LINE.values()))


def _counted(counts: list[int], versions: str = "versions") -> str:
    """`14 images, 1 version, ... and 2 spaces`, in the export format's order."""
    nouns = (_NOUNS[0], versions, *_NOUNS[2:])
    parts = [
        f"{count} {noun[:-1] if count == 1 else noun}"
        for count, noun in zip(counts, nouns, strict=True)
    ]
    return ", ".join(parts[:-1]) + f" and {parts[-1]}"
