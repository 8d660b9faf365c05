"""The package's layers, drawn from its imports: no circle, and no arrow from a lower layer to a higher one."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import drivercam

PACKAGE = Path(drivercam.__file__).resolve().parent

# Each layer may import itself and the layers after it, never one before it.
LAYERS = (
    ("cli",),
    ("batch", "bench", "monitoring"),
    ("pipeline", "render", "sinks", "sources"),
    ("model",),
    ("types", "picture", "errors", "events", "_closing", "__init__", "__main__"),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every drivercam module and the drivercam modules it imports (at any depth of the file)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        graph[module]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("drivercam"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    graph[module].add(
                        full
                        if (PACKAGE.parent / full.replace(".", "/")).with_suffix(".py").exists()
                        or (PACKAGE.parent / full.replace(".", "/")).is_dir()
                        else node.module
                    )
            elif isinstance(node, ast.Import):
                graph[module].update(a.name for a in node.names if a.name.startswith("drivercam"))
    return graph


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module} is in no layer; add its folder to LAYERS")


def test_every_module_is_in_a_layer() -> None:
    for module in _imports():
        _layer(module)


def test_no_import_goes_up_a_layer() -> None:
    upward = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, targets in _imports().items()
        for target in targets
        if module not in ("drivercam", "drivercam.__main__") and _layer(target) < _layer(module)
    ]
    assert upward == []


def test_no_import_circle() -> None:
    graph = _imports()
    # Packages import their own modules (``__init__``); a module importing its
    # package's ``__init__`` is the only edge back, and only when that
    # ``__init__`` re-exports a sibling, so leave package-to-child edges out.
    edges = {m: {t for t in ts if t in graph and not t.startswith(m + ".")} for m, ts in graph.items()}
    seen: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if seen.get(nxt) == 1:
                circles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(edges):
        if node not in seen:
            visit(node)
    assert circles == []


def test_the_layer_check_sees_an_upward_arrow() -> None:
    # The check itself can fail: a pipeline module importing the command line is upward.
    assert _layer("drivercam.pipeline.capture") > _layer("drivercam.cli.main")
    assert _layer("drivercam.types") > _layer("drivercam.model.classifier")
