"""The public API of skleuk, discovered from every public module's ``__all__``.

Pure Python (no Sphinx import): used by the documentation build
(``skleuk_docs.py``) and by ``tests/test_docs.py``, so the API reference and
the docstring test always cover the same names.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

#: Public modules that are documented elsewhere, not in the API reference.
EXCLUDED_MODULES = frozenset(
    {
        "skleuk.conftest",  # pytest configuration
        "skleuk.cli",  # documented as a command in user_guide/cli.rst
    }
)
#: ``__all__`` entries that are not API objects.
EXCLUDED_NAMES = frozenset({"__version__"})


# ---------------------------------------------------------------------------
# The public API, discovered from ``__all__``
# ---------------------------------------------------------------------------
def _is_public_module_name(name):
    parts = name.split(".")
    return not any(p.startswith("_") or p == "tests" for p in parts[1:])


def iter_public_modules(package="skleuk", on_error=None):
    """Yield public modules, parents before children, importing each.

    A module is public when no dotted component after the package name starts
    with an underscore and it is not a ``tests`` package. An import error is
    raised, or passed as a message to ``on_error`` (the build logs it as a
    warning, an error under ``-W``; the tests report it as a failure).
    """
    root = importlib.import_module(package)
    queue = [root]
    while queue:
        module = queue.pop(0)
        if module.__name__ in EXCLUDED_MODULES:
            continue
        yield module
        if not hasattr(module, "__path__"):
            continue
        children = sorted(
            info.name
            for info in pkgutil.iter_modules(module.__path__, module.__name__ + ".")
            if _is_public_module_name(info.name)
            and info.name not in EXCLUDED_MODULES
        )
        for name in children:
            try:
                queue.append(importlib.import_module(name))
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(f"[skleuk] cannot import public module {name}: {exc!r}")


def _kind(obj):
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    if isinstance(obj, types.ModuleType):
        return "module"
    return "data"


def public_api(package="skleuk", strict=True, on_error=None):
    """Return ``[(module_name, summary, [(name, kind), ...]), ...]``.

    Every entry of every public module's ``__all__`` appears exactly once,
    under the first (shortest) module that exports it. Modules without an
    ``__all__`` are skipped; modules whose ``__all__`` only repeats names
    already listed are kept (with an empty list) only when they are packages.
    A name that cannot be imported raises (``strict=True``) or is passed as a
    message to ``on_error`` and left out (``strict=False``; the build logs it
    as a Sphinx warning, which ``-W`` turns into an error).
    """
    seen = {}
    api = []
    for module in iter_public_modules(
        package, on_error=None if strict else on_error
    ):
        names = getattr(module, "__all__", None)
        if names is None:
            continue
        entries = []
        for name in names:
            if name in EXCLUDED_NAMES:
                continue
            try:
                obj = getattr(module, name)
            except (AttributeError, ImportError) as exc:
                if strict:
                    raise AttributeError(
                        f"{module.__name__}.__all__ lists {name!r}, which cannot "
                        f"be imported: {exc!r}"
                    ) from exc
                if on_error is not None:
                    on_error(
                        f"[skleuk] {module.__name__}.__all__ lists {name!r}, which "
                        f"cannot be imported ({exc!r}); left out of the API reference"
                    )
                continue
            kind = _kind(obj)
            if kind == "module":
                continue
            key = id(obj) if kind in ("class", "function") else (module, name)
            if key in seen:
                continue
            seen[key] = f"{module.__name__}.{name}"
            entries.append((name, kind))
        if entries or hasattr(module, "__path__"):
            api.append((module.__name__, _summary(module), entries))
    return api


def _summary(module):
    doc = inspect.getdoc(module) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")
