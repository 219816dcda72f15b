"""The ASGI application: its routes and its lifespan, which opens the store and runs the job
worker.

A bare ASGI callable rather than a framework: a request is a handful of header lookups and
one dispatch, and on this path every microsecond is throughput (docs/architecture.md has
the measurement).

    POST /                      SageMaker's API (calls.py)
    GET  /healthz               liveness: the process answers
    GET  /readyz                readiness: the database answers within a second
    GET  /metrics               Prometheus metrics (or on --metrics-address)
    GET  /ui/...                the read-only web catalog, with --ui (ui/web.py)
    *    /_sagemaker-images/... the control API, with --control-api (control.py)
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import os
import re
import signal
import time
from collections.abc import Callable
from typing import Any

import orjson

from sagemaker_images import __version__
from sagemaker_images.auth.authorization import Authorizer
from sagemaker_images.auth.credentials import KeyRing
from sagemaker_images.auth.sigv4 import Verifier
from sagemaker_images.catalog.browse import Browse
from sagemaker_images.catalog.common import Runtime, wall_clock_ms
from sagemaker_images.catalog.service import explain, handlers
from sagemaker_images.config import Settings, redacted
from sagemaker_images.doctor.preflight import Preflight
from sagemaker_images.errors import ServiceError, UnknownOperation
from sagemaker_images.events.configured import kept_sink, open_sinks
from sagemaker_images.events.delivery import Deliveries
from sagemaker_images.events.sinks import KEPT
from sagemaker_images.jobs.retry import RetryPolicy
from sagemaker_images.jobs.transitions import Transitions
from sagemaker_images.jobs.worker import Worker
from sagemaker_images.logs import AccessLog, configure
from sagemaker_images.protocol.asgi import (
    JSON,
    Receive,
    RequestIds,
    Scope,
    Send,
    declared_length,
    header,
    read_body,
    respond,
    respond_redirect,
)
from sagemaker_images.protocol.dispatch import Dispatcher, error_response
from sagemaker_images.protocol.model import served_operations, target_prefix
from sagemaker_images.registry.config import load_registries
from sagemaker_images.registry.resolver import Resolver, build_resolver
from sagemaker_images.resources.kinds import APP
from sagemaker_images.server.calls import Calls, note_jobs_added
from sagemaker_images.server.control import PREFIX as CONTROL_PREFIX
from sagemaker_images.server.control import ControlApi
from sagemaker_images.server.faults import Faults
from sagemaker_images.server.metrics import CONTENT_TYPE as METRICS_TYPE
from sagemaker_images.server.metrics import Metrics, SinkView, describe_pool
from sagemaker_images.server.metrics_server import MetricsServer
from sagemaker_images.store import Store, StoreError, open_store
from sagemaker_images.ui.web import PREFIX as UI_PREFIX
from sagemaker_images.ui.web import WebCatalog

log = logging.getLogger(__name__)

HEALTHY = b'{"status":"ok"}'
READY_SECONDS = 1.0
# How `serve --workers N` hands its settings to the processes it starts (uvicorn spawns
# them afresh and imports `worker_application` by name in each).
WORKER_SETTINGS = "_SAGEMAKER_IMAGES_WORKER_SETTINGS"


class Application:
    """The server. `own_process`: the process is the server's alone (as under `serve`), so
    start-up may tune the garbage collector for it; not so when embedded in a test run.
    `clock`: epoch milliseconds, the times the catalog records (a test may set its own)."""

    def __init__(
        self,
        settings: Settings,
        *,
        own_process: bool = True,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.settings = settings
        self.own_process = own_process
        self.clock = clock
        self.startup_error: BaseException | None = None
        self.store: Store | None = None
        self.worker: Worker | None = None
        self.resolver: Resolver | None = None
        self.preflight: Preflight | None = None
        self.deliveries: Deliveries | None = None
        self.keys: KeyRing | None = None
        self.faults = Faults()
        self.metrics = Metrics(__version__, _backend(settings))
        self._request_ids = RequestIds()
        self._verifier: Verifier | None = None
        self._calls: Calls | None = None
        self._control: ControlApi | None = None
        self._ui: WebCatalog | None = None
        # With several processes on one port and one log, each line says which answered.
        pid = os.getpid() if settings.workers > 1 else None
        self._access = AccessLog(settings.log_format, pid=pid) if settings.access_log else None
        self._metrics_server: MetricsServer | None = None
        self._target_prefix = target_prefix() + "."
        # Whether calls are timed and counted at all (for the metrics or the access log).
        self._observed = settings.metrics or settings.access_log
        # Operation names as metric labels: only those of the model, never what a client sent.
        self._operations = {self._target_prefix + name: name for name in served_operations()}

    async def startup(self) -> None:
        if self.settings.auth_mode() == "sigv4":
            self._start_auth()
        self.resolver = build_resolver(self.settings, self.metrics.resolution)
        self.preflight = Preflight(load_registries(self.settings.registries_file))
        store = await open_store(self.settings, serving=True)
        runtime = Runtime(store, self.settings, self.clock, self.settings.pacing())
        dispatcher = Dispatcher(handlers(runtime), explain=explain)
        self.deliveries = await open_sinks(self.settings, store, self.clock())
        self.worker = Worker(
            store,
            Transitions(
                resolver=self.resolver,
                app_retention_ms=round(self.settings.app_retention_seconds * 1000),
                preflight=self.preflight if self.settings.preflight == "on" else None,
                deliveries=self.deliveries,
            ),
            self.clock,
            lease_seconds=self.settings.job_lease_seconds,
            concurrency=self.settings.job_concurrency,
            retry=RetryPolicy(window_seconds=self.settings.resolve_retry_seconds),
            max_attempts=self.settings.job_attempts,
            observe=self.metrics.job,
        )
        await self.worker.start()
        self.store = store
        authorizer = Authorizer(store) if self._verifier is not None else None
        self._calls = Calls(
            self.settings,
            dispatcher,
            self._verifier,
            self.faults,
            self.worker,
            self._target_prefix,
            authorizer,
        )
        if self.settings.pacing().mode == "immediate":
            store.on_job_added(note_jobs_added)
        if self.settings.control_api:
            self._control = ControlApi(
                store, self.worker, self.faults, self.settings, self.clock, self.preflight
            )
        if self.settings.ui_enabled():
            self._ui = WebCatalog(
                Browse(runtime),
                self.settings.account_id,
                self.settings.default_region,
                self.keys,
                self.preflight,
                authorizer,
            )
        if self._access is not None:
            self._access.start()
        if self.settings.metrics and self.settings.metrics_address:
            self._metrics_server = MetricsServer(self.settings.metrics_address, self._exposition)
            await self._metrics_server.start()
        if self.own_process:
            # Everything built so far (the service model above all) lives as long as the
            # process: keep it out of the collector's full passes, which otherwise stall
            # every request.
            gc.collect()
            gc.freeze()
        log.info(
            "sagemaker-images %s serving %d operations from %s (transitions: %s, auth: %s)",
            __version__,
            len(dispatcher.operation_names),
            redacted(self.settings.resolved_database_url()),
            self.settings.pacing(),
            self.settings.auth_mode(),
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
        if self._metrics_server is not None:
            await self._metrics_server.stop()
        if self.worker is not None:
            await self.worker.stop()
        if self.deliveries is not None:
            await self.deliveries.close()
        if self.store is not None:
            await self.store.close()
        if self.resolver is not None:
            await self.resolver.close()
        if self._access is not None:
            await self._access.stop()
        if self.store is not None:
            log.info("shut down: every call answered, pending transitions resume at next start")

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
            if self._browsing(scope):
                await respond_redirect(send, UI_PREFIX, request_id)
                return
            refusal = UnknownOperation(
                f"No operation at {scope['method']} /; AWS JSON calls POST /."
            )
            await respond(send, 405, error_response(refusal)[1], request_id)
            return
        assert self._calls is not None
        if not self._observed:
            status, body, *_ = await self._calls.answer(scope, receive, request_id)
            await respond(send, status, body, request_id)
            return
        metrics = self.metrics
        started = time.perf_counter()
        metrics.in_flight += 1
        try:
            status, body, target, account, region, key, denial = await self._calls.answer(
                scope, receive, request_id
            )
        finally:
            metrics.in_flight -= 1
        await respond(send, status, body, request_id)
        seconds = time.perf_counter() - started
        operation = self._operations.get(target, "unknown")  # type: ignore[arg-type]
        error = "" if status == 200 else _error_code(body)
        if self.settings.metrics:
            metrics.request(operation, status, error, seconds)
            if denial is not None:
                metrics.denied(denial.action)
        if self._access is not None:
            self._access.record(
                request_id,
                operation if operation != "unknown" else self._called(target),
                status,
                error or None,
                seconds * 1000,
                account or "-",
                region or "-",
                key,
                None if denial is None else (f"sagemaker:{denial.action}", denial.denied_by),
            )

    async def _elsewhere(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        """Every path but `/`: in the access log, but for the health checks' (a probe every
        few seconds would bury the rest)."""
        access = self._access
        if access is None or scope["path"] in UNLOGGED_PATHS:
            await self._route(scope, receive, send, request_id)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._route(scope, receive, sending, request_id)
        finally:
            took = (time.perf_counter() - started) * 1000
            access.visit(request_id, scope["method"], _printable(scope["path"]), status, took)

    async def _route(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/healthz" and method in {"GET", "HEAD"}:
            await respond(send, 200, HEALTHY, request_id, JSON)
        elif path == "/readyz" and method in {"GET", "HEAD"}:
            status, body = await self._readiness()
            await respond(send, status, body, request_id, JSON)
        elif path == "/metrics" and method == "GET" and self._metrics_here():
            if await self._signed(scope, receive, send, request_id) is not None:
                await respond(send, 200, await self._exposition(), request_id, METRICS_TYPE)
        elif self._ui is not None and (path.startswith(UI_PREFIX) or path == UI_PREFIX[:-1]):
            if path == UI_PREFIX[:-1]:
                await respond_redirect(send, UI_PREFIX, request_id)
            else:
                await self._ui.serve(scope, send, request_id)
        elif self._control is not None and path.startswith(CONTROL_PREFIX):
            signed = await self._signed(scope, receive, send, request_id)
            if signed is not None:
                await self._control_call(scope, signed, send, request_id)
        else:
            error = UnknownOperation(f"No operation at {method} {path}; AWS JSON calls POST /.")
            await respond(send, 404, error_response(error)[1], request_id)

    def _browsing(self, scope: Scope) -> bool:
        """A browser's GET / (no SageMaker target): it is sent to the web catalog."""
        return (
            self._ui is not None
            and scope["method"] in ("GET", "HEAD")
            and header(scope, b"x-amz-target") is None
        )

    def _metrics_here(self) -> bool:
        return self.settings.metrics and not self.settings.metrics_address

    async def _signed(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> bytes | None:
        """The body of a request to the server's own routes, checked as an API call's would
        be (signed, when signatures are verified); None once refused."""
        assert self._calls is not None
        try:
            body = await read_body(receive, declared_length(scope), self.settings.max_body_bytes)
            self._calls.context(scope, body, header(scope, b"authorization"), request_id)
        except ServiceError as error:
            await respond(send, *error_response(error), request_id)
            return None
        return body

    async def _control_call(self, scope: Scope, body: bytes, send: Send, request_id: str) -> None:
        assert self._control is not None
        try:
            request: Any = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            status, answer = 400, {"error": "the body is not JSON"}
        else:
            status, answer = await self._control.handle(scope["method"], scope["path"], request)
        await respond(send, status, orjson.dumps(answer), request_id, JSON)

    def _called(self, target: str | None) -> str:
        """An operation this server does not serve, by the name it was called with (for the
        access log only: the metrics' labels are the model's names, never a client's)."""
        if not target:
            return "unknown"
        return _printable(target.removeprefix(self._target_prefix), 64)

    async def _readiness(self) -> tuple[int, bytes]:
        """200 once the database answers a trivial query within a second, else 503."""
        if self.store is None:
            return 503, b'{"status":"starting"}'
        try:
            await asyncio.wait_for(self.store.ping(), READY_SECONDS)
        except Exception as error:  # any failure means: do not send calls here
            reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
            return 503, orjson.dumps({"status": "unavailable", "reason": reason})
        return 200, b'{"status":"ready"}'

    async def _exposition(self) -> bytes:
        """Metrics, with the queue of jobs, the apps and the database pool read now."""
        if self.store is not None:
            reads = self.store.reader
            try:
                self.metrics.jobs = await asyncio.wait_for(
                    reads.jobs.counts(self.clock()), READY_SECONDS
                )
                self.metrics.apps = await asyncio.wait_for(
                    reads.of(APP).tally("status"), READY_SECONDS
                )
                self.metrics.sinks = await asyncio.wait_for(self._sink_views(), READY_SECONDS)
            except Exception:
                log.warning(
                    "metrics: the jobs, the apps or the events could not be read", exc_info=True
                )
            self.metrics.pool = describe_pool(self.store.pool_stats())
        return self.metrics.exposition()

    async def _sink_views(self) -> list[SinkView]:
        """The event sinks of this server, with their backlogs as the database has them."""
        store, deliveries = self.store, self.deliveries
        if store is None or deliveries is None:
            return []
        backlogs = {b.sink_id: b for b in await store.reader.events.backlogs()}
        labels = {sink_id: sink.label for sink_id, sink in deliveries.sinks.items()}
        kept = kept_sink(store)
        if kept is not None:
            labels[kept] = KEPT
        now = self.clock()
        views = []
        for sink_id, label in labels.items():
            stats = deliveries.stats.get(sink_id)
            backlog = backlogs.get(sink_id)
            views.append(
                SinkView(
                    label,
                    store.sinks.written,
                    0 if stats is None else stats.delivered,
                    0 if stats is None else stats.retried,
                    0 if backlog is None else backlog.count,
                    0.0 if backlog is None else max(0.0, (now - backlog.oldest_ms) / 1000),
                )
            )
        return views


def worker_settings(settings: Settings) -> str:
    """`settings` as `worker_application` reads them back, in the environment."""
    return json.dumps(dataclasses.asdict(settings))


def worker_application() -> Application:
    """One process of `serve --workers N`: a complete server of its own (its connections,
    its job worker, its owner id and presence), built from the settings `serve` left in the
    environment."""
    settings = Settings(**json.loads(os.environ[WORKER_SETTINGS]))
    configure(settings.log_level, settings.log_format)
    return Application(settings)


# Probes of liveness and readiness: not in the access log.
UNLOGGED_PATHS = frozenset({"/healthz", "/readyz"})
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")


def _printable(text: str, most: int = 200) -> str:
    """A client's text fit for one log line: no spaces or control characters, cut short."""
    return _UNPRINTABLE.sub("?", text[:most])


def _error_code(body: bytes) -> str:
    """The `__type` of an error answer (every one this server sends has one)."""
    try:
        code = orjson.loads(body).get("__type", "")
    except (orjson.JSONDecodeError, AttributeError):
        return "unknown"
    return str(code)


def _backend(settings: Settings) -> str:
    return "postgresql" if settings.resolved_database_url().startswith("postgres") else "sqlite"
