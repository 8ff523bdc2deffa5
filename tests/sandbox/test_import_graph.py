"""The sandbox's modules import each other in layers: no import cycle, and no import hidden in a
function (which is how a cycle used to hide: engine and services imported each other)."""

import ast
from pathlib import Path

import codat_sandbox

PACKAGE = "codat_sandbox"
ROOT = Path(codat_sandbox.__file__).parent


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (migrations excluded:
    Django loads them itself, and they import nothing of ours)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = [PACKAGE, *relative.parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known) -> set:
    """The package's own modules an import statement loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join(package[: len(package) - (node.level - 1)])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    # `from . import engine` loads the module engine; `from .models import X` loads models.
    found = {f"{source}.{alias.name}" for alias in node.names} & set(known)
    if source in known:
        found.add(source)
    return found - {module}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module -> the package's modules it imports (anywhere in it, so an import hidden in a
    function still counts)."""
    modules = _modules(root)
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = set().union(
            *(
                _imported(node, module, is_package, modules)
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
            )
        )
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    visiting, done = [], set()

    def visit(module):
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        if module in done:
            return None
        visiting.append(module)
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported)
            if cycle:
                return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


def imports_in_functions(root: Path) -> list[str]:
    """Import statements inside a function or class body, as 'file:line'."""
    found = []
    for path in _modules(root).values():
        tree = ast.parse(path.read_text(), filename=str(path))
        for scope in ast.walk(tree):
            if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for node in ast.walk(scope):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return sorted(set(found))


def test_the_graph_sees_the_sandbox_modules_and_their_imports():
    graph = import_graph(ROOT)
    assert "codat_sandbox.views.transactions" in graph
    assert "codat_sandbox.outbox" in graph["codat_sandbox.services"]
    assert "codat_sandbox.models" in graph["codat_sandbox.views.records"]  # from ..models


def test_there_is_no_import_cycle_inside_the_sandbox():
    assert find_cycle(import_graph(ROOT)) is None


def test_every_import_is_at_the_top_of_its_module():
    assert imports_in_functions(ROOT) == []
