"""One SageMaker API call, from request to answer: the body within its limit, who calls
and where (SigV4), the test faults, dispatch, and with `--transitions immediate` the jobs
the call started.

The hot path of the server: kept to the work every call needs.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from sagemaker_images.auth.authorization import Authorizer, Gate
from sagemaker_images.auth.policies import Principal, Refusal
from sagemaker_images.auth.sigv4 import Verifier, credential_scope
from sagemaker_images.config import Settings
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import InternalFailure, ServiceError
from sagemaker_images.jobs.worker import Worker
from sagemaker_images.protocol.asgi import Receive, Scope, read_body
from sagemaker_images.protocol.dispatch import (
    INTERNAL_FAILURE,
    Dispatcher,
    error_answer,
    error_response,
)
from sagemaker_images.server.faults import Faults

log = logging.getLogger(__name__)

# Set when a call's transaction added jobs: with --transitions immediate, the call answers
# once they are done (each request runs in a task, with a context, of its own).
_JOBS_ADDED: ContextVar[bool] = ContextVar("jobs_added", default=False)


def note_jobs_added(_due_ms: int) -> None:
    _JOBS_ADDED.set(True)


# A call's answer, and what the access log and the metrics say of it: (status, body,
# target, account, region, access key id, the policies' refusal if they refused it). A
# plain tuple: a NamedTuple's constructor costs a Python-level call on every request.
Answer = tuple[int, bytes, str | None, str | None, str | None, str | None, Refusal | None]


class Calls:
    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        verifier: Verifier | None,
        faults: Faults,
        worker: Worker,
        target_prefix: str,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._verifier = verifier
        self._faults = faults
        self._worker = worker
        self._target_prefix = target_prefix
        self._immediate = settings.pacing().mode == "immediate"
        self._authorizer = authorizer

    async def answer(self, scope: Scope, receive: Receive, request_id: str) -> Answer:
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
            body = await read_body(receive, declared_length, self._settings.max_body_bytes)
            ctx, key, principal = self.context(scope, body, authorization, request_id)
        except ServiceError as error:
            key, region = credential_scope(authorization, scope.get("query_string", b""))
            return (*error_response(error), target, None, region, key, None)
        if self._faults.rules:
            faulted = await self._faulted(target, ctx)
            if faulted is not None:
                return (*faulted, target, ctx.account, ctx.region, key, None)
        gate = None
        if principal is not None and self._authorizer is not None:
            gate = Gate(self._authorizer, principal, ctx, scope)
        if self._immediate:
            _JOBS_ADDED.set(False)
            status, payload = await self._dispatcher.call(target, body, ctx, gate)
            if _JOBS_ADDED.get():
                await self._worker.settle()
        else:
            status, payload = await self._dispatcher.call(target, body, ctx, gate)
        refusal = None if gate is None else gate.refusal
        return (status, payload, target, ctx.account, ctx.region, key, refusal)

    def context(
        self, scope: Scope, body: bytes, authorization: str | None, request_id: str
    ) -> tuple[RequestContext, str | None, Principal | None]:
        """Who calls and where (the verified signer, or with signatures off the configured
        account and the region of the credential scope), the access key id used, and the
        key's IAM principal (None: the account's root user, or signatures off)."""
        query_string = scope.get("query_string", b"")
        if self._verifier is None:
            key, region = credential_scope(authorization, query_string)
            # (account, region, request id), positionally: keywords cost twice as much here
            ctx = RequestContext(
                self._settings.account_id, region or self._settings.default_region, request_id
            )
            return ctx, key, None
        try:
            caller = self._verifier.verify(
                scope["method"],
                scope.get("raw_path") or scope["path"].encode(),
                query_string,
                scope["headers"],
                body,
            )
        except ServiceError as error:
            key, _ = credential_scope(authorization, query_string)
            log.info(
                "request %s refused: %s (access key %s): %s",
                request_id,
                error.code,
                key or "none",
                error.message,
            )
            raise
        except Exception:
            log.exception("signature check failed unexpectedly (request %s)", request_id)
            raise InternalFailure(INTERNAL_FAILURE) from None
        ctx = RequestContext(caller.account, caller.region, request_id)
        return ctx, caller.access_key_id, caller.principal

    async def _faulted(self, target: str | None, ctx: RequestContext) -> tuple[int, bytes] | None:
        """The answer a fault rule gives this call, if one fires (see faults.py)."""
        import asyncio

        operation = (target or "").removeprefix(self._target_prefix)
        fault = self._faults.firing(operation, ctx.account)
        if fault is None:
            return None
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.error is None:
            return None
        assert fault.message is not None and fault.status is not None
        log.info("request %s answered %s by a test fault", ctx.request_id, fault.error)
        return error_answer(fault.error, fault.message, fault.status)
