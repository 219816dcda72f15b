"""`sagemaker-images serve | migrate | drift`: every flag also readable from
SAGEMAKER_IMAGES_<FLAG>."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import click

from sagemaker_images import __version__
from sagemaker_images.config import ENV_PREFIX, Settings, default_database_url


def _env(name: str) -> str:
    return ENV_PREFIX + name


DATABASE_HELP = (
    "Database URL: sqlite:///relative.db or sqlite:////absolute/path.db, or "
    "postgresql://user:password@host:port/dbname for several servers sharing one catalog "
    f"(default: {default_database_url()})."
)


def _database_option(function: Any) -> Any:
    return click.option(
        "--database", "database_url", envvar=_env("DATABASE"), default="", help=DATABASE_HELP
    )(function)


def _registries_option(function: Any) -> Any:
    return click.option(
        "--registries",
        "registries_file",
        envvar=_env("REGISTRIES"),
        default="",
        help="TOML file with each registry host's endpoint, credentials and CA bundle.",
    )(function)


def _load_registries(path: str) -> Any:
    from sagemaker_images.registry.config import RegistriesFileError, load_registries

    try:
        return load_registries(path)
    except RegistriesFileError as error:
        raise click.BadParameter(str(error), param_hint="--registries") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sagemaker-images")
def main() -> None:
    """A self-hosted Amazon SageMaker image catalog that speaks the AWS wire protocol."""


@main.command()
@click.option("--host", envvar=_env("HOST"), default="127.0.0.1", show_default=True)
@click.option("--port", envvar=_env("PORT"), default=8080, type=int, show_default=True)
@_database_option
@click.option(
    "--account-id",
    envvar=_env("ACCOUNT_ID"),
    default="123456789012",
    show_default=True,
    help="The account in every ARN.",
)
@click.option(
    "--region",
    "default_region",
    envvar=_env("REGION"),
    default="us-east-1",
    show_default=True,
    help="Region for requests whose signature names none.",
)
@click.option(
    "--transition-seconds",
    envvar=_env("TRANSITION_SECONDS"),
    default=1.0,
    type=float,
    show_default=True,
    help="How long CREATING, UPDATING and DELETING last.",
)
@click.option(
    "--max-images",
    envvar=_env("MAX_IMAGES"),
    default=1000,
    type=int,
    show_default=True,
    help="Images per account and region.",
)
@click.option(
    "--max-versions-per-image",
    envvar=_env("MAX_VERSIONS_PER_IMAGE"),
    default=1000,
    type=int,
    show_default=True,
)
@click.option(
    "--job-lease-seconds",
    envvar=_env("JOB_LEASE_SECONDS"),
    default=30.0,
    type=float,
    show_default=True,
    help="After this, a job claimed by a dead server is retaken.",
)
@click.option(
    "--sqlite-synchronous",
    envvar=_env("SQLITE_SYNCHRONOUS"),
    default="normal",
    type=click.Choice(["normal", "full"]),
    show_default=True,
    help="normal survives a crashed process; full also a lost machine, slower.",
)
@click.option(
    "--resolve",
    envvar=_env("RESOLVE"),
    default="off",
    show_default=True,
    type=click.Choice(["off", "required"]),
    help="required: pin each new version to its image's digest, failing it if not found.",
)
@_registries_option
@click.option(
    "--resolve-retry-seconds",
    envvar=_env("RESOLVE_RETRY_SECONDS"),
    default=300.0,
    type=float,
    show_default=True,
    help="How long an unreachable registry is retried before a version fails.",
)
@click.option(
    "--database-pool-size",
    envvar=_env("DATABASE_POOL_SIZE"),
    default=10,
    type=click.IntRange(min=1),
    show_default=True,
    help="PostgreSQL: connections each server keeps at most.",
)
@click.option(
    "--database-pool-timeout",
    envvar=_env("DATABASE_POOL_TIMEOUT"),
    default=5.0,
    type=click.FloatRange(min=0, min_open=True),
    show_default=True,
    help="PostgreSQL: seconds a call waits for a connection before answering 503.",
)
@click.option(
    "--log-level",
    envvar=_env("LOG_LEVEL"),
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--credentials",
    "credentials_file",
    envvar=_env("CREDENTIALS"),
    default="",
    type=click.Path(dir_okay=False),
    help="TOML file of access keys ([[keys]] access_key_id, secret_access_key, account_id, "
    "optional session_token); reloaded on SIGHUP.",
)
@click.option(
    "--auth",
    envvar=_env("AUTH"),
    default=None,
    type=click.Choice(["sigv4", "off"]),
    help="sigv4: verify every request's signature (the default with --credentials); "
    "off: accept any key, account from --account-id (the default without).",
)
def serve(**options: Any) -> None:
    """Run the server until Ctrl-C or SIGTERM (SIGHUP reloads the credentials file)."""
    settings = Settings(**{**options, "auth": options["auth"] or ""})
    if settings.auth_mode() == "sigv4" and not settings.credentials_file:
        raise click.UsageError("--auth sigv4 needs --credentials FILE")
    if settings.auth_mode() == "sigv4":
        from sagemaker_images.credentials import CredentialsError, load_keys

        try:  # a clear message now rather than a failed start later
            load_keys(settings.credentials_file)
        except CredentialsError as error:
            raise click.ClickException(str(error)) from None
    _load_registries(settings.registries_file)  # a bad file stops here, before serving
    _configure_logging(settings.log_level)
    import uvicorn

    from sagemaker_images.app import Application

    config = uvicorn.Config(
        Application(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    server = _server_class()(config)
    server.run()
    if not server.started:
        raise SystemExit(1)


@main.command()
@_database_option
def migrate(database_url: str) -> None:
    """Bring the database schema up to date (serve also does this at start)."""
    from sagemaker_images.store import open_store

    async def run() -> None:
        store = await open_store(Settings(database_url=database_url))
        await store.close()

    asyncio.run(run())
    from sagemaker_images.store.open import redacted

    url = Settings(database_url=database_url).resolved_database_url()
    click.echo(f"schema up to date: {redacted(url)}")


@main.command()
@_database_option
@_registries_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def drift(database_url: str, registries_file: str, as_json: bool) -> None:
    """List CREATED versions whose tag now points at another digest than the pinned one.

    Exits 0 when nothing drifted, 1 when some version did (or can no longer be resolved).
    """
    from sagemaker_images.registry.client import RegistryClient
    from sagemaker_images.registry.drift import find_drift
    from sagemaker_images.store import open_store

    registries = _load_registries(registries_file)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def run() -> list[Any]:
        store = await open_store(Settings(database_url=database_url))
        client = RegistryClient(registries)
        try:
            return await find_drift(store, client)
        finally:
            await client.close()
            await store.close()

    found = asyncio.run(run())
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in found], indent=2))
    else:
        click.echo(_drift_table(found))
    if found:
        raise SystemExit(1)


def _drift_table(found: list[Any]) -> str:
    if not found:
        return "No drift: every pinned tag still points at its pinned digest."
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
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in (header, *rows)
    )


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


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx and httpcore log every registry request and its headers; the resolver logs what
    # matters itself, and nothing near a credential belongs in a log.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
