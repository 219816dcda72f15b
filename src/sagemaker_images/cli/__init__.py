"""`sagemaker-images serve | migrate | drift | backup | export | import | copy`: every
setting's flag also readable from SAGEMAKER_IMAGES_<FLAG>."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

import click

from sagemaker_images import __version__
from sagemaker_images.cli.data import backup, copy, export, import_
from sagemaker_images.cli.doctor import doctor
from sagemaker_images.cli.options import load_registries, settings_from, settings_options
from sagemaker_images.config import DRIFT, MIGRATE, SERVE, Settings
from sagemaker_images.logs import configure
from sagemaker_images.store.errors import StoreError


class _Commands(click.Group):
    """Mistakes on the command line answer one line and exit 2, and failures one line and
    exit 1 (their traceback only at `--log-level debug`): click's own usage errors print
    the whole usage first."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        run = super().main
        if not standalone_mode:
            return run(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = run(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx is not None else "sagemaker-images"
            click.echo(f"Error: {error.format_message()} (see '{command} --help')", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except StoreError as error:  # a database that cannot be used as it is
            logging.getLogger(__name__).debug("the command failed", exc_info=True)
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sagemaker-images")
def main() -> None:
    """A self-hosted Amazon SageMaker image catalog that speaks the AWS wire protocol."""


for _command in (backup, export, import_, copy, doctor):
    main.add_command(_command)


@main.command()
@settings_options(SERVE)
def serve(**options: Any) -> None:
    """Run the server until Ctrl-C or SIGTERM (SIGHUP reloads the credentials file)."""
    settings = settings_from(options)
    if settings.auth_mode() == "sigv4" and not settings.credentials_file:
        raise click.UsageError("--auth sigv4 needs --credentials FILE")
    if settings.auth_mode() == "sigv4":
        from sagemaker_images.auth.credentials import CredentialsError, load_keys

        try:  # a clear message now rather than a failed start later
            load_keys(settings.credentials_file)
        except CredentialsError as error:
            raise click.BadParameter(str(error), param_hint="--credentials") from None
    load_registries(settings.registries_file)  # a bad file stops here, before serving
    if settings.workers > 1:
        _check_workers(settings)
    configure(settings.log_level, settings.log_format)
    from sagemaker_images.server.connections import raise_file_limit

    file_limit = raise_file_limit()
    # The port first: a server that cannot listen has written nothing anywhere.
    sock = _listen(settings.host, settings.port)
    served: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "access_log": False,
        "log_level": settings.log_level,
        "log_config": None,
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": 10,
    }
    if settings.workers > 1:
        _serve_workers(settings, served, sock, file_limit)
    else:
        _serve_one(settings, served, sock, file_limit)


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on `host:port` (one line and exit 1 when it cannot be)."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, protocol)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        hint = ""
        if error.errno == errno.EADDRINUSE:
            hint = ": another process is listening there (choose another --port)"
        elif error.errno == errno.EACCES:
            hint = ": not allowed (ports below 1024 need privileges; choose another --port)"
        elif error.errno == errno.EADDRNOTAVAIL:
            hint = ": no interface of this machine has that address (see --host)"
        reason = error.strerror or str(error)
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    sock.set_inheritable(True)
    return sock


def _serve_one(
    settings: Settings, served: dict[str, Any], sock: socket.socket, file_limit: int
) -> None:
    """The server in this process: started here (a failure is one line), then served by
    uvicorn until a signal, then shut down."""
    import uvicorn
    from uvicorn._compat import asyncio_run

    from sagemaker_images.server.app import Application
    from sagemaker_images.server.connections import guard

    application = Application(settings)
    config = uvicorn.Config(application, lifespan="off", **served)
    guard(config, settings, file_limit)
    server = _server_class()(config)

    async def run() -> None:
        try:
            await application.startup()
        except BaseException:
            await application.shutdown()
            raise
        try:
            await server.serve(sockets=[sock])
        finally:
            await application.shutdown()

    asyncio_run(run(), loop_factory=config.get_loop_factory())


def _check_workers(settings: Settings) -> None:
    if not settings.resolved_database_url().startswith("postgres"):
        raise click.UsageError(
            "--workers needs PostgreSQL (--database postgresql://...): a SQLite catalog is"
            " served by one process"
        )
    if settings.metrics_address:
        raise click.UsageError(
            "--metrics-address serves one process's metrics: with --workers, scrape"
            " /metrics on --port, where each answer is that of the process that took it"
        )


def _serve_workers(
    settings: Settings, served: dict[str, Any], sock: socket.socket, file_limit: int
) -> None:
    """N processes accepting on one socket, each a complete server (uvicorn's supervisor
    restarts one that dies, and stops them all on SIGTERM or Ctrl-C). The database is
    opened (and migrated) here first, so that a failure is one line, not one a process."""
    import os

    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from sagemaker_images.server.app import WORKER_SETTINGS, worker_settings
    from sagemaker_images.server.connections import guard
    from sagemaker_images.store import open_store

    async def check() -> None:
        await (await open_store(settings)).close()

    asyncio.run(check())
    os.environ[WORKER_SETTINGS] = worker_settings(settings)
    config = uvicorn.Config(
        "sagemaker_images.server.app:worker_application",
        factory=True,
        workers=settings.workers,
        lifespan="on",
        **served,
    )
    guard(config, settings, file_limit)
    supervisor = Multiprocess(config, sockets=[sock])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise SystemExit(1)


@main.command()
@settings_options(MIGRATE)
def migrate(**options: Any) -> None:
    """Bring the database schema up to date (serve also does this at start)."""
    from sagemaker_images.config import redacted
    from sagemaker_images.store import open_store

    settings = settings_from(options)
    configure(settings.log_level, settings.log_format)

    async def run() -> None:
        store = await open_store(settings)
        await store.close()

    asyncio.run(run())
    click.echo(f"schema up to date: {redacted(settings.resolved_database_url())}")


@main.command()
@settings_options(DRIFT)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def drift(as_json: bool, **options: Any) -> None:
    """List CREATED versions whose tag now points at another digest than the pinned one,
    with the apps that run them.

    Exits 0 when nothing drifted, 1 when some version did (or can no longer be resolved).
    What it finds is kept in the catalog for the web catalog to show, in place of what the
    last check found.
    """
    from sagemaker_images.data.drift import find_drift, record
    from sagemaker_images.registry.client import RegistryClient
    from sagemaker_images.store import open_store

    settings = settings_from(options)
    registries = load_registries(settings.registries_file)
    configure(settings.log_level, settings.log_format)

    async def run() -> Any:
        store = await open_store(settings)
        client = RegistryClient(registries)
        try:
            report = await find_drift(store, client)
            await record(store, report, time.time_ns() // 1_000_000)
            return report
        finally:
            await client.close()
            await store.close()

    report = asyncio.run(run())
    found = report.drifted
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in found], indent=2))
    else:
        click.echo(_drift_table(found, report.checked))
    versions = "version" if report.checked == 1 else "versions"
    click.echo(
        f"checked {report.checked} {versions} pinned through a tag: {len(found)} drifted", err=True
    )
    if found:
        raise SystemExit(1)


def _drift_table(found: list[Any], checked: int) -> str:
    if not found:
        if not checked:
            return (
                "No drift, and nothing to check: no CREATED version is pinned through a tag"
                " (versions are pinned when the server runs with --resolve required)."
            )
        versions = "version" if checked == 1 else "versions"
        return (
            f"No drift: the tags of all {checked} pinned {versions} still point at their"
            " pinned digests."
        )
    header = ("ACCOUNT", "REGION", "IMAGE", "VERSION", "BASE IMAGE", "PINNED", "NOW")
    rows = [
        (
            d.account,
            d.region,
            d.image,
            str(d.version),
            d.base_image,
            _short(d.pinned),
            _short(d.current) if d.current else f"error: {d.error}",
        )
        for d in found
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in (header, *rows)
    ]
    running = [(f"{d.image}/{d.version}", arn) for d in found for arn in d.apps]
    if running:
        width = max(len(version) for version, _ in running)
        lines += ["", "Apps running these versions:"]
        lines += [f"  {version.ljust(width)}  {arn}" for version, arn in running]
    return "\n".join(lines)


def _short(digest: str) -> str:
    algorithm, _, hex_digits = digest.partition(":")
    return f"{algorithm}:{hex_digits[:12]}"


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """Exit 0 after a graceful shutdown on SIGINT/SIGTERM.

        uvicorn re-raises the signal once it has shut down, so the process would die of it
        and report failure to whoever stopped it; a service that stopped cleanly says so.
        """

        def handle_exit(self, sig: int, frame: Any) -> None:
            logging.getLogger(__name__).info("signal %d received: shutting down", sig)
            super().handle_exit(sig, frame)
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    return Server
