"""Private PostgreSQL clusters for tests: initdb in a temporary directory, a free port on
127.0.0.1, trust auth; gone when the run ends, however it ends.

Standard library only: `scripts/test_tools.py` uses `server_programs()` before the
virtualenv has anything installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

PROGRAMS = ("initdb", "pg_ctl", "postgres")


def server_programs() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: on PATH, else the newest of
    Debian's /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH)."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda found: _version(found.parent.name), reverse=True)
    for directory in candidates:
        if all(os.access(directory / program, os.X_OK) for program in PROGRAMS):
            return directory
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _unprivileged_user() -> str:
    """Who runs the cluster when we are root (PostgreSQL refuses to)."""
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError("running as root, and there is no `postgres` or `nobody` user")


# Runs in a session of its own, so Ctrl-C does not reach it: it waits until the test run
# closes the pipe (at its end, or by dying, even by SIGKILL), then stops the cluster and
# removes its directory.
_WATCHDOG = """
import json, pathlib, shutil, subprocess, sys
as_user, pg_ctl, root, data = json.loads(sys.argv[1])
sys.stdin.buffer.read()
if (pathlib.Path(data) / "postmaster.pid").exists():
    subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                   capture_output=True, timeout=60)
shutil.rmtree(root, ignore_errors=True)
"""


class PrivateCluster:
    """A PostgreSQL cluster of one test run (or one test) alone, to stop and start at will.

    Runs never meet: each has its own directory, port and socket. As root, the cluster
    runs as `postgres` (or `nobody`). A watchdog process removes it if the run dies
    without calling destroy().
    """

    def __init__(self, *settings: str) -> None:
        programs = server_programs()
        if programs is None:
            raise RuntimeError(
                "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed:"
                " `make test` installs them (Debian package postgresql)"
            )
        self.bin = programs
        self.settings = settings
        self.port: int | None = None
        self.root = Path(tempfile.mkdtemp(prefix="smi-pg-"))
        self.data = self.root / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = _unprivileged_user()
            shutil.chown(self.root, user)
            self.as_user = ["runuser", "-u", user, "--"]
        watched = [self.as_user, str(self.bin / "pg_ctl"), str(self.root), str(self.data)]
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, json.dumps(watched)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        except BaseException:
            self.destroy()
            raise

    @property
    def url(self) -> str:
        """The superuser's URL, to the `postgres` database."""
        assert self.port is not None, "the cluster has not been started"
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, str(self.bin / program), *args], capture_output=True, timeout=120
        )
        if result.returncode != 0:
            log = self.root / "postgresql.log"
            raise RuntimeError(
                f"{program} exited {result.returncode}: {result.stderr.decode(errors='replace')}"
                + (log.read_text(errors="replace")[-2000:] if log.exists() else "")
            )

    def _where(self, port: int) -> list[str]:
        """pg_ctl's arguments for where the cluster lives, logs and listens."""
        options = " ".join(
            (
                f"-c port={port} -c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root} -c fsync=off",
                *self.settings,
            )
        )
        return ["-D", str(self.data), "-l", str(self.root / "postgresql.log"), "-o", options]

    def start(self) -> None:
        """Start on the port of the last start, or on a free port the first time (another
        one if that was taken meanwhile)."""
        for attempt in range(5):
            port = self.port if self.port is not None else _free_port()
            try:
                self._run("pg_ctl", *self._where(port), "-w", "start")
            except RuntimeError:
                if self.port is not None or attempt == 4:
                    raise
                continue
            self.port = port
            return

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart` on the same port: returns once the cluster accepts connections."""
        assert self.port is not None, "the cluster has not been started"
        self._run("pg_ctl", *self._where(self.port), "-m", mode, "-w", "restart")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        """Stop the cluster at once and remove its directory (its watchdog does both)."""
        if self._watchdog.stdin is not None and not self._watchdog.stdin.closed:
            self._watchdog.stdin.close()
        self._watchdog.wait(120)
