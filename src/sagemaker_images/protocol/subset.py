"""The part of AWS's SageMaker service model that this server serves, cut out of the whole.

`scripts/ship_model.py` runs `subset()` over botocore's copy of the model (at the version
the test extras pin) and writes the result beside this module, where `model.py` reads it:
the operations served, every shape they reach, the model's error shapes, and the names of
the operations not served (so that they are told apart from unknown ones). Documentation is
left out. A test holds the shipped file to what the script makes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FILE_NAME = "sagemaker-model.json"


def subset(description: dict[str, Any], operations: Iterable[str]) -> dict[str, Any]:
    served = sorted(operations)
    all_operations = description["operations"]
    missing = [name for name in served if name not in all_operations]
    if missing:
        raise ValueError(f"not operations of the model: {missing}")
    shapes = description["shapes"]
    wanted: set[str] = {name for name, shape in shapes.items() if shape.get("exception")}
    for name in served:
        operation = all_operations[name]
        for part in ("input", "output"):
            if part in operation:
                wanted.add(operation[part]["shape"])
        wanted.update(error["shape"] for error in operation.get("errors", ()))
    reached = _reachable(shapes, wanted)
    return {
        "version": description.get("version", "2.0"),
        "metadata": description["metadata"],
        "operations": {name: _without_docs(all_operations[name]) for name in served},
        "otherOperations": sorted(set(all_operations) - set(served)),
        "shapes": {name: _without_docs(shapes[name]) for name in sorted(reached)},
    }


def _reachable(shapes: dict[str, Any], roots: set[str]) -> set[str]:
    found: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        shape = shapes[name]
        for member in shape.get("members", {}).values():
            pending.append(member["shape"])
        for part in ("member", "key", "value"):
            if part in shape:
                pending.append(shape[part]["shape"])
    return found


def _without_docs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_docs(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [_without_docs(v) for v in value]
    return value
