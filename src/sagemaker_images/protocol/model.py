"""AWS's SageMaker service model, as this server ships it: the single source of shapes,
constraints, operation names and errors.

The model is data in the package (`sagemaker-model.json`, the part of botocore's copy that
this server serves, see `subset.py`), read by the small classes below: behaviour never
depends on whichever botocore a user has installed, and the server needs none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

from sagemaker_images.protocol.subset import FILE_NAME


class Shape:
    """One named shape: its type, its constraints (`min`, `max`, `pattern`, `enum`, ...)."""

    def __init__(self, name: str, definition: dict[str, Any], model: ServiceModel) -> None:
        self.name = name
        self.type_name: str = definition["type"]
        self.metadata: dict[str, Any] = definition
        self._model = model

    @property
    def enum(self) -> list[str]:
        return list(self.metadata.get("enum", ()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.name})>"


class StructureShape(Shape):
    @cached_property
    def members(self) -> dict[str, Shape]:
        return {
            name: self._model.shape(member["shape"])
            for name, member in self.metadata.get("members", {}).items()
        }

    @property
    def required_members(self) -> list[str]:
        return list(self.metadata.get("required", ()))


class ListShape(Shape):
    @cached_property
    def member(self) -> Shape:
        return self._model.shape(self.metadata["member"]["shape"])


class MapShape(Shape):
    @cached_property
    def key(self) -> Shape:
        return self._model.shape(self.metadata["key"]["shape"])

    @cached_property
    def value(self) -> Shape:
        return self._model.shape(self.metadata["value"]["shape"])


_KINDS: dict[str, type[Shape]] = {
    "structure": StructureShape,
    "list": ListShape,
    "map": MapShape,
}


@dataclass(frozen=True)
class OperationModel:
    name: str
    input_shape: StructureShape | None
    output_shape: StructureShape | None
    error_shapes: tuple[StructureShape, ...]


class ServiceModel:
    def __init__(self, description: dict[str, Any]) -> None:
        self.metadata: dict[str, Any] = description["metadata"]
        self._operations: dict[str, Any] = description["operations"]
        self._shapes: dict[str, Any] = description["shapes"]
        self._made: dict[str, Shape] = {}
        self.operation_names = sorted(self._operations)
        self.other_operation_names = list(description.get("otherOperations", ()))

    def shape(self, name: str) -> Shape:
        made = self._made.get(name)
        if made is None:
            definition = self._shapes[name]
            made = _KINDS.get(definition["type"], Shape)(name, definition, self)
            self._made[name] = made
        return made

    def operation_model(self, name: str) -> OperationModel:
        operation = self._operations[name]

        def structure(part: str) -> StructureShape | None:
            if part not in operation:
                return None
            found = self.shape(operation[part]["shape"])
            assert isinstance(found, StructureShape)
            return found

        errors = tuple(self.shape(e["shape"]) for e in operation.get("errors", ()))
        return OperationModel(
            name,
            structure("input"),
            structure("output"),
            tuple(e for e in errors if isinstance(e, StructureShape)),
        )

    @property
    def error_shapes(self) -> list[StructureShape]:
        found = []
        for name, definition in self._shapes.items():
            if definition.get("exception"):
                shape = self.shape(name)
                assert isinstance(shape, StructureShape)
                found.append(shape)
        return found


@cache
def service_model() -> ServiceModel:
    """Read the shipped model once per process; everything else is derived from it."""
    text = (resources.files("sagemaker_images.protocol") / FILE_NAME).read_text(encoding="utf-8")
    return ServiceModel(json.loads(text))


def target_prefix() -> str:
    prefix: str = service_model().metadata["targetPrefix"]
    return prefix


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def served_operations() -> frozenset[str]:
    return frozenset(service_model().operation_names)


def known_operations() -> frozenset[str]:
    """Every operation of SageMaker, served here or not."""
    model = service_model()
    return frozenset(model.operation_names) | frozenset(model.other_operation_names)


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
