"""The shape of the package: no import circles, imports pointing down the layers, small modules.

Layers, top to bottom: ``cli`` and ``__main__`` -> ``commands`` -> ``experiments`` ->
``simulation`` -> ``models``. A module may import its own layer or a lower one; the package root
(``__init__.py``, which holds ``__version__``) imports nothing of the package, so anyone may import
it.

The import graph is read from the source with :mod:`ast`, so every import statement counts: at
module level, inside a function, under ``if TYPE_CHECKING:``, absolute or relative. An edge goes
to the module named; ``from p import y`` goes to ``p.y`` when that is a module and to ``p``
otherwise. The implicit import of a module's parent packages is not an edge: a package
``__init__`` re-exporting its submodules is not a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "smasim"
# the first name below the package -> its height; imports may point at the same height or lower
LAYERS = {"cli": 4, "__main__": 4, "commands": 3, "experiments": 2, "simulation": 1, "models": 0}
NOT_PACKAGE = {"tests", "benchmarks"}
MAX_LINES = 400
MAX_LINES_CLI = 200

Graph = dict[str, dict[str, int]]  # module -> {imported module: line of its first import}


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module of the package whose source root is ``root``."""
    files = list(root.glob("*.py"))
    for sub in sorted(root.iterdir()):
        if sub.name not in NOT_PACKAGE and (sub / "__init__.py").is_file():
            files += [p for p in sub.rglob("*.py") if "__pycache__" not in p.parts]
    found = {}
    for path in files:
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def _known_prefix(name: str, known: dict[str, Path]) -> str | None:
    """The longest dotted prefix of ``name`` that is a known module."""
    parts = name.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) or None


def import_graph(root: Path, package: str) -> tuple[Graph, dict[str, Path]]:
    """The package's imports of its own modules, and its modules."""
    modules = find_modules(root, package)
    graph: Graph = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: list[tuple[str, int]] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets += [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append((sub if sub in modules else base, node.lineno))
        edges: dict[str, int] = {}
        for target, line in sorted(targets, key=lambda t: t[1]):
            if target == package or target.startswith(package + "."):
                resolved = _known_prefix(target, modules) or target
                edges.setdefault(resolved, line)
        graph[name] = edges
    return graph, modules


def circles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with a cycle: two or more modules, or a self-import."""
    reach = {}
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, {})
        reach[start] = seen
    found = {frozenset(n for n in reach[m] if m in reach.get(n, ())) for m in graph}
    return sorted(sorted(c) for c in found if c)


def layer_of(module: str) -> int | None:
    """Height of a module's layer; None for the package root and for modules in no layer."""
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def upward_imports(graph: Graph) -> list[tuple[str, str, int]]:
    """(importer, imported, line) for every import pointing at a higher layer."""
    found = []
    for src, edges in sorted(graph.items()):
        height = layer_of(src)
        for dst, line in sorted(edges.items()):
            up = layer_of(dst)
            if height is not None and up is not None and up > height:
                found.append((src, dst, line))
    return found


@pytest.fixture(scope="module")
def project() -> tuple[Graph, dict[str, Path]]:
    return import_graph(ROOT, PACKAGE)


def _where(modules: dict[str, Path], module: str, line: int) -> str:
    return f"{modules[module].relative_to(ROOT)}:{line}"


def test_walker_sees_the_package(project):
    """The walk reads the real tree: the entry points and a model module, and one known import."""
    graph, modules = project
    assert {PACKAGE, f"{PACKAGE}.cli", f"{PACKAGE}.__main__", f"{PACKAGE}.models.agents"} <= set(
        modules
    )
    assert f"{PACKAGE}.cli" in graph[f"{PACKAGE}.__main__"]
    assert not any(name.split(".")[1] in NOT_PACKAGE for name in modules if "." in name)


def test_no_import_circles(project):
    """No module reaches itself through imports, however deferred (inside functions included)."""
    graph, modules = project
    found = circles(graph)
    lines = []
    for circle in found:
        lines.append(" <-> ".join(circle))
        lines += [
            f"    {_where(modules, src, line)} imports {dst}"
            for src in circle
            for dst, line in sorted(graph[src].items())
            if dst in circle
        ]
    assert not found, "import circles:\n" + "\n".join(lines)


def test_every_module_is_in_a_layer(project):
    """Each module sits in a known layer, so the layering check below covers it."""
    _, modules = project
    stray = sorted(m for m in modules if m != PACKAGE and layer_of(m) is None)
    assert not stray, f"modules in no layer (known: {', '.join(LAYERS)}): {', '.join(stray)}"


def test_imports_point_down_the_layers(project):
    """cli -> commands -> experiments -> simulation -> models: no module imports a higher layer."""
    graph, modules = project
    found = upward_imports(graph)
    lines = [
        f"{_where(modules, src, line)}: {src} imports {dst} ({dst.split('.')[1]} is above "
        f"{src.split('.')[1]})"
        for src, dst, line in found
    ]
    assert not found, "imports pointing up the layers:\n" + "\n".join(lines)


def test_package_root_imports_nothing_of_the_package(project):
    """``__init__.py`` at the root only holds ``__version__``: importing it loads nothing more."""
    graph, modules = project
    edges = graph[PACKAGE]
    assert not edges, "the package root imports: " + ", ".join(
        f"{dst} ({_where(modules, PACKAGE, line)})" for dst, line in sorted(edges.items())
    )


def test_modules_are_small(project):
    """No module over 400 lines and a thin cli (200 lines): long files hide tangled jobs."""
    _, modules = project
    too_long = []
    for name, path in sorted(modules.items()):
        limit = MAX_LINES_CLI if name == f"{PACKAGE}.cli" else MAX_LINES
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            too_long.append(f"{path.relative_to(ROOT)}: {n} lines (at most {limit})")
    assert not too_long, "modules too long:\n" + "\n".join(too_long)


def test_walker_finds_circles_and_upward_imports(tmp_path):
    """The checks above can fail: on a throwaway package, the walker finds what was planted."""
    files = {
        "__init__.py": "",
        "cli.py": "",
        "models/__init__.py": "",
        # relative, inside a function, naming a submodule: up a layer and half of a circle
        "models/a.py": "def f():\n    from ..simulation import b\n",
        "simulation/__init__.py": "",
        "simulation/b.py": "import pkg.models.a\n",
        "simulation/c.py": (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg.cli import x\n"
        ),
        "simulation/s.py": "from pkg.simulation import s\n",
        "tests/__init__.py": "",
        "tests/t.py": "import pkg.cli\n",
    }
    root = tmp_path / "pkg"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")

    graph, modules = import_graph(root, "pkg")

    assert "pkg.tests.t" not in modules
    assert circles(graph) == [["pkg.models.a", "pkg.simulation.b"], ["pkg.simulation.s"]]
    assert upward_imports(graph) == [
        ("pkg.models.a", "pkg.simulation.b", 2),
        ("pkg.simulation.c", "pkg.cli", 4),
    ]
