"""The floor plan of the package (docs: README "Architecture"), checked on the source
with `ast`, so that it stays true: floors import only floors below (or their own), no
import cycles between modules or between packages, no private name imported from
another package, and no long module without a reason written at its top."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "gru_bif"

#: unit (a top-level module or a sub-package) -> floor; a new module must be placed here
FLOORS = {
    # 0: shared internals (they import only each other)
    "_custom_types": 0, "_lazy": 0, "_io": 0, "_results": 0, "_linalg": 0, "_util": 0,
    "_compile": 0, "_programs": 0, "_fingerprint": 0, "_krylov": 0,
    # infrastructure: many systems over devices and processes (import only the above)
    "distributed": 0, "batch": 0,
    # 1: models (vector fields: they know nothing of problems or continuation)
    "models": 1,
    # 2: the problem and result types
    "problem": 2, "branch": 2,
    # 3: pure maths: bifurcation test functions and coefficients, implicit derivatives
    "bifurcations": 3, "differentiate": 3,
    # 4: the continuation engine
    "continuation": 4,
    # 5: solutions and their bifurcations
    "simulate": 5, "equilibria": 5, "collocation": 5, "curves": 5,
    "homoclinic": 5, "periodic": 5, "chaos": 5,
    # 6: applications
    "losses": 6, "training": 6, "census": 6, "trained": 6, "dissect": 6, "systems": 6,
    "examples": 6, "attractors": 6,
    # 7-9: presentation
    "plotting": 7, "reproduce": 8, "cli": 9,
}
#: the same-floor order: a unit may import units of its floor listed before it
ORDER = [
    "simulate", "equilibria", "collocation", "curves", "homoclinic",
    "periodic", "chaos", "systems", "examples", "losses", "training", "census",
    "trained", "dissect", "attractors",
]
MAX_LINES = 600
LONG_REASON = "This module is long because"


def _modules():
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        name = ".".join(parts)
        package = name if is_pkg else ".".join(parts[:-1])
        out[name] = (path, package, is_pkg)
    return out


MODULES = _modules()


def _unit(module: str) -> "str | None":
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None  # None: gru_bif/__init__ (the facade)


def _imports(name):
    """`(target module, imported name or None, line)` of every gru_bif import in module
    `name`, function-level imports included."""
    path, package, _ = MODULES[name]
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names
                    if a.name.split(".")[0] == "gru_bif"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "gru_bif":
                continue
            for a in node.names:
                full = f"{mod}.{a.name}"
                if full in MODULES:
                    out.append((full, None, node.lineno))
                else:
                    out.append((mod, a.name, node.lineno))
    return out


EDGES = {m: _imports(m) for m in MODULES}


def _cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def test_every_unit_has_a_floor():
    units = {_unit(m) for m in MODULES} - {None}
    assert units <= set(FLOORS), f"place these in FLOORS: {sorted(units - set(FLOORS))}"


def test_no_module_cycles():
    graph = {m: {t for t, _, _ in EDGES[m] if t in MODULES and t != m} for m in MODULES}
    # a package's __init__ re-exports its modules: edges into it are edges to them
    assert _cycles(graph) == []


def test_no_package_cycles():
    graph = {}
    for m in MODULES:
        u = _unit(m)
        if u is None:
            continue
        for t, _, _ in EDGES[m]:
            tu = _unit(t)
            if tu is not None and tu != u:
                graph.setdefault(u, set()).add(tu)
    assert _cycles(graph) == []


def test_imports_run_down_the_floors():
    bad = []
    for m in MODULES:
        u = _unit(m)
        if u is None:
            continue
        for t, _, line in EDGES[m]:
            tu = _unit(t)
            if tu is None or tu == u:
                continue
            fu, ft = FLOORS[u], FLOORS[tu]
            up = ft > fu or (ft == fu and u in ORDER and tu in ORDER
                             and ORDER.index(tu) > ORDER.index(u))
            if up:
                bad.append(f"{m}:{line} imports {t} (floor {ft} from floor {fu})")
    assert bad == []


def test_no_private_names_across_packages():
    bad = []
    for m in MODULES:
        u = _unit(m)
        for t, name, line in EDGES[m]:
            if name is None or not name.startswith("_") or name.startswith("__"):
                continue
            if _unit(t) != u:
                bad.append(f"{m}:{line} imports {name} from {t}")
    assert bad == []


def test_lazy_exports_point_inside_their_package():
    """A sub-package's lazy table names its own modules (the top-level facade may name
    any)."""
    bad = []
    for m, (path, _, is_pkg) in MODULES.items():
        if not is_pkg or m == "gru_bif":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and getattr(node.targets[0], "id", None) == "_LAZY"):
                for v in node.value.values:
                    target = v.elts[0].value
                    if not target.startswith(".") or target.startswith(".."):
                        bad.append(f"{m}: {target}")
    assert bad == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_long_modules_say_why(name):
    path = MODULES[name][0]
    text = path.read_text()
    n = text.count("\n")
    if n <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert LONG_REASON in doc, (
        f"{path.relative_to(ROOT.parent)} has {n} lines (> {MAX_LINES}): split it, or "
        f"say at the top why it is one module ('{LONG_REASON} ...')."
    )
