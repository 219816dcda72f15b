"""Wire JSON in and out, and each operation's output shape compiled into a serialiser.

Handlers hand over their answers (a serialiser may change the dictionary it is given), as
native values keyed by the model's member names: timestamps as epoch milliseconds (`int`,
as the store keeps them), bytes for blobs, `None` (or no key) for an absent member. The
serialiser of an output shape turns that into AWS JSON 1.1: absent members dropped at every
level, timestamps as epoch seconds with millisecond fractions (the protocol's default
format; the SageMaker model sets no other), blobs as base64.

A serialiser is a function generated per structure, once at start. It works on the
handler's dictionary in place (each answer is built for one response): absent members are
dropped in one pass only if there are any, then only the members whose shapes need
converting are visited. Measured, that keeps a Describe within a few percent of building
its wire dictionary by hand.

`compile_check` builds the stricter twin the test suite turns on (see `dispatch.py`): it
fails on a member the shape does not have, a value of the wrong type or outside its enum,
and a missing required member.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import ListShape, MapShape, Shape, StructureShape

from sagemaker_images.codegen import function

JSONDecodeError = orjson.JSONDecodeError
Convert = Callable[[Any], Any]
Serializer = Callable[[dict[str, Any]], dict[str, Any]]


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(body: bytes) -> Any:
    return orjson.loads(body)


def compile_output(shape: StructureShape | None) -> Serializer:
    """The serialiser of one operation's output shape (an empty answer for none)."""
    if shape is None:
        return lambda value: {}
    convert = _converter(shape, {})
    assert convert is not None  # a structure always has one
    return convert


def _converter(shape: Shape, seen: dict[str, Convert]) -> Convert | None:
    """How to put a native value of `shape` on the wire; None where it goes as it is."""
    kind = shape.type_name
    if kind == "timestamp":
        return _epoch_seconds
    if kind == "blob":
        return _base64
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _recursive(shape, seen, _structure)
    if kind == "list":
        assert isinstance(shape, ListShape)
        element = _converter(shape.member, seen)
        return None if element is None else _each(element)
    if kind == "map":
        assert isinstance(shape, MapShape)
        value = _converter(shape.value, seen)
        return None if value is None else _each_value(value)
    return None


def _each(convert: Convert) -> Convert:
    return lambda values: [convert(v) for v in values]


def _each_value(convert: Convert) -> Convert:
    return lambda values: {k: convert(v) for k, v in values.items()}


def _epoch_seconds(milliseconds: int) -> float:
    return milliseconds / 1000


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _recursive(
    shape: Shape, seen: dict[str, Convert], build: Callable[[Any, dict[str, Convert]], Convert]
) -> Convert:
    """Build once per shape name; a shape that contains itself gets a forwarder meanwhile."""
    if shape.name in seen:
        return seen[shape.name]
    slot: list[Convert] = []
    seen[shape.name] = lambda value: slot[0](value)
    built = build(shape, seen)
    slot.append(built)
    seen[shape.name] = built
    return built


def _structure(shape: StructureShape, seen: dict[str, Convert]) -> Convert:
    """Generated straight-line code (see codegen.py): a Describe runs one on every call."""
    body = [
        "if None in value.values():",
        "    value = {name: item for name, item in value.items() if item is not None}",
    ]
    namespace: dict[str, Any] = {}
    for name, member in shape.members.items():
        convert = _converter(member, seen)
        if convert is None:
            continue
        if convert is _epoch_seconds:
            converted = "item / 1000"
        else:
            namespace[f"convert_{len(namespace)}"] = convert
            converted = f"convert_{len(namespace) - 1}(item)"
        body += [
            f"item = value.get({name!r})",
            "if item is not None:",
            f"    value[{name!r}] = {converted}",
        ]
    body.append("return value")
    built: Convert = function(f"serialize_{shape.name}", "value", body, namespace)
    return built


# -- the strict check, for tests -------------------------------------------------------------

Check = Callable[[Any, str, list[str]], None]
_NATIVE: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int,),  # epoch milliseconds
    "blob": (bytes,),
}


def compile_check(shape: StructureShape | None) -> Callable[[dict[str, Any]], list[str]]:
    """What is wrong with a handler's answer for `shape` (an empty list if nothing is)."""
    if shape is None:

        def nothing_expected(value: dict[str, Any]) -> list[str]:
            return [f"unexpected member {name!r}" for name in value if value[name] is not None]

        return nothing_expected
    check = _check(shape, {})

    def problems(value: dict[str, Any]) -> list[str]:
        found: list[str] = []
        check(value, shape.name, found)
        return found

    return problems


def _check(shape: Shape, seen: dict[str, Check]) -> Check:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _recursive(shape, seen, _check_structure)  # type: ignore[arg-type,return-value]
    if kind == "list":
        assert isinstance(shape, ListShape)
        item = _check(shape.member, seen)

        def check_list(value: Any, path: str, found: list[str]) -> None:
            if not isinstance(value, list | tuple):
                found.append(f"{path}: a list expected, not {type(value).__name__}")
                return
            for index, element in enumerate(value):
                item(element, f"{path}[{index}]", found)

        return check_list
    if kind == "map":
        assert isinstance(shape, MapShape)
        key, value_check = _check(shape.key, seen), _check(shape.value, seen)

        def check_map(value: Any, path: str, found: list[str]) -> None:
            if not isinstance(value, dict):
                found.append(f"{path}: a map expected, not {type(value).__name__}")
                return
            for name, element in value.items():
                key(name, f"{path} key", found)
                value_check(element, f"{path}[{name!r}]", found)

        return check_map
    return _check_scalar(shape)


def _check_structure(shape: StructureShape, seen: dict[str, Check]) -> Check:
    members = {name: _check(member, seen) for name, member in shape.members.items()}
    required = tuple(shape.required_members)

    def check_structure(value: Any, path: str, found: list[str]) -> None:
        if not isinstance(value, dict):
            found.append(f"{path}: a structure expected, not {type(value).__name__}")
            return
        for name, item in value.items():
            if item is None:
                continue
            check = members.get(name)
            if check is None:
                found.append(f"{path}: member {name!r} is not in shape {shape.name}")
            else:
                check(item, f"{path}.{name}", found)
        found.extend(
            f"{path}: required member {name!r} is missing"
            for name in required
            if value.get(name) is None
        )

    return check_structure


def _check_scalar(shape: Shape) -> Check:
    expected = _NATIVE.get(shape.type_name)
    if expected is None:
        raise NotImplementedError(f"shape type {shape.type_name} ({shape.name})")
    allowed = frozenset(shape.enum) if getattr(shape, "enum", None) else None

    def check_scalar(value: Any, path: str, found: list[str]) -> None:
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            found.append(
                f"{path}: {shape.type_name} expected, not {type(value).__name__} {value!r:.80}"
            )
        elif allowed is not None and value not in allowed:
            found.append(f"{path}: {value!r} is not one of {shape.name}'s values")

    return check_scalar
