"""The package's structure, checked: the import graph between rnnkit modules (read with `ast`, nothing
imported) has no cycles, no function-local imports of rnnkit, and respects the layering that
`rnnkit/__init__.py`'s docstring describes; the public names the README promises exist.

When one of these fails, its message names the modules and lines. To move a module to another part,
edit PARTS below (the one place the layering is written down).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "rnnkit"

# The parts, lowest first: (label, members). A module may import modules of its own part or of a part
# listed before it. Members are the first component under rnnkit/ (a module `x.py` or a package `x/`);
# "__init__" is rnnkit/__init__.py itself.
PARTS: list[tuple[str, list[str]]] = [
    ("base", ["checks", "convert", "keras_mask", "state", "registry", "symbolic", "activations", "initializers",
              "losses", "loss_functions",
              "metrics", "optimizers", "keras_optimizers", "schedules", "callbacks", "backend", "data",
              "preprocessing", "utils", "mixed_precision", "config", "catalog", "regularizers", "constraints",
              "ops"]),
    ("cells", ["cells"]),
    ("layers", ["layers"]),
    ("training", ["training"]),
    ("io", ["io"]),
    ("models", ["models"]),
    ("inference", ["inference", "onnx"]),
    ("serve", ["serve"]),
    ("explanation", ["explanation"]),
    ("top", ["experiments", "cli", "__init__"]),
]

# Third-party packages that may be imported inside a function: optional extras (not installed by
# default) or heavy ones only some code paths need. Everything else is imported at module level.
LOCAL_IMPORT_ALLOWED = {"keras", "onnx", "onnxruntime", "jax", "jaxlib", "matplotlib", "tensorflow", "h5py",
                        "IPython", "graphviz", "pydot", "redis"}
# Modules of required packages that import an optional one: importing them at module level would make
# `import rnnkit` need it.
LOCAL_MODULE_ALLOWED = {"torch.utils.tensorboard": "needs the optional tensorboard package (rnnkit[tensorboard])"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, "rnnkit.models.base"
    target: str  # the rnnkit module it loads, "rnnkit.layers.base"
    line: int
    text: str  # the statement, for messages
    local: bool  # inside a function or class body

    def where(self) -> str:
        return f"{module_path(self.source)}:{self.line}: {self.text}"


def module_name(path: Path) -> str:
    parts = ["rnnkit", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> str:
    """rnnkit.models.base -> src/rnnkit/models/base.py (for messages)."""
    return str(MODULES[name].relative_to(ROOT)) if name in MODULES else name


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}
PACKAGES = {name for name, p in MODULES.items() if p.name == "__init__.py"}


def _resolve(base: str, names: list[str]) -> list[str]:
    """`from base import names` -> the rnnkit modules it loads (a name that is a submodule loads that
    submodule, any other name the package base itself)."""
    targets = []
    for name in names:
        sub = f"{base}.{name}"
        targets.append(sub if sub in MODULES else base)
    return list(dict.fromkeys(targets))


def _absolute(module: str, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    package = module if module in PACKAGES else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, source: str):
        self.module, self.lines = module, source.splitlines()
        self.depth = 0  # > 0 inside a function or class body
        self.rnnkit: list[Import] = []
        self.local_third_party: list[tuple[int, str, str]] = []  # (line, top-level package, text)

    def _scoped(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scoped

    def _text(self, node) -> str:
        return " ".join(line.strip() for line in self.lines[node.lineno - 1:node.end_lineno])

    def _add(self, node, targets: list[str], external: list[str]):
        for target in targets:
            self.rnnkit.append(Import(self.module, target, node.lineno, self._text(node), self.depth > 0))
        if self.depth:
            for top in external:
                self.local_third_party.append((node.lineno, top, self._text(node)))

    def visit_Import(self, node: ast.Import):
        ours = [a.name for a in node.names if a.name.split(".")[0] == "rnnkit"]
        targets = []
        for name in ours:  # `import rnnkit.a.b`: the deepest module that exists
            while name not in MODULES and "." in name:
                name = name.rpartition(".")[0]
            targets.append(name)
        self._add(node, targets, [a.name.split(".")[0] for a in node.names if a.name.split(".")[0] != "rnnkit"])

    def visit_ImportFrom(self, node: ast.ImportFrom):
        base = _absolute(self.module, node)
        if base is None or base.split(".")[0] != "rnnkit":
            if node.module != "__future__":
                self._add(node, [], [(base or "").split(".")[0]])
            return
        while base not in MODULES and "." in base:
            base = base.rpartition(".")[0]
        self._add(node, _resolve(base, [a.name for a in node.names]), [])


def _collect() -> tuple[list[Import], list[tuple[str, int, str, str]]]:
    imports, local = [], []
    for name, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        collector = _Collector(name, source)
        collector.visit(ast.parse(source, filename=str(path)))
        imports += collector.rnnkit
        local += [(name, line, top, text) for line, top, text in collector.local_third_party]
    return imports, local


IMPORTS, LOCAL_THIRD_PARTY = _collect()


def part_of(module: str) -> int | None:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for index, (_, members) in enumerate(PARTS):
        if key in members:
            return index
    return None


def _part_name(index: int) -> str:
    return PARTS[index][0]


# -- sanity: the parser sees what it should --------------------------------------------------------------------
def test_the_import_graph_is_read():
    assert len(MODULES) > 40, f"found only {sorted(MODULES)} under {SRC}"
    edges = {(i.source, i.target) for i in IMPORTS}
    # relative, parent-relative, `from . import submodule` and `from .pkg import name` all resolve
    assert ("rnnkit.models.base", "rnnkit.training.trainer") in edges
    assert ("rnnkit.training.trainer", "rnnkit.convert") in edges  # from .. import convert
    assert ("rnnkit", "rnnkit.inference") in edges  # from .inference import Stream, generate
    assert ("rnnkit.cli", "rnnkit.experiments") in edges  # from . import __version__, experiments
    assert ("rnnkit.cli", "rnnkit") in edges  # ... and __version__ is a name of rnnkit/__init__.py


def test_every_module_has_a_part():
    missing = sorted(m for m in MODULES if part_of(m) is None)
    assert not missing, (f"modules in no part of the layering: {missing}. Add their top-level name to PARTS in "
                         f"{Path(__file__).name} (lowest part first).")


# -- the rules --------------------------------------------------------------------------------------------------
def _find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (or a self-import)."""
    index, low, on_stack, stack, sccs, counter = {}, {}, set(), [], [], [0]

    def connect(v):  # Tarjan, iterative enough for a package of this size
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1 or v in edges.get(v, ()):
                sccs.append(set(scc))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    cycles = []
    for scc in sccs:  # a concrete cycle through the component: breadth-first from its first module back to it
        start = min(scc)
        previous, frontier = {start: None}, [start]
        while frontier and start not in [w for v in frontier for w in edges[v]]:
            nxt = []
            for v in frontier:
                for w in sorted(edges[v] & scc):
                    if w not in previous:
                        previous[w] = v
                        nxt.append(w)
            frontier = nxt
        last = next(v for v in frontier if start in edges[v])
        path = [last]
        while previous[path[-1]] is not None:
            path.append(previous[path[-1]])
        cycles.append([*reversed(path), start])
    return cycles


def test_find_cycles_finds_a_cycle():
    assert _find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        if i.target != i.source:
            edges[i.source].add(i.target)
    lines = {(i.source, i.target): i.where() for i in IMPORTS}
    report = []
    for cycle in _find_cycles(edges):
        report.append(" -> ".join(cycle))
        report += [f"    {lines[a, b]}" for a, b in zip(cycle, cycle[1:])]
    assert not report, "import cycles between rnnkit modules:\n" + "\n".join(report)


def test_no_function_local_imports_of_rnnkit():
    local = [i.where() for i in IMPORTS if i.local]
    assert not local, ("rnnkit modules imported inside a function or class body (import them at module level; "
                       "a cycle that forced this is a layering problem):\n" + "\n".join(local))


def test_function_local_imports_only_for_optional_or_heavy_packages():
    bad = [f"{module_path(m)}:{line}: {text}" for m, line, top, text in LOCAL_THIRD_PARTY
           if top not in LOCAL_IMPORT_ALLOWED and not any(f" {name} " in f" {text} " for name in LOCAL_MODULE_ALLOWED)]
    assert not bad, ("imports inside a function of packages that are not optional or heavy (import them at "
                     f"module level, or add the package to LOCAL_IMPORT_ALLOWED with a reason):\n" + "\n".join(bad))


def test_imports_respect_the_layering():
    upward = []
    for i in IMPORTS:
        src, dst = part_of(i.source), part_of(i.target)
        if src is not None and dst is not None and dst > src:
            upward.append(f"{i.where()}\n    {i.source} (part {_part_name(src)}) imports {i.target} "
                          f"(part {_part_name(dst)}, higher)")
    order = " -> ".join(f"{label} ({', '.join(members)})" if len(members) > 1 else label for label, members in PARTS)
    assert not upward, f"imports that point up the layering ({order}):\n" + "\n".join(upward)


# -- public names -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("namespace, name", [("rnnkit", "explain"), ("rnnkit", "generate"),
                                             ("rnnkit.explanation", "explain"), ("rnnkit.inference", "generate")])
def test_public_entry_points_are_functions(namespace, name):
    for module in MODULES:  # importing every submodule must not replace a function by a module
        importlib.import_module(module)
    obj = getattr(importlib.import_module(namespace), name)
    assert inspect.isfunction(obj), f"{namespace}.{name} is {obj!r}; the README promises a function"


def test_stacked_rnn_cells_is_exported_at_the_top_level():
    import rnnkit
    assert rnnkit.StackedRNNCells is rnnkit.cells.StackedRNNCells is rnnkit.layers.StackedRNNCells
    assert "StackedRNNCells" in rnnkit.__all__


def _bound_names(tree: ast.Module) -> dict[str, tuple[int, str]]:
    """Names a package's __init__ binds at module level -> (line, what binds them)."""
    bound = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = (node.lineno, f"def/class {node.name}")
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                bound[a.asname or a.name] = (node.lineno, f"from {'.' * node.level}{node.module or ''} import {a.name}")
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    bound[t.id] = (node.lineno, f"{t.id} = ...")
    return bound


def test_no_public_module_shares_its_name_with_a_function():
    # `rnnkit/inference/generate.py` next to `from .generate import generate` makes rnnkit.inference.generate
    # a function or a module depending on what was imported last.
    clashes = []
    for package in sorted(PACKAGES):
        init = MODULES[package]
        submodules = {p.stem if p.suffix else p.name for p in init.parent.iterdir()
                      if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").is_file())}
        for name, (line, what) in _bound_names(ast.parse(init.read_text(encoding="utf-8"))).items():
            if name in submodules and not name.startswith("_"):
                binds_module = what in (f"from . import {name}", f"from .{name} import *")
                if not binds_module:
                    clashes.append(f"{init.relative_to(ROOT)}:{line}: {what} -- so {package}.{name} names this object "
                                   f"and also the module {module_path(package + '.' + name)}; rename the module")
    assert not clashes, "public modules that share their name with another object:\n" + "\n".join(clashes)


def _readme_imports() -> list[tuple[int, str, list[str]]]:
    """(line, module, names) for each `from rnnkit... import names` / `import rnnkit...` in the README."""
    found = []
    for number, line in enumerate((ROOT / "README.md").read_text(encoding="utf-8").splitlines(), 1):
        m = re.match(r"\s*from\s+(rnnkit[\w.]*)\s+import\s+([\w\s,]+?)(?:\s*#.*)?$", line)
        if m:
            names = [n.split(" as ")[0].strip() for n in m.group(2).split(",") if n.strip()]
            found.append((number, m.group(1), names))
        m = re.match(r"\s*import\s+(rnnkit[\w.]*)", line)
        if m:
            found.append((number, m.group(1), []))
    return found


def _readme_attributes() -> list[tuple[int, str]]:
    """(line, name) for each `rnnkit.name` the README uses in prose or code."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    imports = {line for line, _, _ in _readme_imports()}  # checked by test_readme_imports_work
    return [(number, m.group(1)) for number, line in enumerate(text, 1) if number not in imports
            for m in re.finditer(r"(?<![\w/.-])rnnkit\.(\w+)", line)]


def test_readme_imports_work():
    assert _readme_imports(), "the README has no `from rnnkit import ...` lines: the pattern is out of date"
    broken = []
    for line, module, names in _readme_imports():
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            broken.append(f"README.md:{line}: import {module}: {e}")
            continue
        broken += [f"README.md:{line}: {module} has no {name!r}" for name in names if not hasattr(mod, name)]
    assert not broken, "imports the README shows that fail:\n" + "\n".join(broken)


def test_readme_rnnkit_attributes_exist():
    import rnnkit

    missing = [f"README.md:{line}: rnnkit.{name}" for line, name in _readme_attributes()
               if not hasattr(rnnkit, name)
               and importlib.util.find_spec(f"rnnkit.{name}") is None]
    assert not missing, "names the README uses that rnnkit lacks:\n" + "\n".join(missing)
