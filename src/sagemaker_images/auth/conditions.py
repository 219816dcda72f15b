"""A policy statement's Condition block, compiled once into tests of a request's context.

Semantics as AWS's IAM documents them: every operator of a block, and every key of an
operator, must hold; a key's values are alternatives. A key absent from the request fails a
positive operator and passes a negated one (`StringNotEquals`), passes any with `IfExists`,
and is what `Null: true` asks for. `ForAllValues:` holds when every value the request has
matches (and when it has none); `ForAnyValue:` when at least one does. A multivalued key
under a plain operator is read as `ForAnyValue:` (negated: none may match).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sagemaker_images.auth.patterns import Context, PatternError, arn_pattern, pattern

Test = Callable[[Context], bool]
Match = Callable[[str, Context], bool]  # whether one request value matches the policy's


class ConditionError(ValueError):
    """A Condition block that is malformed: an unknown operator, a value of the wrong kind."""


def _numbers(values: Sequence[str], operator: str) -> list[float]:
    try:
        return [float(value) for value in values]
    except ValueError:
        raise ConditionError(f"{operator} needs numbers, not {list(values)}") from None


def _date(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _dates(values: Sequence[str], operator: str) -> list[float]:
    moments = [_date(value) for value in values]
    if any(moment is None for moment in moments):
        raise ConditionError(
            f"{operator} needs ISO 8601 dates or epoch seconds, not {list(values)}"
        )
    return [moment for moment in moments if moment is not None]


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a == b,  # negated by the caller
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _ordered(limits: list[float], parse: Callable[[str], float | None], how: str) -> Match:
    compare = _COMPARE[how]

    def match(value: str, _context: Context) -> bool:
        number = parse(value)
        return number is not None and any(compare(number, limit) for limit in limits)

    return match


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _any_of(tests: list[Match]) -> Match:
    if len(tests) == 1:
        return tests[0]
    return lambda value, context: any(test(value, context) for test in tests)


def _matcher(base: str, values: list[str], variables: bool) -> tuple[Match, bool]:
    """The positive test of one request value, and whether the operator is negated."""
    try:
        return _matcher_of(base, values, variables)
    except PatternError as error:
        raise ConditionError(f"{base}: {error}") from None


def _matcher_of(base: str, values: list[str], variables: bool) -> tuple[Match, bool]:
    if base in ("StringEquals", "StringNotEquals"):
        tests = [pattern(v, wildcards=False, variables=variables) for v in values]
        return _any_of(tests), base == "StringNotEquals"
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        tests = [pattern(v, wildcards=False, ignore_case=True, variables=variables) for v in values]
        return _any_of(tests), base == "StringNotEqualsIgnoreCase"
    if base in ("StringLike", "StringNotLike"):
        return _any_of([pattern(v, variables=variables) for v in values]), base == "StringNotLike"
    if base in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        tests = [arn_pattern(v, variables=variables) for v in values]
        return _any_of(tests), base in ("ArnNotEquals", "ArnNotLike")
    if base.startswith("Numeric") and base[7:] in _COMPARE:
        how = base[7:]
        return _ordered(_numbers(values, base), _float, how), how == "NotEquals"
    if base.startswith("Date") and base[4:] in _COMPARE:
        how = base[4:]
        return _ordered(_dates(values, base), _date, how), how == "NotEquals"
    if base == "Bool":
        wanted = {v.lower() for v in values}
        if not wanted <= {"true", "false"}:
            raise ConditionError(f"Bool needs true or false, not {values}")
        return (lambda value, _context: value.lower() in wanted), False
    if base == "BinaryEquals":
        return (lambda value, _context: value in values), False
    if base in ("IpAddress", "NotIpAddress"):
        try:
            networks = [ipaddress.ip_network(v, strict=False) for v in values]
        except ValueError:
            raise ConditionError(
                f"{base} needs IP addresses or CIDR blocks, not {values}"
            ) from None

        def inside(value: str, _context: Context) -> bool:
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                return False
            return any(address in network for network in networks)

        return inside, base == "NotIpAddress"
    raise ConditionError(f"unknown condition operator {base}")


def _text(value: Any, operator: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConditionError(f"{operator}: a condition value must be a string, number or boolean")


def compile_operator(operator: str, key: str, raw: Any, variables: bool) -> Test:
    """One `"Operator": {"key": values}` entry as a test of a request's context."""
    values = [_text(v, operator) for v in (raw if isinstance(raw, list) else [raw])]
    if not values:
        raise ConditionError(f"{operator} {key}: needs at least one value")
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise ConditionError(f"unknown set operator {qualifier}: in {operator}")
    lowered = key.lower()
    if base == "Null":
        if qualifier:
            raise ConditionError(f"{operator}: Null takes no set operator")
        wanted = {v.lower() for v in values}
        if not wanted <= {"true", "false"}:
            raise ConditionError(f"Null needs true or false, not {values}")
        return lambda context: (context.get(lowered) in (None, ())) == ("true" in wanted)
    if_exists = base.endswith("IfExists")
    match, negated = _matcher(
        base.removesuffix("IfExists") if if_exists else base, values, variables
    )
    return _test(lowered, match, negated, qualifier, if_exists)


def _test(key: str, match: Match, negated: bool, qualifier: str, if_exists: bool) -> Test:
    def one(value: str, context: Context) -> bool:
        return match(value, context) != negated

    def test(context: Context) -> bool:
        found = context.get(key)
        if found is None or found == ():
            if qualifier == "ForAllValues":
                return True
            if qualifier == "ForAnyValue":
                return False
            return if_exists or negated
        given = found if isinstance(found, tuple) else (found,)
        if qualifier == "ForAllValues":
            return all(one(value, context) for value in given)
        if qualifier == "ForAnyValue":
            return any(one(value, context) for value in given)
        if negated:
            return not any(match(value, context) for value in given)
        return any(match(value, context) for value in given)

    return test


def compile_block(block: Any, variables: bool) -> tuple[list[Test], list[str]]:
    """A statement's whole Condition: its tests, and the condition keys it names."""
    if not isinstance(block, dict):
        raise ConditionError("Condition must be an object of operators")
    tests: list[Test] = []
    keys: list[str] = []
    for operator, entries in block.items():
        if not isinstance(entries, dict) or not entries:
            raise ConditionError(f"{operator} must be an object of condition keys and values")
        for key, raw in entries.items():
            tests.append(compile_operator(operator, key, raw, variables))
            keys.append(key)
    return tests, keys
