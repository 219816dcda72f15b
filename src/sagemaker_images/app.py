"""The ASGI application: routes, request ids, the body limit, /healthz, and the lifespan
that opens the store and runs the job worker.

A bare ASGI callable rather than a framework: a request is a handful of header lookups and
one dispatch, and on this path every microsecond is throughput.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import signal
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

import orjson

from sagemaker_images.catalog.common import Deps, wall_clock_ms
from sagemaker_images.catalog.service import handlers
from sagemaker_images.config import Settings
from sagemaker_images.context import RequestContext
from sagemaker_images.control import PREFIX as CONTROL_PREFIX
from sagemaker_images.control import ControlApi
from sagemaker_images.credentials import KeyRing
from sagemaker_images.errors import (
    InternalFailure,
    RequestTooLarge,
    ServiceError,
    UnknownOperation,
)
from sagemaker_images.faults import Faults
from sagemaker_images.jobs.retry import RetryPolicy
from sagemaker_images.jobs.transitions import Transitions
from sagemaker_images.jobs.worker import Worker
from sagemaker_images.protocol.dispatch import (
    INTERNAL_FAILURE,
    Dispatcher,
    error_answer,
    error_response,
)
from sagemaker_images.protocol.model import target_prefix
from sagemaker_images.protocol.sigv4 import Verifier, scope_region
from sagemaker_images.registry.resolver import Resolver, build_resolver
from sagemaker_images.store import Store, StoreError, open_store
from sagemaker_images.store.open import redacted

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger(__name__)

JSON_11 = b"application/x-amz-json-1.1"
# Set when a call's transaction added jobs: with --transitions immediate, the call answers
# once they are done (each request runs in a task, with a context, of its own).
_JOBS_ADDED: ContextVar[bool] = ContextVar("jobs_added", default=False)
HEALTHY = b'{"status":"ok"}'


class RequestIds:
    """UUID-shaped request ids: random per process, then a counter (uuid4 per call is slow)."""

    def __init__(self) -> None:
        head = uuid.uuid4().hex
        self._prefix = f"{head[:8]}-{head[8:12]}-4{head[13:16]}-{head[16:20]}-"
        self._counter = itertools.count(int(head[20:], 16) & 0xFFFFFFFF)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


class Application:
    """The server. `own_process`: the process is the server's alone (as under `serve`), so
    start-up may tune the garbage collector for it; not so when embedded in a test run."""

    def __init__(self, settings: Settings, *, own_process: bool = True) -> None:
        self.settings = settings
        self.own_process = own_process
        self.startup_error: BaseException | None = None
        self.store: Store | None = None
        self.worker: Worker | None = None
        self.resolver: Resolver | None = None
        self._dispatcher: Dispatcher | None = None
        self._request_ids = RequestIds()
        self.keys: KeyRing | None = None
        self._verifier: Verifier | None = None
        self.faults = Faults()
        self._faults = self.faults
        self._control: ControlApi | None = None
        self._immediate = settings.pacing().mode == "immediate"
        self._target_prefix = target_prefix() + "."

    async def startup(self) -> None:
        if self.settings.auth_mode() == "sigv4":
            self._start_auth()
        self.resolver = build_resolver(self.settings)
        store = await open_store(self.settings, serving=True)
        deps = Deps(store, self.settings, wall_clock_ms, self.settings.pacing())
        self._dispatcher = Dispatcher(handlers(deps))
        self.worker = Worker(
            store,
            Transitions(resolver=self.resolver),
            wall_clock_ms,
            lease_seconds=self.settings.job_lease_seconds,
            retry=RetryPolicy(window_seconds=self.settings.resolve_retry_seconds),
            max_attempts=self.settings.job_attempts,
        )
        await self.worker.start()
        self.store = store
        if self._immediate:
            store.on_job_added(_note_jobs_added)
        if self.settings.control_api:
            self._control = ControlApi(
                store, self.worker, self.faults, self.settings, wall_clock_ms
            )
        if self.own_process:
            # Everything built so far (the service model above all) lives as long as the
            # process: keep it out of the collector's full passes, which otherwise stall
            # every request.
            gc.collect()
            gc.freeze()
        log.info(
            "serving %d operations from %s",
            len(self._dispatcher.operation_names),
            redacted(self.settings.resolved_database_url()),
        )

    def _start_auth(self) -> None:
        """Load the keys (a bad file stops the start) and reload them on SIGHUP."""
        keys = KeyRing(self.settings.credentials_file)
        self.keys = keys
        self._verifier = Verifier(keys.get)
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, keys.reload)
        except (NotImplementedError, AttributeError, RuntimeError, ValueError):
            log.warning("SIGHUP is not available here: credentials reload needs a restart")
        log.info("authentication: sigv4 with %d keys", len(keys))

    async def shutdown(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        if self.store is not None:
            await self.store.close()
        if self.resolver is not None:
            await self.resolver.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    self.startup_error = error
                    if isinstance(error, StoreError):
                        log.error("startup failed: %s", error)  # a setup mistake, not a bug
                    else:
                        log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = self._request_ids.next()
        if scope["path"] != "/":
            await self._elsewhere(scope, receive, send, request_id)
            return
        if scope["method"] != "POST":
            error = UnknownOperation(f"No operation at {scope['method']} /; AWS JSON calls POST /.")
            await _respond(send, 405, error_response(error)[1], request_id)
            return
        target = authorization = None
        declared_length = 0
        for name, value in scope["headers"]:
            if name == b"x-amz-target":
                target = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                declared_length = int(value)
        try:
            body = await self._read_body(receive, declared_length)
            ctx = self._context(scope, body, authorization, request_id)
        except ServiceError as error:
            await _respond(send, *error_response(error), request_id)
            return
        if self._faults.rules and await self._faulted(target, ctx, send):
            return
        assert self._dispatcher is not None
        if self._immediate:
            _JOBS_ADDED.set(False)
            status, payload = await self._dispatcher.call(target, body, ctx)
            if _JOBS_ADDED.get():
                assert self.worker is not None
                await self.worker.settle()
        else:
            status, payload = await self._dispatcher.call(target, body, ctx)
        await _respond(send, status, payload, request_id)

    def _context(
        self, scope: Scope, body: bytes, authorization: str | None, request_id: str
    ) -> RequestContext:
        """Who calls and where: the verified signer, or (signatures off) the configured
        account and the region the request's credential scope names."""
        query_string = scope.get("query_string", b"")
        if self._verifier is None:
            region = scope_region(authorization, query_string)
            # (account, region, request id), positionally: keywords cost twice as much here
            return RequestContext(
                self.settings.account_id, region or self.settings.default_region, request_id
            )
        try:
            caller = self._verifier.verify(
                scope["method"],
                scope.get("raw_path") or scope["path"].encode(),
                query_string,
                scope["headers"],
                body,
            )
        except ServiceError as error:
            log.debug("request %s refused: %s %s", request_id, error.code, error.message)
            raise
        except Exception:
            log.exception("signature check failed unexpectedly (request %s)", request_id)
            raise InternalFailure(INTERNAL_FAILURE) from None
        return RequestContext(caller.account, caller.region, request_id)

    async def _faulted(self, target: str | None, ctx: RequestContext, send: Send) -> bool:
        """Answer as a fault rule says, if one fires for this call (see faults.py)."""
        operation = (target or "").removeprefix(self._target_prefix)
        fault = self._faults.firing(operation, ctx.account)
        if fault is None:
            return False
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.error is None:
            return False
        assert fault.message is not None and fault.status is not None
        log.info("request %s answered %s by a test fault", ctx.request_id, fault.error)
        status, body = error_answer(fault.error, fault.message, fault.status)
        await _respond(send, status, body, ctx.request_id)
        return True

    async def _elsewhere(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        """Every path but `/`: health, the control API, or nothing."""
        path, method = scope["path"], scope["method"]
        if path == "/healthz" and method in {"GET", "HEAD"}:
            await _respond(send, 200, HEALTHY, request_id, b"application/json")
            return
        if self._control is not None and path.startswith(CONTROL_PREFIX):
            await self._control_call(scope, receive, send, request_id)
            return
        error = UnknownOperation(f"No operation at {method} {path}; AWS JSON calls POST /.")
        await _respond(send, 404, error_response(error)[1], request_id)

    async def _control_call(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> None:
        assert self._control is not None
        authorization = declared_length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                declared_length = int(value)
        try:
            body = await self._read_body(receive, declared_length or 0)
            self._context(scope, body, authorization, request_id)
        except ServiceError as error:
            await _respond(send, *error_response(error), request_id)
            return
        try:
            request = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            status, answer = 400, {"error": "the body is not JSON"}
        else:
            status, answer = await self._control.handle(scope["method"], scope["path"], request)
        await _respond(send, status, orjson.dumps(answer), request_id, b"application/json")

    async def _read_body(self, receive: Receive, declared_length: int) -> bytes:
        limit = self.settings.max_body_bytes
        if declared_length > limit:
            raise _too_large(declared_length, limit)
        chunks = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(size, limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _note_jobs_added(_due_ms: int) -> None:
    _JOBS_ADDED.set(True)


def _too_large(size: int, limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"Request body of {size} bytes exceeds the limit of {limit} bytes.")


async def _respond(
    send: Send, status: int, body: bytes, request_id: str, content_type: bytes = JSON_11
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-amzn-requestid", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
