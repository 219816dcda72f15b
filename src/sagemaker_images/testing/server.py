"""The real server, started in this process for a test run: `SageMakerImagesServer`.

It runs uvicorn and the application on an event loop of its own in a background thread,
on an ephemeral port, with the control API on and, unless told otherwise, a private
catalog in a temporary file (deleted at stop) whose transitions finish before each call
answers.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sagemaker_images.config import Settings, parse_transitions
from sagemaker_images.testing.control import (
    ControlClient,
    Controlled,
    Lifecycle,
)

START_TIMEOUT_SECONDS = 30


class SageMakerImagesServer(Controlled, Lifecycle):
    """`SageMakerImagesServer(port=0, database=None, transitions="immediate", **serve_options)`

    `database`: a database URL (any `--database` works), or None for a private, temporary
    SQLite catalog. `transitions`: "immediate", a number of seconds, or "manual".
    `serve_options`: any other setting of `sagemaker-images serve`, by its Python name
    (`account_id`, `credentials_file`, `resolve`, ...).
    """

    def __init__(
        self,
        port: int = 0,
        database: str | None = None,
        transitions: str | float = "immediate",
        host: str = "127.0.0.1",
        **serve_options: Any,
    ) -> None:
        transitions = str(transitions)
        parse_transitions(transitions)  # a bad value fails here, not in the thread
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        if database is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="sagemaker-images-")
            database = f"sqlite:///{Path(self._temporary.name) / 'catalog.db'}"
        serve_options.setdefault("access_log", False)  # the test run's output is the user's
        self.settings = Settings(
            host=host,
            port=port,
            database_url=database,
            transitions=transitions,
            control_api=True,
            **serve_options,
        )
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = port
        self._control: ControlClient | None = None

    # -- life -------------------------------------------------------------------------------

    def start(self) -> SageMakerImagesServer:
        import uvicorn

        from sagemaker_images.server.app import Application

        application = Application(self.settings, own_process=False)
        config = uvicorn.Config(
            application,
            loop="auto",  # uvloop: the plain asyncio loop in a thread answered 40x slower
            http="httptools",
            lifespan="on",
            access_log=False,
            log_config=None,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._uvicorn = uvicorn.Server(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.settings.host, self.settings.port))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._uvicorn.run,
            kwargs={"sockets": [self._socket]},
            name=f"sagemaker-images:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._cleanup()
                reason = application.startup_error or "it did not start in time"
                raise RuntimeError(f"sagemaker-images did not start: {reason}")
            time.sleep(0.002)
        self._control = ControlClient(self.endpoint_url, **self._signing())
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_SECONDS)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    # -- use --------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def use_keys(self, access_key_id: str, secret_access_key: str) -> None:
        """The key `client()` and the control calls sign with (a server given a credentials
        file accepts only its keys)."""
        self._keys = (access_key_id, secret_access_key)
        self._control = ControlClient(self.endpoint_url, **self._signing())

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            raise RuntimeError("the server is not running: call start() first")
        return self._control

    def _signing(self) -> dict[str, Any]:
        if self.settings.auth_mode() != "sigv4":
            return {}
        access_key_id, secret_access_key = self._keys
        return {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
