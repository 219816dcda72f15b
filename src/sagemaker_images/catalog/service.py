"""The catalog's operations by their SageMaker names: what the dispatcher serves.

Each kind of resource declares its operations (`resources/kinds.py`); each has a class of
handlers in this package (`common.Handlers`), a method per operation named in snake case.
Here every module of the package is imported, and each operation finds its method: an
operation without one, or with two, stops the server at start.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

from sagemaker_images import catalog
from sagemaker_images.catalog.common import Handlers, Runtime
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ServiceError, ServiceUnavailable, ValidationError
from sagemaker_images.resources.kinds import OPERATIONS, snake_case
from sagemaker_images.store import StoreUnavailable, UnstorableValue

UNAVAILABLE = "The service is unavailable: its database cannot be reached. Please retry."
UNSTORABLE = "The request contains a value that cannot be stored."

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


def handlers(runtime: Runtime) -> dict[str, Handler]:
    """Every operation served (`kinds.OPERATIONS`, in its order) and its handler."""
    for module in pkgutil.iter_modules(catalog.__path__):
        importlib.import_module(f"{catalog.__name__}.{module.name}")
    found: dict[str, Handler] = {}
    for cls in Handlers.every:
        instance = cls(runtime)
        for operation in cls.served():
            if operation in found:
                raise ValueError(f"{operation} has two handlers (one in {cls.__name__})")
            found[operation] = getattr(instance, snake_case(operation))
    missing = [operation for operation in OPERATIONS if operation not in found]
    unknown = sorted(set(found) - set(OPERATIONS))
    if missing or unknown:
        raise ValueError(f"operations without a handler {missing}, handlers of no kind {unknown}")
    return {operation: found[operation] for operation in OPERATIONS}


def explain(error: Exception) -> ServiceError | None:
    """What a caller hears of a failure of the store: unavailable (a 503 the SDKs retry), or
    a value it cannot hold (the caller's to change); None for any other, an internal one."""
    if isinstance(error, StoreUnavailable):
        return ServiceUnavailable(UNAVAILABLE)
    if isinstance(error, UnstorableValue):
        return ValidationError(UNSTORABLE)
    return None
