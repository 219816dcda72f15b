"""Wire JSON in and out, and each operation's output shape compiled into a serialiser.

Handlers hand over their answers (a serialiser may change the dictionary it is given), as
native values keyed by the model's member names: timestamps as epoch milliseconds (`int`,
as the store keeps them), bytes for blobs. An absent member is left out, or, at the top
level of an answer, may be None. The serialiser of an output shape turns that into AWS
JSON 1.1: absent members dropped, timestamps as epoch seconds with millisecond fractions
(the protocol's default format; the SageMaker model sets no other), blobs as base64.

A serialiser is generated per structure that holds something to convert, once at start
(see codegen.py), and works on the handler's dictionaries in place: only the members whose
shapes need converting are visited, and a list of structures is converted in one loop.
Measured, a Describe costs within a few percent of building its wire dictionary by hand.

`compile_check` builds the stricter twin the test suite turns on (see `dispatch.py`): it
fails on a member the shape does not have, a value of the wrong type or outside its enum,
and a missing required member.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson

from sagemaker_images.protocol.model import ListShape, MapShape, Shape, StructureShape
from sagemaker_images.resources.codegen import function

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
    converted = _converted(shape, {})
    return function(
        f"serialize_{shape.name}",
        "value",
        [*_DROP_ABSENT, *_conversions(converted), "return value"],
        _namespace(converted),
    )


def _converter(shape: Shape, seen: dict[str, Convert]) -> Convert | None:
    """How to put a native value of `shape` on the wire; None where it goes as it is."""
    kind = shape.type_name
    if kind == "timestamp":
        return _epoch_seconds
    if kind == "blob":
        return _base64
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        built = _recursive(shape, seen, _structure)
        return None if built is _AS_IS else built
    if kind == "list":
        assert isinstance(shape, ListShape)
        member = shape.member
        if isinstance(member, StructureShape) and member.name not in seen:
            return _structures(member, seen)
        element = _converter(member, seen)
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


def _as_is(value: Any) -> Any:
    return value


# What a nested structure with nothing to convert is built as (and then passed over).
_AS_IS: Convert = _as_is


def _structure(shape: StructureShape, seen: dict[str, Convert]) -> Convert:
    """A nested structure: its members converted in place by generated straight-line code
    (see codegen.py), or nothing to do."""
    converted = _converted(shape, seen)
    if not converted:
        return _AS_IS
    return function(
        f"serialize_{shape.name}",
        "value",
        [*_conversions(converted), "return value"],
        _namespace(converted),
    )


def _structures(shape: StructureShape, seen: dict[str, Convert]) -> Convert | None:
    """A list of structures, converted in place in one loop (a page of a list call holds a
    hundred: a call per item would cost more than its conversion)."""
    converted = _converted(shape, seen)
    if not converted:
        return None
    loop = ["for value in values:", *(f"    {line}" for line in _conversions(converted))]
    loop.append("return values")
    return function(f"serialize_list_of_{shape.name}", "values", loop, _namespace(converted))


# The top-level answer may carry None for an absent member (NextToken, optional members);
# nested structures come from the catalog's builders, which leave absent members out (the
# check the test suite turns on holds every handler to that). Scanning each item of a page
# for None would cost a third of the page's serialisation: `in` compares by equality.
_DROP_ABSENT = (
    "if None in value.values():",
    "    value = {name: item for name, item in value.items() if item is not None}",
)


def _converted(shape: StructureShape, seen: dict[str, Convert]) -> list[tuple[str, Convert]]:
    """The members of a structure whose values need converting, and how."""
    found = []
    for name, member in shape.members.items():
        convert = _converter(member, seen)
        if convert is not None:
            found.append((name, convert))
    return found


def _namespace(converted: list[tuple[str, Convert]]) -> dict[str, Any]:
    return {f"convert_{name}": convert for name, convert in converted}


def _conversions(converted: list[tuple[str, Convert]]) -> list[str]:
    """Lines that convert, in place, the members of `value` that need it."""
    lines = []
    for name, convert in converted:
        how = "/= 1000" if convert is _epoch_seconds else f"= convert_{name}(value[{name!r}])"
        # A member is there with a value, or not at all.
        lines += ["try:", f"    value[{name!r}] {how}", "except KeyError:", "    pass"]
    return lines


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
        # None stands for an absent member at the top level only (see _DROP_ABSENT).
        check({k: v for k, v in value.items() if v is not None}, shape.name, found)
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
                found.append(f"{path}.{name}: None inside a structure (leave the member out)")
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
