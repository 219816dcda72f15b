"""Wire JSON out: the catalog speaks integer epoch milliseconds, the wire epoch seconds.

Each output shape compiles once into a converter that touches only the members that hold
timestamps (directly or inside lists and structures); every other value passes through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import Shape

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _ms_to_seconds(value: int) -> float:
    return value / 1000


def compile_output(shape: Shape | None) -> Converter:
    if shape is None:
        return _identity
    return _converter(shape, set()) or _identity


def _converter(shape: Shape, visiting: set[str]) -> Converter | None:
    """None when nothing under this shape needs converting."""
    if shape.type_name == "timestamp":
        return _ms_to_seconds
    if shape.name in visiting:
        return None
    visiting = visiting | {shape.name}
    if shape.type_name == "structure":
        members = {
            name: conv
            for name, member in shape.members.items()  # type: ignore[attr-defined]
            if (conv := _converter(member, visiting)) is not None
        }
        if not members:
            return None

        def convert_structure(value: dict[str, Any]) -> dict[str, Any]:
            for name, conv in members.items():
                if name in value:
                    value[name] = conv(value[name])
            return value

        return convert_structure
    if shape.type_name == "list":
        item = _converter(shape.member, visiting)  # type: ignore[attr-defined]
        if item is None:
            return None
        return lambda value: [item(v) for v in value]
    if shape.type_name == "map":
        item = _converter(shape.value, visiting)  # type: ignore[attr-defined]
        if item is None:
            return None
        return lambda value: {k: item(v) for k, v in value.items()}
    return None


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(body: bytes) -> Any:
    return orjson.loads(body)
