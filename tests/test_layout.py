"""The package's layout, read from the source: no import cycle among sandbox/ modules, no module
over 450 lines, each package's `__all__` matching its public names in both directions, and the
chain knowing nothing of x402's roles or the stack.

Imports counted: module-level ones, including those under a module-level `if` or `try`.
Excluded: imports inside functions and classes (deferred on purpose, often to break exactly such
a cycle or to keep start-up light) and those under `if TYPE_CHECKING:` (never run). An import
of a submodule counts as an edge to that submodule only, not to the packages above it (Python
imports those first, and a package's __init__ importing its own submodules is no cycle).
"""

from __future__ import annotations
import __future__

import ast
import importlib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "sandbox"
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(SANDBOX.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(tree: ast.Module):
    """Import statements run when the module is imported (see the module docstring)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                pending[:0] = node.body
            pending[:0] = node.orelse
        elif isinstance(node, ast.Try):
            pending[:0] = [*node.body, *node.orelse, *node.finalbody]
            for handler in node.handlers:
                pending[:0] = handler.body


def _target(name: str) -> str | None:
    """The sandbox module `name` resolves to (the longest known prefix), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _module_level_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from pkg import sub` imports the submodule pkg.sub; `from pkg import name`
                # runs pkg's __init__.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                    for alias in node.names
                ]
            edges.update(t for t in map(_target, targets) if t is not None and t != name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_relative_and_submodule_imports():
    graph = import_graph()
    assert "sandbox.chain.producer" in graph["sandbox.chain.node"]  # from .producer import ...
    assert (
        "sandbox.chain.cli" in graph["sandbox.orchestration.chain_command"]
    )  # from pkg import sub


def test_no_import_cycle_among_sandbox_modules():
    assert cycles(import_graph()) == []


def test_the_chain_imports_nothing_of_the_stack_or_the_x402_roles():
    """sandbox/chain is a Solana devnet twin: it may use the shared Solana constants in
    sandbox.protocol (program ids, networks), never orchestration, payer, facilitator, server."""
    forbidden = ("orchestration", "payer", "facilitator", "server", "loadtest", "scenario_runner")
    graph = import_graph()
    reached = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("sandbox.chain")
        for target in targets
        if target.split(".")[1] in forbidden
    }
    assert reached == set()


def _long_modules() -> dict[str, int]:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in MODULES.values()
    }
    return {path: n for path, n in sorted(lengths.items()) if n > MAX_LINES}


def test_no_module_over_450_lines():
    assert _long_modules() == {}


PACKAGES = sorted(
    name for name, path in MODULES.items() if path.name == "__init__.py" and name != "sandbox"
)


def _public_names(package: types.ModuleType) -> set[str]:
    """Names a reader of the package sees: not private, not its own submodules, not
    `from __future__ import annotations`."""
    names = set()
    for name, value in vars(package).items():
        if name.startswith("_") or not name.isidentifier():  # pytest's rewrite helpers
            continue
        if isinstance(value, types.ModuleType) and value.__name__.startswith(
            package.__name__ + "."
        ):
            continue
        if isinstance(value, __future__._Feature):
            continue
        names.add(name)
    return names


@pytest.mark.parametrize("name", PACKAGES)
def test_the_public_surface_is_all_in_both_directions(name: str):
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", None)
    assert exported is not None, f"{name} declares no __all__ (an empty one: nothing re-exported)"
    assert len(set(exported)) == len(exported), "a name listed twice"
    assert [n for n in exported if not hasattr(package, n)] == [], "listed but missing"
    assert sorted(_public_names(package) - set(exported)) == [], "public but not in __all__"
