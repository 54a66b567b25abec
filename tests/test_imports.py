"""The import graph: reading and validating an instance does not load the solver stack, and no
module of hwbopt imports, at its top level, a module that imports it back."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hwbopt"
# the solver stack proper; hwbopt/__init__.py loads only pyomo.common.dependencies, Pyomo's
# light import layer, to keep Pyomo from importing scipy.stats into every command
SOLVER_STACK = ("pyomo.core", "pyomo.environ", "highspy")
NOT_FOR_READING = ("hwbopt.batch.engine", "hwbopt.batch.params", "hwbopt.compile",
                   "hwbopt.highs", "hwbopt.model.build")

# run in a fresh interpreter: the test process has long loaded everything
READ_AND_VALIDATE = """
import json, sys
import hwbopt
from hwbopt.scenarios import scenario_instance
for path in sys.argv[1:]:
    inst = hwbopt.load(path)  # validated: schema, references, scenarios, options, stress sets
    for scenario in inst.scenarios:
        scenario_instance(inst, scenario.id)
print(json.dumps(sorted(sys.modules)))
"""
VALIDATE_COMMAND = """
import json, sys
from click.testing import CliRunner
from hwbopt.cli import cli
codes = [CliRunner().invoke(cli, ["validate", path]).exit_code for path in sys.argv[1:]]
print(json.dumps([codes, sorted(sys.modules)]))
"""


def shipped(tmp_path: Path) -> list[str]:
    """Both shipped instances as folders, and the tutorial as a workbook too."""
    from hwbopt.io.instance import load_instance, write_instance

    folders = sorted(p for p in (ROOT / "instances").iterdir() if p.is_dir())
    book = write_instance(load_instance(folders[-1]), tmp_path / "tutorial.xlsx")
    return [*map(str, folders), str(book)]


def run(code: str, paths: list[str]) -> Any:
    """The JSON ``code`` prints, run in a fresh interpreter with ``paths`` as arguments."""
    out = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_reading_and_validating_never_loads_the_solver(tmp_path: Path) -> None:
    paths = shipped(tmp_path)
    assert [Path(p).name for p in paths] == ["county", "tutorial", "tutorial.xlsx"]
    loaded = set(run(READ_AND_VALIDATE, paths))
    assert {"hwbopt.io.folder", "hwbopt.io.workbook", "hwbopt.validate"} <= loaded
    unwanted = loaded & {*SOLVER_STACK, *NOT_FOR_READING}
    assert not unwanted, f"reading an instance loaded {sorted(unwanted)}"


def test_validate_command_never_loads_the_solver(tmp_path: Path) -> None:
    paths = shipped(tmp_path)
    codes, modules = run(VALIDATE_COMMAND, paths)
    assert codes == [0] * len(paths)
    unwanted = set(modules) & set(SOLVER_STACK)
    assert not unwanted, f"hwbopt validate loaded {sorted(unwanted)}"


# --------------------------------------------------------------------------------------------
# no cycle among top-level imports
# --------------------------------------------------------------------------------------------


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, is a package)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(body: list[ast.stmt], package: str, known: set[str]) -> set[str]:
    """Modules of hwbopt imported when the module runs, outside functions and classes and
    outside ``if TYPE_CHECKING:``."""
    out: set[str] = set()
    for node in body:
        if isinstance(node, ast.If):
            if not _type_checking(node):
                out |= _top_level_imports(node.body + node.orelse, package, known)
        elif isinstance(node, ast.Try):
            out |= _top_level_imports(node.body + node.orelse + node.finalbody, package, known)
            for handler in node.handlers:
                out |= _top_level_imports(handler.body, package, known)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            out.add(module)
            # ``from hwbopt.io import folder`` imports the module hwbopt.io.folder
            out |= {f"{module}.{a.name}" for a in node.names} & known
    return {m for m in out if m in known}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {}
    for name, (path, package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        parent = name if package else name.rpartition(".")[0]
        graph[name] = _top_level_imports(tree.body, parent, known) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_reports_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_relative_and_module_imports() -> None:
    graph = import_graph()
    assert "hwbopt.io.data" in graph["hwbopt.io.folder"]
    assert "hwbopt.paths" in graph["hwbopt.scenarios"]
    tree = ast.parse("from . import folder\nfrom .data import build_instance\n"
                     "if TYPE_CHECKING:\n    from hwbopt.compile import Compiled\n"
                     "def f():\n    import hwbopt.highs\n")
    found = _top_level_imports(tree.body, "hwbopt.io", set(_modules()))
    assert found == {"hwbopt.io", "hwbopt.io.folder", "hwbopt.io.data"}
