"""Check the package's import graph: no cycle between modules, and every arrow between the
package's parts pointing down its layers.

    python scripts/import_graph.py          # prints the layers and any offending import

Every import counts, at a module's top or inside a function (a hidden cycle is a cycle).
A part is a subpackage of `sagemaker_images` or a module loose beside them; `LAYERS` lists
them from the face down to the ground. A part may import itself and any part of a lower
layer, never one of its own layer or above. Exits 1 on a violation (tests/unit runs this).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "sagemaker_images"
ROOT = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# From the face down to the ground.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("testing",),
    ("server",),
    ("ui",),
    ("data", "jobs"),
    ("events",),
    ("doctor",),
    ("catalog",),
    ("auth",),  # its policies read a call's resource (an alias's version, tags) from the store
    ("protocol", "store", "registry"),
    ("resources", "config", "logs", "errors", "context", "__init__"),
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """The package's modules that `name` imports, with the line."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield _module(alias.name, known), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield (target if target in known else _module(base, known)), node.lineno


def _module(name: str, known: set[str]) -> str:
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def problems() -> list[str]:
    found = modules()
    known = set(found)
    rank = {p: n for n, layer in enumerate(LAYERS) for p in layer}
    graph: dict[str, set[str]] = {m: set() for m in found}
    wrong = []
    for module, path in found.items():
        for target, line in imports(path, module, known):
            if target == module:
                continue
            graph[module].add(target)
            here, there = part(module), part(target)
            if here not in rank or there not in rank:
                wrong.append(f"{module}: {here if here not in rank else there} is in no layer")
            elif here != there and rank[there] <= rank[here]:
                where = "the same layer" if rank[there] == rank[here] else "a higher layer"
                wrong.append(
                    f"{path.relative_to(ROOT.parent)}:{line}: {module} imports {target}, of {where}"
                )
    wrong += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return wrong


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def main() -> int:
    for n, layer in enumerate(LAYERS):
        print(f"layer {n}: {', '.join(layer)}")
    found = problems()
    for problem in found:
        print(problem)
    print(f"{len(found)} problems" if found else "no cycle, no arrow up or sideways")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
