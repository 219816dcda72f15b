"""botocore's SageMaker service model: the single source of shapes, constraints and names."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "sagemaker"


@cache
def service_model() -> ServiceModel:
    """Load the model once per process (about 0.1 s); everything else is derived from it."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def target_prefix() -> str:
    prefix: str = service_model().metadata["targetPrefix"]
    return prefix


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def known_operations() -> frozenset[str]:
    return frozenset(service_model().operation_names)


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How the model says one of its errors goes on the wire."""

    code: str
    status: int
    message_member: str  # the member its text goes under


@cache
def error_shapes() -> dict[str, ErrorShape]:
    """Every error shape of the model, by its code."""
    found = {}
    for shape in service_model().error_shapes:
        trait = shape.metadata.get("error", {})
        code = trait.get("code", shape.name)
        status = trait.get("httpStatusCode") or (500 if shape.metadata.get("fault") else 400)
        message = next((m for m in shape.members if m.lower() == "message"), "message")
        found[code] = ErrorShape(code, int(status), message)
    return found
