"""Target → operation → validate → handler → serialize, and the error envelope.

Nothing here knows about images: given a handler per operation name, it serves that
operation exactly as the model describes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sagemaker_images.context import RequestContext
from sagemaker_images.errors import (
    InternalFailure,
    SerializationError,
    ServiceError,
    UnknownOperation,
)
from sagemaker_images.protocol import model
from sagemaker_images.protocol.serialize import JSONDecodeError, dumps, loads
from sagemaker_images.protocol.validate import Validator, compile_input

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    handler: Handler
    validate: Validator


def error_body(error: ServiceError) -> bytes:
    key = "Message" if error.modelled else "message"
    return dumps({"__type": error.code, key: error.message})


class Dispatcher:
    """Serves the operations it is given handlers for; every other target is unknown."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._prefix = model.target_prefix() + "."
        known = model.known_operations()
        self._operations: dict[str, Operation] = {}
        for name, handler in handlers.items():
            if name not in known:
                raise ValueError(f"{name} is not an operation of the SageMaker model")
            op = model.operation(name)
            self._operations[self._prefix + name] = Operation(
                name, handler, compile_input(op.input_shape)
            )
        self._known_targets = frozenset(self._prefix + name for name in known)

    @property
    def operation_names(self) -> list[str]:
        return sorted(op.name for op in self._operations.values())

    async def call(self, target: str | None, body: bytes, ctx: RequestContext) -> tuple[int, bytes]:
        """(HTTP status, response body) for one request; never raises."""
        try:
            operation = self._operation(target)
            request = self._decode(body)
            result = await operation.handler(ctx, operation.validate(request))
            return 200, dumps(result)
        except ServiceError as error:
            if error.status >= 500:
                log.error("%s answered %s: %s", target, error.code, error.message)
            return error.status, error_body(error)
        except Exception:
            log.exception("internal failure in %s (request %s)", target, ctx.request_id)
            failure = InternalFailure("We encountered an internal error. Please try again.")
            return failure.status, error_body(failure)

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
