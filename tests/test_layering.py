"""The package is layered: no module imports upward, and there are no cycles.

Every ``import`` and ``from ... import`` of every module of ``skleuk``
(function-level imports included; test modules excluded) is read with
:mod:`ast` -- nothing is imported -- and checked against the layers drawn in
``docs/development.rst``::

    cli
    model_selection, plotting, inspection, screening, ensemble
    skleuk (the package itself: make_pipeline), _pipeline
    neural_network
    datasets, preprocessing, feature_extraction, metrics
    utils, exceptions, base, _version, _config

A module may import from its own layer or any layer below. Within a layer,
subpackages may import each other in one direction only: the graph of
imports between subpackages has no cycle, and neither has the graph between
modules.

No private imports across units: a module imports another unit's public
names only -- never a ``_private`` module of it (``skleuk.datasets._base``)
nor a ``_private`` name (``from skleuk.preprocessing import _detect``). A
unit is a subpackage or a root module of ``skleuk``. The exceptions are the
shared bottom layer: ``skleuk.utils`` (its private modules are shared code,
e.g. ``utils/_image_io.py``) and the package's own bottom-layer modules
``skleuk._config`` and ``skleuk._version`` (as ``sklearn._config``); the
package ``skleuk`` itself may import its own root modules, whose public
names it re-exports. Everything else of ``skleuk._pipeline`` is reached
through ``skleuk`` (``skleuk.make_pipeline``, ``skleuk.DEFAULT_IMAGE_SIZE``
...). Shared code without a public name goes to ``skleuk.utils``.

Files are not limited in size: a module holds one job, whatever its length
(cohesion, not line count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "skleuk"

#: Layer of each top-level unit of the package (bottom = 0).
LAYERS = {
    "skleuk.utils": 0,
    "skleuk.exceptions": 0,
    "skleuk.base": 0,
    "skleuk._version": 0,
    "skleuk._config": 0,
    "skleuk.datasets": 1,
    "skleuk.preprocessing": 1,
    "skleuk.feature_extraction": 1,
    "skleuk.metrics": 1,
    "skleuk.neural_network": 2,
    "skleuk": 3,
    "skleuk._pipeline": 3,
    "skleuk.model_selection": 4,
    "skleuk.plotting": 4,
    "skleuk.inspection": 4,
    "skleuk.screening": 4,
    "skleuk.ensemble": 4,
    "skleuk.cli": 5,
    "skleuk.conftest": 5,
}

#: Known upward imports still to be removed, as ``(importer, imported)``
#: module pairs. Each entry needs a comment saying why it is still here.
#: Empty: keep it that way.
ALLOWED_UPWARD = frozenset()


def _module_name(path):
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _source_modules():
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR)
        if "tests" in rel.parts:
            continue
        modules[_module_name(path)] = path
    return modules


MODULES = _source_modules()


def _resolve(name):
    """The longest skleuk module that ``name`` is or lies in."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _package(module, path):
    """The package that relative imports in ``path`` start from."""
    return module if path.name == "__init__.py" else module.rsplit(".", 1)[0]


def _from_module(node, package):
    """The absolute module of ``from <module> import ...`` in ``package``."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module, path):
    """``{imported module: line}`` of every skleuk import in ``path``."""
    package = _package(module, path)
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_module(node, package)
            # ``from pkg import sub`` imports the submodule ``pkg.sub``.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for target in targets:
            if target == "skleuk" or target.startswith("skleuk."):
                target = _resolve(target)
                if target != module:
                    found.setdefault(target, node.lineno)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _unit(module):
    """The top-level unit (subpackage or root module) holding ``module``."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _layer(module):
    unit = _unit(module)
    if unit not in LAYERS:
        raise KeyError(unit)
    return LAYERS[unit]


def _find_cycle(graph):
    """Return one cycle of ``graph`` as a list of nodes, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack = []

    def visit(node):
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, BLACK) == GREY:
                return stack[stack.index(nxt) :] + [nxt]
            if colour.get(nxt) == WHITE:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_every_unit_has_a_layer():
    units = {_unit(module) for module in MODULES}
    missing = sorted(units - set(LAYERS))
    assert not missing, (
        f"{missing} have no layer: add them to LAYERS here and to the layer "
        "diagram in docs/development.rst"
    )


def test_no_upward_imports():
    upward = []
    for module, imports in GRAPH.items():
        for target, line in imports.items():
            if _layer(target) > _layer(module) and (
                (module, target) not in ALLOWED_UPWARD
            ):
                upward.append(
                    f"{MODULES[module].relative_to(PACKAGE_DIR.parent)}:{line} "
                    f"{module} (layer {_layer(module)}) imports {target} "
                    f"(layer {_layer(target)})"
                )
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_allow_list_is_not_stale():
    stale = [pair for pair in ALLOWED_UPWARD if pair[1] not in GRAPH.get(pair[0], {})]
    assert not stale, f"remove these from ALLOWED_UPWARD: {stale}"


def test_no_module_import_cycles():
    cycle = _find_cycle({m: set(imports) for m, imports in GRAPH.items()})
    assert cycle is None, "module import cycle: " + " -> ".join(cycle)


def test_no_subpackage_import_cycles():
    units = {}
    for module, imports in GRAPH.items():
        edges = units.setdefault(_unit(module), set())
        edges.update(_unit(t) for t in imports if _unit(t) != _unit(module))
    cycle = _find_cycle(units)
    assert cycle is None, "subpackage import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    "graph, has_cycle",
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"a2"}, "a2": set(), "b": {"a"}}, False),
    ],
)
def test_find_cycle(graph, has_cycle):
    assert (_find_cycle(graph) is not None) is has_cycle


def test_parser_sees_relative_and_lazy_imports():
    # The checks above are only as good as the import parser: it must see
    # relative imports, submodules imported with ``from . import x`` and
    # imports inside functions.
    report = "skleuk.model_selection._report"
    imports = _imports(report, MODULES[report])
    assert "skleuk.plotting" in imports  # ``from .. import plotting``, in a function
    imports = _imports("skleuk.datasets", MODULES["skleuk.datasets"])
    assert "skleuk.datasets._folder" in imports
    assert "skleuk.utils._image_io" in imports


# ---------------------------------------------------------------------------
# No private imports across units
# ---------------------------------------------------------------------------
#: Units whose private modules and names every unit may import: the shared
#: bottom layer.
SHARED_PRIVATE = frozenset({"skleuk.utils", "skleuk._config", "skleuk._version"})

#: Known private imports across units still to be removed, as ``(importer,
#: imported)`` module pairs, each with why it is still here. A stale entry
#: fails.
ALLOWED_PRIVATE = {}


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def _private_imports(module, path):
    """``[(line, imported module, what)]``: private imports across units."""
    package = _package(module, path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        pairs = []
        if isinstance(node, ast.Import):
            pairs = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_module(node, package)
            pairs = [(base, alias.name) for alias in node.names]
        for base, name in pairs:
            if not (base == "skleuk" or base.startswith("skleuk.")):
                continue
            full = base if name is None else f"{base}.{name}"
            target = _resolve(full if full in MODULES else base)
            unit = _unit(target)
            if unit == _unit(module) or unit in SHARED_PRIVATE:
                continue
            if module == "skleuk" and "." not in unit[len("skleuk."):]:
                continue  # the package and its own root modules
            parts = full.split(".")[1:]
            if any(_is_private(p) for p in parts):
                found.append((node.lineno, target, full))
    return found


PRIVATE_IMPORTS = {
    module: found
    for module, path in MODULES.items()
    if (found := _private_imports(module, path))
}


def test_no_private_imports_across_units():
    bad = [
        f"{MODULES[module].relative_to(PACKAGE_DIR.parent)}:{line} imports {what}"
        for module, found in PRIVATE_IMPORTS.items()
        for line, target, what in found
        if (module, target) not in ALLOWED_PRIVATE
    ]
    assert not bad, (
        "private imports across subpackages (use a public name, or move the "
        "shared code to skleuk.utils):\n" + "\n".join(bad)
    )


def test_private_allow_list_is_not_stale():
    seen = {(m, t) for m, found in PRIVATE_IMPORTS.items() for _, t, _ in found}
    stale = [pair for pair in ALLOWED_PRIVATE if pair not in seen]
    assert not stale, f"remove these from ALLOWED_PRIVATE: {stale}"


def test_private_import_parser(tmp_path):
    # The check sees relative, absolute and function-level imports of
    # private modules and names, and lets the shared bottom layer through.
    path = tmp_path / "_fake.py"
    path.write_text(
        "from ..datasets._base import finish\n"
        "from ..utils._image_io import _walk_files\n"
        "from .. import _version, __version__\n"
        "from ._data import _roles\n"
        "def f():\n"
        "    from skleuk.preprocessing import _detection\n"
        "    from skleuk.metrics import class_roles\n",
        encoding="utf-8",
    )
    found = _private_imports("skleuk.cli._fake", path)
    assert [(line, what) for line, _, what in found] == [
        (1, "skleuk.datasets._base.finish"),
        (6, "skleuk.preprocessing._detection"),
    ]
