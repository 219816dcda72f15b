"""Functions generated from declarations, for the few paths every request runs.

A function written out for one shape (straight-line code, no loop over a table of what to
do) costs a fraction of a general one in CPython; `dataclasses` builds `__init__` the same
way. The text comes only from declarations in this package and the service model, never
from a request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def function(
    name: str, parameters: str, body: Sequence[str], namespace: dict[str, Any] | None = None
) -> Callable[..., Any]:
    """`def name(parameters): body`, with `namespace` as its globals."""
    text = f"def {name}({parameters}):\n" + "\n".join(f"    {line}" for line in body)
    scope: dict[str, Any] = dict(namespace or {})
    exec(compile(text, f"<generated {name}>", "exec"), scope)
    built: Callable[..., Any] = scope[name]
    return built
