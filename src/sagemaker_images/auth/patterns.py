"""Wildcard patterns of IAM policies (`*`, `?`) with policy variables (`${aws:username}`),
compiled once at load into a test of one string.

A pattern without variables becomes an equality or a regular expression at load. With
variables (policy version 2012-10-17 only, as on AWS), the pattern is completed from the
request's context when it is evaluated, each variable's value matched literally, and the
completed expression kept for the next request that completes it the same way. A variable
the request has no value for, and no default, makes the pattern match nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

# A request's context: condition key (lower-cased) → one value or several.
Context = Mapping[str, "str | tuple[str, ...]"]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class PatternError(ValueError):
    """A pattern this compiler cannot read (an unterminated variable, say)."""


def _regex(text: str, wildcards: bool) -> str:
    if not wildcards:
        return re.escape(text)
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


@lru_cache(maxsize=4096)
def _compiled(expression: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(expression, (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


Test = Callable[[str, Context], bool]


def pattern(
    text: str, *, wildcards: bool = True, ignore_case: bool = False, variables: bool = True
) -> Test:
    """A test of `(value, context)`: whether `value` matches `text`."""
    pieces: list[tuple[str, str | None, str | None]] = []  # (literal, variable, default)
    position = 0
    if variables:
        for found in _VARIABLE.finditer(text):
            pieces.append((text[position : found.start()], None, None))
            inside = found.group(1)
            if inside in _ESCAPES:
                pieces.append((_ESCAPES[inside], "", None))
            else:
                with_default = _DEFAULT.match(inside)
                name, default = (
                    (with_default.group(1), with_default.group(2))
                    if with_default
                    else (inside.strip(), None)
                )
                if not name:
                    raise PatternError(f"empty policy variable in {text!r}")
                pieces.append(("", name.lower(), default))
            position = found.end()
        if "${" in text[position:]:
            raise PatternError(f"unterminated policy variable in {text!r}")
    pieces.append((text[position:], None, None))
    if all(variable is None for _, variable, _ in pieces):
        return _static(text, wildcards, ignore_case)
    # Text is made a regular expression; an escape (`${*}`) is a literal character.
    literal = [
        (re.escape(lit) if var == "" else _regex(lit, wildcards), var, default)
        for lit, var, default in pieces
    ]

    def test(value: str, context: Context) -> bool:
        parts: list[str] = []
        for piece, variable, default in literal:
            if variable is None:
                parts.append(piece)
            elif variable == "":
                parts.append(piece)  # an escape: already a literal expression
            else:
                found = context.get(variable, default)
                if found is None or not isinstance(found, str):
                    return False
                parts.append(re.escape(found))
        return _compiled("".join(parts), ignore_case).fullmatch(value) is not None

    return test


def _static(text: str, wildcards: bool, ignore_case: bool) -> Test:
    if not wildcards or ("*" not in text and "?" not in text):
        if ignore_case:
            folded = text.casefold()
            return lambda value, _context: value.casefold() == folded
        return lambda value, _context: value == text
    if text == "*":
        return lambda _value, _context: True
    expression = _compiled(_regex(text, True), ignore_case)
    return lambda value, _context: expression.fullmatch(value) is not None


def arn_pattern(text: str, *, variables: bool = True) -> Test:
    """ArnLike's test: the six parts of an ARN each matched on its own, so a wildcard in one
    part never reaches into the next (`*` alone matches any ARN)."""
    if text == "*":
        return lambda _value, _context: True
    parts = text.split(":", 5)
    if len(parts) != 6 or (parts[0] != "arn" and "*" not in parts[0] and "?" not in parts[0]):
        raise PatternError(
            f"{text!r} is not an ARN (arn:partition:service:region:account:resource)"
        )
    tests = [pattern(part, variables=variables) for part in parts]

    def test(value: str, context: Context) -> bool:
        given = value.split(":", 5)
        if len(given) != 6:
            return False
        return all(check(part, context) for check, part in zip(tests, given, strict=True))

    return test
