"""Loading joblib files without running code: a restricted unpickler.

A pickle is a small program: its ``GLOBAL`` opcodes name any importable
function or class and its ``REDUCE`` opcodes call them, so ``joblib.load``
of a hostile file runs whatever the file says (``os.system``...). Every
object a pickle builds goes through :meth:`pickle.Unpickler.find_class`,
so an unpickler that answers ``find_class`` from an allow-list runs no code
but the allow-listed types' own constructors (the approach of the Python
documentation's "Restricting Globals").

What is allowed (:func:`is_allowed`), without the caller's trust:

* a short list of builtin containers and NumPy's array, dtype, scalar,
  ufunc and random-state reconstructors;
* the classes of scikit-learn, skleuk and SciKeras: estimators (their
  ``__init__`` only stores parameters, their ``__setstate__`` only
  restores attributes) and the helpers fitted estimators hold (trees,
  kernels, losses, scorers, distance metrics), with Cython's
  reconstructors of them; the metric functions of :mod:`sklearn.metrics`
  and :mod:`skleuk.metrics` (a scorer refers to one);
* Keras networks only as saved by Keras itself: skleuk's
  ``KerasModelBytes`` and SciKeras's ``unpack_keras_*`` payloads, which
  Keras loads with ``safe_mode=True`` (no Python code, no lambdas).

Anything else -- another library's function, a class of your own module,
``os.system`` -- is refused before it is imported: a module outside
those packages is never imported, nor a ``__main__``, ``tests`` or
``conftest`` module inside them. Trusting a file (``trusted=True``) loads
it with :func:`joblib.load` as it is; trusting named types
(``trusted=["mymodule.MyTransformer"]``) adds them to the list.

The joblib container is read here too (not by ``joblib.load``): its
compressed stream is opened with joblib's own reader, and the arrays joblib
writes outside the pickle (``NumpyArrayWrapper``) are read as raw bytes;
arrays of Python objects are nested pickles and go through the same
allow-list.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np

__all__ = ["UntrustedTypeError", "is_allowed", "load_joblib", "untrusted_types"]


class UntrustedTypeError(pickle.UnpicklingError):
    """A pickle names a function or class that is not allowed.

    ``types`` lists the names found (``"module.name"``), ``path`` the file.
    """

    def __init__(self, types, path=None):
        self.types = list(types)
        self.path = path
        where = f"{path!r} " if path is not None else ""
        super().__init__(
            f"{where}holds {', '.join(self.types)}, which skleuk does not load "
            "without your trust (only scikit-learn, NumPy, Keras and skleuk "
            "types are loaded by default): loading it could run code"
        )


#: Exact ``module -> names`` loaded without trust.
_ALLOWED = {
    "builtins": {
        "bool", "bytearray", "bytes", "complex", "dict", "float", "frozenset",
        "int", "list", "object", "range", "set", "slice", "str", "tuple",
    },
    "collections": {"Counter", "OrderedDict", "defaultdict", "deque"},
    "copyreg": {"_reconstructor"},
    "_codecs": {"encode"},  # bytes in pickles of protocol 0-2
    "datetime": {"date", "datetime", "time", "timedelta", "timezone"},
    "numpy": {"dtype", "ndarray"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy.core.numeric": {"_frombuffer"},
    "numpy._core.numeric": {"_frombuffer"},
    "numpy.random._pickle": {
        "__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor",
    },
    "numpy.random._mt19937": {"MT19937"},
    "numpy.random._pcg64": {"PCG64", "PCG64DXSM"},
    "numpy.random._philox": {"Philox"},
    "numpy.random._sfc64": {"SFC64"},
    "numpy.random._generator": {"Generator"},
    "numpy.random.bit_generator": {"SeedSequence", "__pyx_unpickle_SeedSequence"},
    "numpy.random.mtrand": {"RandomState"},
    "joblib.numpy_pickle": {"NumpyArrayWrapper"},
    # Keras networks as Keras saves them, loaded with safe_mode=True.
    "skleuk.neural_network._persistence": {"KerasModelBytes"},
    "scikeras._saving_utils": {
        "unpack_keras_loss", "unpack_keras_metric", "unpack_keras_model",
        "unpack_keras_optimizer",
    },
}

#: Packages whose classes (estimators and the helpers they hold) load
#: without trust.
_CLASS_PACKAGES = ("sklearn", "skleuk", "scikeras")
#: Packages whose metric functions load without trust.
_METRIC_MODULES = ("sklearn.metrics", "skleuk.metrics")
#: Packages a module may be imported from to check one of its names.
_IMPORTABLE = ("numpy", "sklearn", "skleuk", "scikeras", "keras")
#: Module path parts never imported (import-time side effects, test code).
_NEVER_IMPORTED = ("tests", "conftest", "testing", "_testing", "_mocking",
                   "externals")


def _in_package(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


def _importable(module):
    """Whether ``module`` may be imported to check one of its names."""
    if not _in_package(module, _IMPORTABLE):
        return False
    parts = module.split(".")
    return not any(
        (p.startswith("__") and p.endswith("__")) or p in _NEVER_IMPORTED
        or not p.isidentifier()
        for p in parts
    )


def _resolve(module, name):
    __import__(module)
    return getattr(sys.modules[module], name)


def _keras_safe_types():
    keras = sys.modules.get("keras")
    if keras is None:
        return ()
    return tuple(
        t for t in (
            getattr(getattr(keras, "layers", None), "Layer", None),
            getattr(getattr(keras, "optimizers", None), "Optimizer", None),
            getattr(getattr(keras, "losses", None), "Loss", None),
            getattr(getattr(keras, "metrics", None), "Metric", None),
        ) if isinstance(t, type)
    )


def _allowed_by_kind(module, name):
    """The object ``module.name`` when its kind is allowed, else None."""
    if not _importable(module) or not name.isidentifier():
        return None
    try:
        obj = _resolve(module, name)
    except Exception:  # not importable or no such name: refused as unknown
        return None
    defined_in = getattr(obj, "__module__", None) or ""
    if not _importable(defined_in):
        return None
    if isinstance(obj, type):
        if _in_package(defined_in, _CLASS_PACKAGES):
            return obj  # estimators and the helpers they hold
        if issubclass(obj, (np.generic, np.dtype)) and _in_package(
                defined_in, ("numpy",)):
            return obj  # scalar types (np.float32) and dtype classes
        keras_types = _keras_safe_types()
        if keras_types and issubclass(obj, keras_types) and _in_package(
                defined_in, ("keras",)):
            return obj
        return None
    if isinstance(obj, np.ufunc):
        return obj  # np.log1p and the like: arithmetic only
    if type(obj).__name__ not in ("function", "builtin_function_or_method",
                                  "cython_function_or_method"):
        return None
    if _in_package(module, _METRIC_MODULES) and _in_package(
            defined_in, _METRIC_MODULES):
        return obj  # a metric function of a scorer
    if _in_package(module, ("sklearn",)) and (
            name == "newObj" or name.startswith("__pyx_unpickle_")):
        return obj  # Cython's reconstructors: instantiate an allowed class
    return None


def is_allowed(module, name):
    """Whether ``module.name`` loads without the user's trust.

    Parameters
    ----------
    module, name : str
        What a pickle's ``GLOBAL`` opcode names.

    Returns
    -------
    allowed : bool

    Examples
    --------
    >>> from skleuk.utils._safe_pickle import is_allowed
    >>> is_allowed("sklearn.linear_model._logistic", "LogisticRegression")
    True
    >>> is_allowed("posix", "system"), is_allowed("builtins", "eval")
    (False, False)
    """
    if name in _ALLOWED.get(module, ()):
        return True
    return _allowed_by_kind(module, name) is not None


class _Stub:
    """What an untrusted name becomes while collecting them all: accepts
    any arguments and state and does nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __call__(self, *args, **kwargs):
        return _Stub()

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


class _RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler with ``find_class`` from the allow-list and
    joblib's out-of-band arrays read as raw bytes.

    ``trusted``: extra ``"module.name"`` strings. ``collect``: a list; when
    given, refused names are appended to it and replaced by stubs instead
    of raising (to name them all at once).
    """

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, file, *, trusted=(), collect=None):
        super().__init__(file)
        self._file = file
        self._trusted = frozenset(trusted)
        self._collect = collect

    def find_class(self, module, name):
        if self.proto < 3:  # Python 2 names (copy_reg, __builtin__)
            import _compat_pickle

            module, name = _compat_pickle.NAME_MAPPING.get(
                (module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if f"{module}.{name}" in self._trusted:
            return super().find_class(module, name)
        if name in _ALLOWED.get(module, ()):
            return _resolve(module, name)
        obj = _allowed_by_kind(module, name)
        if obj is not None:
            return obj
        if self._collect is not None:
            self._collect.append(f"{module}.{name}")
            return _Stub
        raise UntrustedTypeError([f"{module}.{name}"])

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent references are not supported")

    def load_build(self):
        pickle._Unpickler.load_build(self)
        from joblib.numpy_pickle import NumpyArrayWrapper

        if isinstance(self.stack[-1], NumpyArrayWrapper):
            self.stack.append(self._read_array(self.stack.pop()))

    dispatch[pickle.BUILD[0]] = load_build

    def _read_array(self, wrapper):
        """The array a joblib ``NumpyArrayWrapper`` stands for, read from
        the stream (its bytes follow the wrapper)."""
        dtype, shape = getattr(wrapper, "dtype", None), getattr(wrapper, "shape", None)
        order = getattr(wrapper, "order", "C")
        if (
            not isinstance(dtype, np.dtype)
            or not isinstance(shape, tuple)
            or not all(isinstance(n, int) and n >= 0 for n in shape)
            or order not in ("C", "F")
            or getattr(wrapper, "subclass", np.ndarray) is not np.ndarray
        ):
            raise pickle.UnpicklingError("malformed joblib array record")
        if dtype.hasobject:  # a nested pickle, under the same allow-list
            inner = _RestrictedUnpickler(self._file, trusted=self._trusted,
                                         collect=self._collect)
            return inner.load()
        if getattr(wrapper, "numpy_array_alignment_bytes", None) is not None:
            padding = int.from_bytes(self._file.read(1), "little")
            self._file.read(padding)
        count = int(np.prod(shape, dtype=np.int64))
        size = count * dtype.itemsize
        data = bytearray()
        while len(data) < size:
            chunk = self._file.read(min(size - len(data), 1 << 26))
            if not chunk:
                raise pickle.UnpicklingError("truncated joblib array data")
            data += chunk
        array = np.frombuffer(data, dtype=dtype, count=count)
        array = (array.reshape(shape[::-1]).T if order == "F"
                 else array.reshape(shape))
        if dtype.byteorder not in ("=", "|") and dtype.byteorder != (
                "<" if sys.byteorder == "little" else ">"):
            array = array.byteswap().view(dtype.newbyteorder("="))
        return array


def _open_joblib(f, path):
    """The decompressed stream of a joblib file (joblib's own reader)."""
    try:
        from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

        return _validate_fileobject_and_memmap(f, path, None)
    except ImportError:  # joblib < 1.4
        from joblib.numpy_pickle_utils import _read_fileobject

        return _read_fileobject(f, path, None)


def _load(path, trusted, collect):
    with open(path, "rb") as f, _open_joblib(f, path) as opened:
        fobj = opened[0] if isinstance(opened, tuple) else opened
        if isinstance(fobj, str):
            raise pickle.UnpicklingError(
                "it is in the format of joblib < 0.10, which is not supported")
        return _RestrictedUnpickler(fobj, trusted=trusted, collect=collect).load()


def untrusted_types(path, *, trusted=()):
    """Every name in a joblib file that would be refused, without running any.

    Untrusted names are replaced by inert stubs so that the whole file can
    be read; the allowed types are built as they would be.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`joblib.dump`.
    trusted : iterable of str, default=()
        ``"module.name"`` strings allowed besides the built-in list.

    Returns
    -------
    names : list of str
        ``"module.name"`` of each refused function or class, in order of
        first appearance (empty when the file loads without trust).
    """
    found = []
    try:
        _load(path, frozenset(trusted), found)
    except Exception:  # best effort: what was found before the failure
        pass
    return list(dict.fromkeys(found))


def load_joblib(path, *, trusted=False):
    """:func:`joblib.load` of a file, without running code unless trusted.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`joblib.dump`.
    trusted : bool or iterable of str, default=False
        ``False``: load only allow-listed types (see the module docstring)
        and refuse the file otherwise. An iterable of ``"module.name"``
        strings: allow those too. ``True``: trust the file completely
        (:func:`joblib.load`; it may run any code).

    Returns
    -------
    obj : object
        What was saved.

    Raises
    ------
    UntrustedTypeError
        If the file names a function or class that is not allowed; its
        ``types`` lists every such name in the file.
    """
    import os

    path = os.fspath(path)
    if trusted is True:
        import joblib

        return joblib.load(path)
    if trusted is False or trusted is None:
        trusted = ()
    if isinstance(trusted, str):
        trusted = (trusted,)
    trusted = frozenset(trusted)
    try:
        return _load(path, trusted, None)
    except UntrustedTypeError:
        names = untrusted_types(path, trusted=trusted)
        raise UntrustedTypeError(names or ["(unknown)"], path) from None
