"""Target → operation → validate → handler → serialise, and the error envelope.

Nothing here knows about images: given a handler per operation name, it serves that
operation exactly as the model describes it. Input and output shapes are compiled once, at
start. With `SAGEMAKER_IMAGES_CHECK_RESPONSES=1` in the environment (the test suite sets
it), every answer is also checked against its output shape, and one that does not fit is
an internal failure, logged with what is wrong.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sagemaker_images.context import RequestContext
from sagemaker_images.errors import (
    InternalFailure,
    SerializationError,
    ServiceError,
    UnknownOperation,
)
from sagemaker_images.protocol import model
from sagemaker_images.protocol.serialize import (
    JSONDecodeError,
    Serializer,
    compile_check,
    compile_output,
    dumps,
    loads,
)
from sagemaker_images.protocol.validate import Validator, compile_input

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


class Guard(Protocol):
    """Asked, once a request is valid, whether its caller may make it: `settled` answers
    at once when it can (True: allowed; raises a ServiceError if not; False: undecided),
    and then calling it decides, raising a ServiceError if not."""

    def settled(self, operation: str, request: dict[str, Any]) -> bool: ...

    async def __call__(self, operation: str, request: dict[str, Any]) -> None: ...


# What a caller hears of an exception from below the handlers (None: an internal failure).
Explain = Callable[[Exception], ServiceError | None]

CHECK_RESPONSES_ENV = "SAGEMAKER_IMAGES_CHECK_RESPONSES"
INTERNAL_FAILURE = "We encountered an internal error. Please try again."

log = logging.getLogger(__name__)


class ResponseMismatch(Exception):
    """An answer that does not fit its output shape (found only with the check on)."""


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    handler: Handler
    validate: Validator
    serialize: Serializer


def error_response(error: ServiceError) -> tuple[int, bytes]:
    """(HTTP status, body) of an error: a modelled one as its shape says, the framework's
    with its own status and the text under `message`."""
    return error_answer(error.code, error.message, error.status)


def error_answer(code: str, message: str, framework_status: int) -> tuple[int, bytes]:
    """`error_response` for an error known by its code (a modelled one, or the framework's
    with `framework_status`)."""
    shape = model.error_shapes().get(code)
    if shape is None:
        return framework_status, dumps({"__type": code, "message": message})
    return shape.status, dumps({"__type": shape.code, shape.message_member: message})


def _service_errors_only(error: Exception) -> ServiceError | None:
    return error if isinstance(error, ServiceError) else None


class Dispatcher:
    """Serves the operations it is given handlers for; every other target is unknown.

    `explain`: what a caller hears of an exception a handler raises that is not a
    ServiceError (say, of the database below), or None for an internal failure."""

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        explain: Explain = _service_errors_only,
        check: bool | None = None,
    ) -> None:
        self._explain = explain
        self._prefix = model.target_prefix() + "."
        served = model.served_operations()
        if check is None:
            check = os.environ.get(CHECK_RESPONSES_ENV) == "1"
        self._operations: dict[str, Operation] = {}
        for name, handler in handlers.items():
            if name not in served:
                raise ValueError(f"{name} is not in the shipped model: run scripts/ship_model.py")
            op = model.operation(name)
            serialize = compile_output(op.output_shape)
            if check:
                serialize = _checked(name, compile_check(op.output_shape), serialize)
            self._operations[self._prefix + name] = Operation(
                name, handler, compile_input(op.input_shape), serialize
            )
        self._known_targets = frozenset(self._prefix + name for name in model.known_operations())

    @property
    def operation_names(self) -> list[str]:
        return sorted(op.name for op in self._operations.values())

    async def call(
        self, target: str | None, body: bytes, ctx: RequestContext, guard: Guard | None = None
    ) -> tuple[int, bytes]:
        """(HTTP status, response body) for one request; never raises. `guard`: the
        caller's policies, asked before the handler runs (nothing is written if it refuses)."""
        try:
            operation = self._operation(target)
            request = operation.validate(self._decode(body))
            if guard is not None and guard.settled(operation.name, request) is False:
                await guard(operation.name, request)
            result = await operation.handler(ctx, request)
            return 200, dumps(operation.serialize(result))
        except Exception as error:
            known = error if isinstance(error, ServiceError) else self._explain(error)
            if known is None:
                log.exception("internal failure in %s (request %s)", target, ctx.request_id)
                return error_response(InternalFailure(INTERNAL_FAILURE))
            status, answer = error_response(known)
            if status >= 500:
                log.error("%s answered %s: %s (%s)", target, known.code, known.message, error)
            return status, answer

    def _operation(self, target: str | None) -> Operation:
        operation = self._operations.get(target or "")
        if operation is not None:
            return operation
        if not target:
            raise UnknownOperation("Missing X-Amz-Target header.")
        if target in self._known_targets:
            name = target[len(self._prefix) :]
            raise UnknownOperation(f"Operation {name} is not supported by this server yet.")
        raise UnknownOperation(f"Unknown operation {target}.")

    @staticmethod
    def _decode(body: bytes) -> dict[str, Any]:
        if not body.strip():
            return {}
        try:
            request = loads(body)
        except JSONDecodeError as error:
            raise SerializationError(f"Request body is not valid JSON: {error}") from None
        if not isinstance(request, dict):
            raise SerializationError("Request body must be a JSON object.")
        return request


def _checked(
    name: str, problems_of: Callable[[dict[str, Any]], list[str]], serialize: Serializer
) -> Serializer:
    def check_then_serialize(result: dict[str, Any]) -> dict[str, Any]:
        problems = problems_of(result)
        if problems:
            raise ResponseMismatch(f"{name} answered outside its output shape: {problems}")
        return serialize(result)

    return check_then_serialize
