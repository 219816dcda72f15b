"""Check a request against its input shape, the way AWS's front end does.

Each input shape compiles once into a tree of small checker functions. A checker takes a
decoded JSON value and its member path, appends any constraint violations to a list, and
returns the value as the catalog wants it (timestamps become epoch milliseconds, members
the model does not know are dropped). A value of the wrong JSON type cannot be
checked further and is a `SerializationException` at once, as with AWS; every constraint
violation is collected and reported together in AWS's format.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sagemaker_images.errors import SerializationError, ValidationError
from sagemaker_images.protocol.java_regex import compile_java
from sagemaker_images.protocol.model import ListShape, MapShape, Shape, StructureShape

Checker = Callable[[Any, str, list[str]], Any]
Validator = Callable[[dict[str, Any]], dict[str, Any]]


def compile_input(shape: StructureShape | None) -> Validator:
    """The validator for one operation's input shape."""
    if shape is None:
        return lambda body: {}
    check = _checker(shape, {})

    def validate(body: dict[str, Any]) -> dict[str, Any]:
        errors: list[str] = []
        value = check(body, "", errors)
        if errors:
            raise ValidationError(format_errors(errors))
        result: dict[str, Any] = value
        return result

    return validate


def format_errors(errors: list[str]) -> str:
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: " + "; ".join(errors)


def violation(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{java_string(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def java_string(value: Any) -> str:
    """Render a value as Java's toString would, which is what AWS's messages show."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def member_path(parent: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def _type_error(path: str, expected: str, value: Any) -> SerializationError:
    got = type(value).__name__ if value is not None else "null"
    where = f" at '{path}'" if path else ""
    return SerializationError(f"Expected {expected}{where}, got a JSON {_json_kind(got)}.")


def _json_kind(python_type: str) -> str:
    return {
        "str": "string",
        "int": "number",
        "float": "number",
        "bool": "boolean",
        "list": "array",
        "dict": "object",
    }.get(python_type, python_type)


def _checker(shape: Shape, seen: dict[str, Checker]) -> Checker:
    if shape.name in seen:
        return seen[shape.name]
    builders: dict[str, Callable[[Shape, dict[str, Checker]], Checker]] = {
        "structure": _structure,
        "list": _list,
        "map": _map,
        "string": _string,
        "integer": _integer,
        "long": _integer,
        "boolean": _boolean,
        "timestamp": _timestamp,
        "float": _number,
        "double": _number,
        "blob": _string,
    }
    builder = builders.get(shape.type_name)
    if builder is None:
        raise NotImplementedError(f"shape type {shape.type_name} ({shape.name})")
    # Recursive shapes refer to themselves: register a forwarder before building.
    slot: list[Checker] = []
    seen[shape.name] = lambda value, path, errors: slot[0](value, path, errors)
    checker = builder(shape, seen)
    slot.append(checker)
    seen[shape.name] = checker
    return checker


def _structure(shape: Shape, seen: dict[str, Checker]) -> Checker:
    assert isinstance(shape, StructureShape)
    # (name, checker, its path when this structure is the request itself): most structures
    # checked are requests, so their members' paths are built once, here.
    members = [
        (name, _checker(member, seen), member_path("", name))
        for name, member in shape.members.items()
    ]
    required = list(shape.required_members)
    # A union (a custom file system: EFS, FSx for Lustre or S3) holds exactly one member.
    union = (
        f"Member must have exactly one of [{', '.join(shape.members)}] set"
        if shape.metadata.get("union")
        else None
    )

    def check(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _type_error(path, "an object", value)
        result: dict[str, Any] = {}
        for name, member_check, top_path in members:
            item = value.get(name)
            if item is not None:
                result[name] = member_check(
                    item, member_path(path, name) if path else top_path, errors
                )
        for name in required:
            if value.get(name) is None:
                errors.append(violation(None, member_path(path, name), "Member must not be null"))
        if union is not None and len(result) != 1:
            errors.append(violation(value, path, union))
        return result

    return check


def _length_rules(shape: Shape) -> Callable[[Any, int, str, list[str]], None]:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")

    def check(value: Any, size: int, path: str, errors: list[str]) -> None:
        if low is not None and size < low:
            errors.append(
                violation(value, path, f"Member must have length greater than or equal to {low}")
            )
        if high is not None and size > high:
            errors.append(
                violation(value, path, f"Member must have length less than or equal to {high}")
            )

    return check


def _list(shape: Shape, seen: dict[str, Checker]) -> Checker:
    assert isinstance(shape, ListShape)
    item_check = _checker(shape.member, seen)
    length = _length_rules(shape)

    def check(value: Any, path: str, errors: list[str]) -> list[Any]:
        if not isinstance(value, list):
            raise _type_error(path, "an array", value)
        length(value, len(value), path, errors)
        return [
            item_check(item, f"{path}.{index}.member", errors)
            for index, item in enumerate(value, start=1)
        ]

    return check


def _map(shape: Shape, seen: dict[str, Checker]) -> Checker:
    assert isinstance(shape, MapShape)
    key_check = _checker(shape.key, seen)
    value_check = _checker(shape.value, seen)
    length = _length_rules(shape)

    def check(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _type_error(path, "an object", value)
        length(value, len(value), path, errors)
        key_errors: list[str] = []
        value_errors: list[str] = []
        result = {}
        for key, item in value.items():
            if item is None:
                value_errors.append(violation(None, path, "Member must not be null"))
                continue
            result[key_check(key, path, key_errors)] = value_check(item, path, value_errors)
        # AWS reports a map's member violations once per side, listing the constraints.
        for side, found in (("keys", key_errors), ("value", value_errors)):
            if found:
                rules = sorted({e.split("failed to satisfy constraint: ", 1)[1] for e in found})
                errors.append(
                    violation(
                        value, path, f"Map {side} must satisfy constraint: [{', '.join(rules)}]"
                    )
                )
        return result

    return check


def _string(shape: Shape, seen: dict[str, Checker]) -> Checker:
    length = _length_rules(shape)
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    pattern_text = shape.metadata.get("pattern")
    pattern = compile_java(pattern_text) if pattern_text is not None else None
    enum = shape.enum or None
    enum_text = f"Member must satisfy enum value set: [{', '.join(enum)}]" if enum else ""
    allowed = frozenset(enum or ())

    def check(value: Any, path: str, errors: list[str]) -> str:
        if not isinstance(value, str):
            raise _type_error(path, "a string", value)
        size = len(value)
        if (low is not None and size < low) or (high is not None and size > high):
            length(value, size, path, errors)
        if "\x00" in value:  # no database here can store it
            errors.append(violation(value, path, "Member must not contain the NUL character"))
        if pattern is not None and pattern.fullmatch(value) is None:
            errors.append(
                violation(
                    value, path, f"Member must satisfy regular expression pattern: {pattern_text}"
                )
            )
        if enum and value not in allowed:
            errors.append(violation(value, path, enum_text))
        return value

    return check


def _range_rules(shape: Shape) -> Callable[[Any, str, list[str]], None]:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")

    def check(value: Any, path: str, errors: list[str]) -> None:
        if low is not None and value < low:
            errors.append(
                violation(value, path, f"Member must have value greater than or equal to {low}")
            )
        if high is not None and value > high:
            errors.append(
                violation(value, path, f"Member must have value less than or equal to {high}")
            )

    return check


# The widths of Java's int and long: AWS cannot even read a number outside them.
_INTEGER_BITS = {"integer": 32, "long": 64}


def _integer(shape: Shape, seen: dict[str, Checker]) -> Checker:
    in_range = _range_rules(shape)
    bits = _INTEGER_BITS[shape.type_name]
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    kind = "an integer" if bits == 32 else "a long integer"

    def check(value: Any, path: str, errors: list[str]) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise _type_error(path, kind, value)
        in_range(value, path, errors)
        return value

    return check


def _number(shape: Shape, seen: dict[str, Checker]) -> Checker:
    in_range = _range_rules(shape)

    def check(value: Any, path: str, errors: list[str]) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _type_error(path, "a number", value)
        in_range(value, path, errors)
        return float(value)

    return check


def _boolean(shape: Shape, seen: dict[str, Checker]) -> Checker:
    def check(value: Any, path: str, errors: list[str]) -> bool:
        if not isinstance(value, bool):
            raise _type_error(path, "a boolean", value)
        return value

    return check


# Times beyond these are kept at them: filters as far off as 1e300 s mean "no bound", and a
# database integer cannot hold more.
_MIN_MS, _MAX_MS = -(2**63), 2**63 - 1


def _millis(epoch_seconds: float) -> int:
    return max(_MIN_MS, min(_MAX_MS, round(epoch_seconds * 1000)))


def _timestamp(shape: Shape, seen: dict[str, Checker]) -> Checker:
    """Epoch seconds (what the SDKs send) or ISO 8601 text; returns epoch milliseconds."""

    def check(value: Any, path: str, errors: list[str]) -> int:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise _type_error(path, "a finite timestamp", value)
            return _millis(value)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise SerializationError(
                    f"Value '{value}' at '{path}' is not a valid timestamp."
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return _millis(moment.timestamp())
        raise _type_error(path, "a timestamp", value)

    return check
