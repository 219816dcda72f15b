"""Translate the service model's Java regular expressions into Python `regex` patterns.

Java and Python differ where it matters for validation: Java's `\\d`, `\\s` and `\\w` are
ASCII-only, and Java's `.` stops at every line terminator, not only at `\\n`. The `regex`
package already understands `\\p{L}` and friends, so only those classes are rewritten.
A pattern that needs nothing beyond the standard library's `re` compiles with `re`, which
matches in half the time; `regex` (compatible with `re` in its VERSION0) takes the rest.
"""

from __future__ import annotations

import re
import warnings
from functools import cache

import regex

_JAVA_SPACE = r" \t\n\x0B\f\r"
_LINE_TERMINATORS = r"\n\r\u0085\u2028\u2029"

# How each escape reads outside and inside a character class.
_OUTSIDE = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "s": f"[{_JAVA_SPACE}]",
    "S": f"[^{_JAVA_SPACE}]",
    "w": "[a-zA-Z_0-9]",
    "W": "[^a-zA-Z_0-9]",
}
_INSIDE = {"d": "0-9", "s": _JAVA_SPACE, "w": "a-zA-Z_0-9"}


def translate(pattern: str) -> str:
    """Rewrite a Java pattern so that Python's `regex` matches exactly what Java would."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, ch + nxt))
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            # A ']' or '^]' right after '[' is a literal member, not the end of the class.
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("\\]")
                i += 1
        elif ch == ".":
            out.append(f"[^{_LINE_TERMINATORS}]")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@cache
def compile_java(pattern: str) -> re.Pattern[str] | regex.Pattern[str]:
    """Compile once; every call of a pattern of the model shares one compiled object."""
    translated = translate(pattern)
    with warnings.catch_warnings():
        # `re` refuses `\\p{L}` ("bad escape") and warns of sets it would read otherwise.
        warnings.simplefilter("error")
        try:
            return re.compile(translated)
        except (re.error, FutureWarning):
            pass
    return regex.compile(translated, regex.VERSION0)
