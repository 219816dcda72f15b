"""botocore's SageMaker service model: the single source of shapes, constraints and names."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "sagemaker"


@cache
def service_model() -> ServiceModel:
    """Load the model once per process (about 0.1 s); everything else is derived from it."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def target_prefix() -> str:
    return service_model().metadata["targetPrefix"]


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def known_operations() -> frozenset[str]:
    return frozenset(service_model().operation_names)
