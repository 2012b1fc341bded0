"""Every public name has a complete numpydoc docstring whose examples run.

The names are those of every public module's ``__all__`` -- the same walk
that generates the API reference (``docs/sphinxext/skleuk_public_api.py``),
so a name that is public is both documented and checked here.

For each name:

* a docstring with a one-line summary;
* classes: a ``Parameters`` section (or, for a class without constructor
  arguments, ``Attributes``), naming exactly the constructor's arguments
  (exception classes only need the summary and examples);
* functions: a ``Parameters`` section naming exactly the signature's
  arguments (when it has any) and a ``Returns`` (or ``Yields``) section
  (unless the function never returns a value);
* an ``Examples`` section with doctest code, which is run.

Module-level data (e.g. ``IMAGE_EXTENSIONS``) cannot carry a docstring and
is documented with ``#:`` comments instead; it is skipped here.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import inspect
import sys
import textwrap
from pathlib import Path

import pytest

docscrape = pytest.importorskip("numpydoc.docscrape")

SPHINXEXT = Path(__file__).resolve().parents[1] / "docs" / "sphinxext"


def _load_api_walker():
    spec = importlib.util.spec_from_file_location(
        "skleuk_public_api", SPHINXEXT / "skleuk_public_api.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_walker = _load_api_walker()
# Not strict: a name or module that does not import must fail one test, not
# abort the collection of the whole suite.
IMPORT_ERRORS = []
API = _walker.public_api("skleuk", strict=False, on_error=IMPORT_ERRORS.append)
PUBLIC = [
    (f"{module}.{name}", kind)
    for module, _, entries in API
    for name, kind in entries
    if kind in ("class", "function")
]
PUBLIC_IDS = [name for name, _ in PUBLIC]


def _resolve(fullname):
    module, _, name = fullname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _documented_names(section):
    names = set()
    for param in section:
        for part in param.name.split(","):
            part = part.strip().lstrip("*")
            if part:
                names.add(part)
    return names


def _signature_names(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # builtins without a signature
        return None
    return {
        name
        for name, p in sig.parameters.items()
        if name not in ("self", "cls")
        and not (p.kind is p.VAR_POSITIONAL and name == "args")
    }


def _returns_a_value(func):
    """Whether ``func``'s own body has a ``return <value>`` (or ``yield``).

    Functions that only ever return None (checks that raise on failure)
    need no ``Returns`` section. When the source is unavailable, assume yes.
    """
    func = inspect.unwrap(func)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return True
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    (node,) = [n for n in tree.body if isinstance(n, functions)]
    stack = list(node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (*functions, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(n, ast.Yield | ast.YieldFrom):
            return True
        if isinstance(n, ast.Return) and n.value is not None and not (
            isinstance(n.value, ast.Constant) and n.value.value is None
        ):
            return True
        stack.extend(ast.iter_child_nodes(n))
    return False


def _doc(obj, kind):
    doc = inspect.getdoc(obj)
    if not doc:
        return None
    if kind == "class":
        return docscrape.ClassDoc(obj, config={"show_class_members": False})
    return docscrape.FunctionDoc(obj)


def _problems(obj, kind):
    doc = _doc(obj, kind)
    if doc is None:
        return ["no docstring"]
    problems = []
    if not "".join(doc["Summary"]).strip():
        problems.append("no one-line summary")
    documented = _documented_names(doc["Parameters"])
    expected = _signature_names(obj)
    if kind == "class" and issubclass(obj, BaseException):
        pass  # exceptions: summary and examples only
    elif kind == "class":
        if expected and not doc["Parameters"]:
            problems.append("no Parameters section")
        if not expected and not (doc["Parameters"] or doc["Attributes"]):
            problems.append("neither Parameters nor Attributes section")
    elif expected and not doc["Parameters"]:
        problems.append("no Parameters section")
    if expected is not None and doc["Parameters"]:
        missing = sorted(expected - documented)
        unknown = sorted(documented - expected)
        if missing:
            problems.append(f"parameters not documented: {missing}")
        if unknown:
            problems.append(f"documented parameters not in the signature: {unknown}")
    if (
        kind == "function"
        and not (doc["Returns"] or doc["Yields"])
        and _returns_a_value(obj)
    ):
        problems.append("no Returns section")
    examples = "\n".join(doc["Examples"])
    if ">>>" not in examples:
        problems.append("no Examples section with doctest code")
    return problems


def test_public_api_is_not_empty():
    modules = {module for module, _, _ in API}
    assert "skleuk" in modules
    assert len(PUBLIC) > 0


def test_every_public_module_and_name_imports():
    assert not IMPORT_ERRORS, "\n".join(IMPORT_ERRORS)


@pytest.mark.parametrize(("fullname", "kind"), PUBLIC, ids=PUBLIC_IDS)
def test_docstring_is_complete(fullname, kind):
    problems = _problems(_resolve(fullname), kind)
    assert not problems, f"{fullname}: " + "; ".join(problems)


@pytest.mark.parametrize(("fullname", "kind"), PUBLIC, ids=PUBLIC_IDS)
def test_docstring_examples_run(fullname, kind):
    obj = _resolve(fullname)
    module = sys.modules.get(getattr(obj, "__module__", ""), None)
    finder = doctest.DocTestFinder(recurse=False)
    tests = finder.find(obj, fullname, module=module, globs={})
    tests = [t for t in tests if t.examples]
    if not tests:
        pytest.skip(f"{fullname} has no doctest examples (see the test above)")
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report = []
    failed = sum(runner.run(test, out=report.append).failed for test in tests)
    if failed:
        pytest.fail(f"{fullname}: failing docstring examples\n" + "".join(report))


def _undocumented(a, b=1):
    return a + b


def _incomplete(a, b=1):
    """Add two numbers.

    Parameters
    ----------
    a : int
        First.
    c : int
        Not a parameter.
    """
    return a + b


def _complete(a):
    """Return ``a``.

    Parameters
    ----------
    a : int
        Anything.

    Returns
    -------
    int
        ``a``.

    Examples
    --------
    >>> _complete(1)
    1
    """
    return a


def _check_only(a):
    """Raise if ``a`` is negative.

    Parameters
    ----------
    a : int
        Anything.

    Examples
    --------
    >>> _check_only(1)
    """
    if a < 0:
        raise ValueError(a)


class _Estimator:
    """An estimator.

    Examples
    --------
    >>> _Estimator(alpha=1).alpha
    1
    """

    def __init__(self, alpha=1):
        self.alpha = alpha


def test_checker_flags_incomplete_docstrings():
    assert _problems(_undocumented, "function") == ["no docstring"]
    assert _problems(_incomplete, "function") == [
        "parameters not documented: ['b']",
        "documented parameters not in the signature: ['c']",
        "no Returns section",
        "no Examples section with doctest code",
    ]
    assert _problems(_complete, "function") == []
    assert _problems(_check_only, "function") == []
    assert _problems(_Estimator, "class") == ["no Parameters section"]


def test_paper_architecture_parameter_count_matches_the_paper():
    # The user guide's CNN table is generated from the code; check the code
    # against Algorithm 1 computed by hand: 3 x Conv2D(64, 6x6, valid),
    # 2 x MaxPool(2x2), Flatten, Dense(128), Dropout, BatchNorm, Dense(2).
    nn = pytest.importorskip("skleuk.neural_network")
    if not hasattr(nn, "build_lightweight_cnn"):
        pytest.skip("skleuk.neural_network.build_lightweight_cnn not available")
    for size in (32, 64, 128):
        side = size - 3 * 5  # three valid 6x6 convolutions
        side = side // 2 // 2  # two 2x2 poolings
        conv = (6 * 6 * 3 * 64 + 64) + 2 * (6 * 6 * 64 * 64 + 64)
        dense = side * side * 64 * 128 + 128
        batch_norm = 4 * 128
        out = 128 * 2 + 2
        expected = conv + dense + batch_norm + out
        model = nn.build_lightweight_cnn((size, size, 3), 2, architecture="paper")
        assert model.count_params() == expected, size
        macs = (
            (size - 5) ** 2 * 64 * 6 * 6 * 3
            + (size - 10) ** 2 * 64 * 6 * 6 * 64
            + (size - 15) ** 2 * 64 * 6 * 6 * 64
            + side * side * 64 * 128
            + 128 * 2
        )
        assert nn.count_flops(model) == 2 * macs, size
