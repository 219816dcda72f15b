"""What the server tells its operator: every log line as text or as JSON lines, and the
access log, one line per call.

Access lines are formatted by hand and written in batches (at most `FLUSH_SECONDS` late,
and at shutdown) rather than through `logging`: a `logging` call cost 6.4 µs where a
Describe costs about 30 µs under load; a buffered line costs 0.3 µs. A process killed
with SIGKILL loses the lines of its last moments. Lines never hold a secret or a request
body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from typing import IO, Any

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "sagemaker_images.access"
FLUSH_SECONDS = 0.2
FLUSH_LINES = 1000
# Keys a JSON line may carry beside time, level, logger and message.
EXTRA_KEYS = (
    "request_id",
    "operation",
    "status",
    "error",
    "duration_ms",
    "account",
    "region",
    "access_key_id",
)


def iso_time(epoch: float) -> str:
    """UTC, ISO 8601, milliseconds: `2026-11-30T07:47:25.123Z`."""
    seconds = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (
        f".{int((epoch - seconds) * 1000):03d}Z"
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with stable keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in EXTRA_KEYS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: str, log_format: str) -> None:
    """The root logger's one handler, on stderr, in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx and httpcore log every registry request and its headers, botocore (for `copy`)
    # every signature it makes; what matters is logged by us, and nothing near a credential
    # belongs in a log.
    for noisy in ("httpx", "httpcore", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class AccessLog:
    """One line per call: time, request id, operation, status, error code, duration,
    account, region and access key id; one per request to another path (`visit`); and with
    `pid` (several processes share one port and one log: `serve --workers`), the process
    that answered."""

    def __init__(
        self, log_format: str = "text", stream: IO[str] | None = None, pid: int | None = None
    ) -> None:
        self._json = log_format == "json"
        self._pid = pid
        self._pid_text = "" if pid is None else f" pid={pid}"
        self._stream = stream or sys.stderr
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""
        self._task: asyncio.Task[None] | None = None

    def record(
        self,
        request_id: str,
        operation: str,
        status: int,
        error: str | None,
        duration_ms: float,
        account: str,
        region: str,
        access_key_id: str | None,
        denied: tuple[str, str | None] | None = None,
    ) -> None:
        """One SageMaker call. `denied`: for a call a policy refused, the action refused and
        the Sid of the statement that denied it (None: no statement allowed it)."""
        now = time.time()
        if self._json:
            entry: dict[str, Any] = {
                "time": iso_time(now),
                "level": "INFO",
                "logger": ACCESS_LOGGER,
                "message": f"{operation} {status}",
                "request_id": request_id,
                "operation": operation,
                "status": status,
                "error": error,
                "duration_ms": round(duration_ms, 3),
                "account": account,
                "region": region,
                "access_key_id": access_key_id,
            }
            if denied is not None:
                entry["denied_action"], entry["denied_by"] = denied
            if self._pid is not None:
                entry["pid"] = self._pid
            line = orjson.dumps(entry).decode()
        else:
            refused = ""
            if denied is not None:
                by = "-" if denied[1] is None else orjson.dumps(denied[1]).decode()
                refused = f" denied_action={denied[0]} denied_by={by}"
            line = (
                f"{self._asctime(now)} INFO {ACCESS_LOGGER}: request_id={request_id}"
                f" operation={operation} status={status} error={error or '-'}"
                f" duration_ms={duration_ms:.3f} account={account} region={region}"
                f" access_key_id={access_key_id or '-'}{refused}{self._pid_text}"
            )
        self._lines.append(line)
        if len(self._lines) >= FLUSH_LINES:
            self.flush()

    def visit(
        self, request_id: str, method: str, path: str, status: int, duration_ms: float
    ) -> None:
        """A request to one of the server's other paths (the web catalog, the metrics, the
        control API): its method and path, never its query or headers."""
        now = time.time()
        if self._json:
            entry: dict[str, Any] = {
                "time": iso_time(now),
                "level": "INFO",
                "logger": ACCESS_LOGGER,
                "message": f"{method} {path} {status}",
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(duration_ms, 3),
            }
            if self._pid is not None:
                entry["pid"] = self._pid
            line = orjson.dumps(entry).decode()
        else:
            line = (
                f"{self._asctime(now)} INFO {ACCESS_LOGGER}: request_id={request_id}"
                f" method={method} path={path} status={status}"
                f" duration_ms={duration_ms:.3f}{self._pid_text}"
            )
        self._lines.append(line)
        if len(self._lines) >= FLUSH_LINES:
            self.flush()

    def _asctime(self, now: float) -> str:
        """What `logging`'s %(asctime)s says, the second's part kept between calls."""
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return f"{self._stamp},{int((now - second) * 1000):03d}"

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._flushing())

    async def _flushing(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            self.flush()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.flush()
