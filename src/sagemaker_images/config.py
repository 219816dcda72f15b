"""Every setting of the server, declared once: its default, flag, environment variable, help.

`Settings` is what the server runs with. Each field's declaration also says which commands
take it as a flag and how the docs show it: the click options of `cli/options.py` and the
flag tables of docs/operating.md and docs/pinning.md are derived from here (a test holds
the docs to it). A value comes from the flag,
else from `SAGEMAKER_IMAGES_<NAME>` in the environment, else the default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "SAGEMAKER_IMAGES_"
SERVE, MIGRATE, DRIFT, DOCTOR = "serve", "migrate", "drift", "doctor"
BACKUP, EXPORT, IMPORT, COPY = "backup", "export", "import", "copy"
EVERY_COMMAND = (SERVE, MIGRATE, DRIFT, DOCTOR, BACKUP, EXPORT, IMPORT, COPY)


def default_data_dir() -> Path:
    """The per-user data directory (XDG on Linux, the platform's usual place elsewhere)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "sagemaker-images"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "sagemaker-images"
    return Path.home() / ".local" / "share" / "sagemaker-images"


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'catalog.db'}"


# A manual transition's due time: far enough to be never, small enough for any database.
NEVER_MS = 2**62


@dataclass(frozen=True, slots=True)
class Pacing:
    """How asynchronous transitions (CREATING, UPDATING, DELETING) end: `immediate`ly, within
    the call that starts them; after some `seconds`; or `manual`ly, when the control API
    says so."""

    mode: str
    seconds: float = 0.0

    def due(self, now_ms: int) -> int:
        """When the worker should finish a transition that starts now."""
        if self.mode == "manual":
            return NEVER_MS
        return now_ms + round(self.seconds * 1000)

    def __str__(self) -> str:
        return f"{self.seconds:g}" if self.mode == "seconds" else self.mode


def sqlite_path(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`, as SQLAlchemy spells them."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest in {"/", "/:memory:"}:
        raise ValueError(
            f"{url!r}: give a file, e.g. sqlite:///catalog.db or sqlite:////var/lib/catalog.db"
            " (the catalog is never held only in memory)"
        )
    return Path(rest[1:]).expanduser()


_PASSWORD_IN_NETLOC = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:?#]*:)([^/@?#]*)@")
_PASSWORD_IN_QUERY = re.compile(r"([?&]password=)[^&#]*")


def redacted(url: str) -> str:
    """The URL exactly as given, but for its password, for logs."""
    url = _PASSWORD_IN_NETLOC.sub(r"\1***@", url)
    return _PASSWORD_IN_QUERY.sub(r"\1***", url)


def check_database_url(url: str) -> str:
    """`url` if a store can open it; raises ValueError saying what is wrong."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        sqlite_path(url)
    elif scheme not in {"postgresql", "postgres"}:
        raise ValueError(
            f"unsupported database URL {redacted(url)!r}"
            " (expected sqlite:///... or postgresql://...)"
        )
    return url


def parse_address(text: str) -> tuple[str, int]:
    """`host:port` (`[::1]:9100` for IPv6); raises ValueError saying what is wrong."""
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT with a port from 1 to 65535")
    return host.strip("[]"), int(port)


def check_sink_url(text: str) -> str:
    """An http(s) URL with a host, where events are sent; raises ValueError saying what is
    wrong. (Whether anything answers there is not asked: a sink may come up later.)"""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"{text!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an http:// or https:// URL with a host")
    if port == 0:
        raise ValueError(f"{text!r}: port 0 is not a port")
    return text


def parse_transitions(text: str) -> Pacing:
    if text in {"immediate", "manual"}:
        return Pacing(text)
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise ValueError(
            f"{text!r} is not immediate, manual or a number of seconds from 0 to 86400"
        )
    return Pacing("seconds", seconds)


@dataclass(frozen=True, slots=True)
class Flag:
    """How a setting is given on the command line and documented."""

    name: str  # `--name`
    help: str
    commands: tuple[str, ...] = (SERVE,)
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    minimum_open: bool = False  # the minimum itself is not allowed
    path: bool = False  # a file's path
    switch: bool = False  # an on/off flag
    negatable: bool = False  # a switch that also has its --no- form
    multiple: bool = False  # may be given again (its variable: values apart by spaces)
    check: Callable[[str], object] | None = None  # parses (and so checks) a value
    shown_default: str | None = None  # the docs' and --help's words for the default
    section: str = "server"  # the docs' table: "server", "resolve" or "events"


def setting(default: Any, flag: Flag | None = None) -> Any:
    return field(default=default, metadata={"flag": flag})


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = setting("127.0.0.1", Flag("--host", "address to listen on"))
    port: int = setting(8080, Flag("--port", "port to listen on", minimum=1, maximum=65535))
    database_url: str = setting(
        "",
        Flag(
            "--database",
            "`sqlite:///relative.db` or `sqlite:////absolute/path.db`, or"
            " `postgresql://user:password@host:5432/dbname`",
            commands=EVERY_COMMAND,
            check=check_database_url,
            shown_default="`sqlite:///` + `$XDG_DATA_HOME/sagemaker-images/catalog.db`"
            " (`~/.local/share/...`)",
        ),
    )
    account_id: str = setting("123456789012", Flag("--account-id", "the account in every ARN"))
    default_region: str = setting(
        "us-east-1", Flag("--region", "region for requests whose signature names none")
    )
    transitions: str = setting(
        "1",
        Flag(
            "--transitions",
            "how CREATING, UPDATING and DELETING end: after this many seconds; `immediate`"
            " (before the call answers); or `manual` (when the control API completes them)",
            check=parse_transitions,
        ),
    )
    max_images: int = setting(
        1000, Flag("--max-images", "images per account and region", minimum=0)
    )
    max_versions_per_image: int = setting(
        1000, Flag("--max-versions-per-image", "versions per image", minimum=0)
    )
    max_domains: int = setting(
        100, Flag("--max-domains", "Studio domains per account and region", minimum=0)
    )
    max_user_profiles: int = setting(
        1000, Flag("--max-user-profiles", "user profiles per Studio domain", minimum=0)
    )
    max_spaces: int = setting(1000, Flag("--max-spaces", "spaces per Studio domain", minimum=0))
    max_running_apps: int = setting(
        0,
        Flag(
            "--max-running-apps",
            "Pending and InService apps per account, region, app type and instance type"
            " (0: no limit)",
            minimum=0,
        ),
    )
    app_retention_seconds: float = setting(
        86_400.0,
        Flag(
            "--app-retention-seconds",
            "how long a Deleted or Failed app stays listed and describable",
            minimum=0,
        ),
    )
    deprecated_app_types: str = setting(
        "",
        Flag(
            "--deprecated-app-types",
            "app types CreateApp refuses as deprecated, comma-separated (as AWS refuses"
            " `KernelGateway` and `JupyterServer` in new domains), e.g."
            " `KernelGateway,JupyterServer`",
            shown_default="none",
        ),
    )
    max_body_bytes: int = setting(1024 * 1024)
    max_connections: int = setting(
        0,
        Flag(
            "--max-connections",
            "connections open at once: past it a new one takes the place of the one that has"
            " waited longest for its headers, or is closed at once (0: as many as the"
            " open-files limit leaves room for, raised to its hard limit at start)",
            minimum=0,
        ),
    )
    header_timeout: float = setting(
        10.0,
        Flag(
            "--header-timeout",
            "seconds a connection has to send a request's headers, from its start or from"
            " its previous answer, before it is closed",
            minimum=0,
            minimum_open=True,
        ),
    )
    body_timeout: float = setting(
        30.0,
        Flag(
            "--body-timeout",
            "seconds a request has to send its body once its headers are in",
            minimum=0,
            minimum_open=True,
        ),
    )
    keep_alive_timeout: float = setting(
        5.0,
        Flag(
            "--keep-alive-timeout",
            "seconds a connection may sit idle between requests",
            minimum=0,
            minimum_open=True,
        ),
    )
    # Tries of a job that fails for a reason of ours (not an unreachable registry) before its
    # resource is marked *_FAILED.
    job_attempts: int = setting(8)
    job_lease_seconds: float = setting(
        30.0,
        Flag(
            "--job-lease-seconds",
            "after this, a transition a server claimed may be retaken by another (on"
            " PostgreSQL, at once if that server died)",
            minimum=0,
            minimum_open=True,
        ),
    )
    job_concurrency: int = setting(
        1024,
        Flag(
            "--job-concurrency",
            "transitions this server runs at once (each may wait on a registry with"
            " `--resolve`); beyond them, due transitions wait here or go to another server",
            minimum=1,
        ),
    )
    sqlite_synchronous: str = setting(
        "normal",
        Flag(
            "--sqlite-synchronous",
            "`normal` survives a crashed process; `full` also a power cut, slower",
            choices=("normal", "full"),
        ),
    )
    resolve: str = setting(
        "off",
        Flag(
            "--resolve",
            "`required`: pin each new version to its digest, fail it if the image is not found",
            choices=("off", "required"),
            section="resolve",
        ),
    )
    registries_file: str = setting(
        "",
        Flag(
            "--registries",
            "TOML file: endpoint and credentials per registry host",
            commands=(SERVE, DRIFT, DOCTOR),
            path=True,
            shown_default="none",
            section="resolve",
        ),
    )
    preflight: str = setting(
        "off",
        Flag(
            "--preflight",
            "`on`: launch an app only if its image version has no preflight error for its app"
            " type and AppImageConfig (the image is read from its registry); an app that has one"
            " ends Failed with the finding's message",
            choices=("off", "on"),
            section="resolve",
        ),
    )
    resolve_retry_seconds: float = setting(
        300.0,
        Flag(
            "--resolve-retry-seconds",
            "how long an unreachable registry is retried before the version fails",
            minimum=0,
            section="resolve",
        ),
    )
    database_pool_size: int = setting(
        10,
        Flag(
            "--database-pool-size",
            "PostgreSQL: connections each server keeps at most",
            minimum=1,
        ),
    )
    workers: int = setting(
        1,
        Flag(
            "--workers",
            "PostgreSQL: server processes sharing the port, each a complete server (its own"
            " connections, transitions and lock)",
            minimum=1,
        ),
    )
    database_pool_timeout: float = setting(
        5.0,
        Flag(
            "--database-pool-timeout",
            "PostgreSQL: seconds a call waits for a connection before it is answered 503",
            minimum=0,
            minimum_open=True,
        ),
    )
    log_format: str = setting(
        "text",
        Flag(
            "--log-format",
            "`text`, or `json`: one JSON object per line, access lines included",
            choices=("text", "json"),
            commands=EVERY_COMMAND,
        ),
    )
    access_log: bool = setting(
        True,
        Flag(
            "--access-log",
            "one line per call: request id, operation, status, error, duration, account,"
            " region, access key id",
            switch=True,
            negatable=True,
            shown_default="on",
        ),
    )
    metrics: bool = setting(
        True,
        Flag(
            "--metrics",
            "Prometheus metrics at `GET /metrics` (signed requests only when signatures are"
            " verified)",
            switch=True,
            negatable=True,
            shown_default="on",
        ),
    )
    metrics_address: str = setting(
        "",
        Flag(
            "--metrics-address",
            "serve the metrics at `HOST:PORT/metrics` instead, unsigned, as exporters do",
            check=parse_address,
            shown_default="none",
        ),
    )
    log_level: str = setting(
        "info",
        Flag(
            "--log-level",
            "`debug`, `info`, `warning`, `error`",
            choices=("debug", "info", "warning", "error"),
            commands=EVERY_COMMAND,
        ),
    )
    credentials_file: str = setting(
        "",
        Flag(
            "--credentials",
            "TOML file of access keys (see Authentication); reloaded on SIGHUP",
            path=True,
            shown_default="none",
        ),
    )
    auth: str = setting(
        "",
        Flag(
            "--auth",
            "`sigv4`: verify every signature; `off`: any key, account from `--account-id`",
            choices=("sigv4", "off"),
            shown_default="`sigv4` with `--credentials`, else `off`",
        ),
    )

    ui: str = setting(
        "",
        Flag(
            "--ui",
            "serve the read-only web catalog at `/ui/` (with `--auth sigv4` it asks for an"
            " access key and its secret, by HTTP Basic)",
            choices=("on", "off"),
            shown_default="`on`, but `off` with `--auth sigv4`",
        ),
    )

    control_api: bool = setting(
        False,
        Flag(
            "--control-api",
            "serve `/_sagemaker-images/` for tests: reset, complete transitions, faults",
            switch=True,
            shown_default="off",
        ),
    )

    events_webhooks: tuple[str, ...] = setting(
        (),
        Flag(
            "--events-webhook",
            "POST each image and image version state-change event here, as JSON; may be given"
            " again for more webhooks (in the variable: URLs separated by spaces)",
            multiple=True,
            check=check_sink_url,
            shown_default="none",
            section="events",
        ),
    )
    events_webhook_secret: str = setting(
        "",
        Flag(
            "--events-webhook-secret",
            "sign each webhook POST: `X-SageMaker-Images-Signature: sha256=<hex HMAC-SHA256 of"
            " the body>`",
            shown_default="none",
            section="events",
        ),
    )
    events_eventbridge: str = setting(
        "",
        Flag(
            "--events-eventbridge",
            "put each event on an EventBridge bus at this endpoint URL (PutEvents, signed with"
            " the usual AWS credentials)",
            check=check_sink_url,
            shown_default="none",
            section="events",
        ),
    )
    events_bus: str = setting(
        "default",
        Flag("--events-bus", "the EventBridge bus of `--events-eventbridge`", section="events"),
    )
    events_source: str = setting(
        "aws.sagemaker",
        Flag(
            "--events-source",
            "the events' `source`, as SageMaker's are; AWS's own EventBridge refuses a"
            " `PutEvents` source that starts with `aws.`: give it one of yours",
            section="events",
        ),
    )

    def deprecated_app_type_names(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.deprecated_app_types.split(",") if t.strip())

    def pacing(self) -> Pacing:
        return parse_transitions(self.transitions)

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    def ui_enabled(self) -> bool:
        """Whether /ui/ is served: as asked, else only when signatures are not verified."""
        if self.ui:
            return self.ui == "on"
        return self.auth_mode() == "off"

    def auth_mode(self) -> str:
        """ "sigv4" (verify every signature) or "off" (any key; the configured account)."""
        if self.auth:
            return self.auth
        return "sigv4" if self.credentials_file else "off"


def flagged(command: str | None = None) -> list[tuple[Field[Any], Flag]]:
    """The settings given by flags (those of one command, if named), in declaration order."""
    found = []
    for declared in fields(Settings):
        flag = declared.metadata.get("flag")
        if flag is not None and (command is None or command in flag.commands):
            found.append((declared, flag))
    return found


def environment_variable(flag: Flag) -> str:
    return ENV_PREFIX + flag.name.removeprefix("--").replace("-", "_").upper()


def shown_default(declared: Field[Any], flag: Flag) -> str:
    if flag.shown_default is not None:
        return flag.shown_default
    return f"`{declared.default}`"


def flag_table(section: str) -> str:
    """The docs' table of the flags of one section, as Markdown."""
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for declared, flag in flagged(SERVE):
        if flag.section == section:
            name = f"{flag.name}/--no-{flag.name[2:]}" if flag.negatable else flag.name
            rows.append(
                f"| `{name}` | `{environment_variable(flag)}` |"
                f" {shown_default(declared, flag)} | {flag.help} |"
            )
    return "\n".join(rows)
