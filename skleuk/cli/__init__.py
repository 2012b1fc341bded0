"""The ``skleuk`` command: demo, evaluate, train, grid-search, predict, screen.

Run ``skleuk --help`` (or ``skleuk <command> --help``) for the options.
Every command exits with 0 on success, 1 when the data or a file is wrong
(missing path, unreadable image, not a skleuk model, output already
there) and 2 on a usage error, printing one line ``skleuk: error: ...``
to stderr; ``--debug`` shows the Python traceback instead.

The package: ``_parser.py`` builds the argument parser, one module per
command (``_demo.py``, ``_evaluate.py``, ``_train.py``, ``_grid_search.py``,
``_predict.py``, ``_screen.py``, ``_versions.py``) runs it, and the shared
parts live in ``_common.py`` (errors, argument types, output folders,
signals), ``_data.py`` (the data set behind ``--data``), ``_model.py`` (the
pipeline; model files are :func:`skleuk.save_model` and
:func:`skleuk.load_model`), ``_output.py`` (printed reports, prediction
tables) and ``_screen_out.py`` (the files ``screen`` writes).
Exit status 130 after Ctrl-C and 143 after ``SIGTERM``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

from ._common import (
    DEMO_DEFAULTS,
    PROG,
    CLIError,
    Terminated,
    _err,
    _one_line_warnings,
    _terminate_as_interrupt,
)
from ._model import MODEL_FORMAT, MODEL_FORMAT_VERSION, load_model, save_model
from ._parser import build_parser

__all__ = ["main"]

# Importable from skleuk.cli as before (tests, benchmarks, docs build).
_REEXPORTED = (
    CLIError,
    DEMO_DEFAULTS,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    PROG,
    build_parser,
    load_model,
    save_model,
)


_MEMORY_HINT = "use fewer or smaller images (--image-size)"
_MEMORY_HINTS = {
    "predict": "use a smaller --batch-size, or lower SKLEUK_MAX_IMAGE_PIXELS "
               "to refuse very large images",
    "screen": "use --no-overlays or a lower --dpi, or lower "
              "SKLEUK_MAX_IMAGE_PIXELS to refuse very large smears",
}


def main(argv=None):
    """Run the ``skleuk`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 1 for a data or file error, 2 for a usage error.

    Examples
    --------
    >>> from skleuk.cli import main
    >>> main(["version"])  # doctest: +ELLIPSIS
    skleuk ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    debug = getattr(args, "debug", False)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _one_line_warnings(), _terminate_as_interrupt():
            return int(args.func(args) or 0)
    except CLIError as exc:
        if debug:
            traceback.print_exc()
        _err(f"error: {exc}")
        return exc.code
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated):
            _err("terminated")
            return 143
        _err("interrupted")
        return 130
    except BrokenPipeError:  # e.g. 'skleuk predict ... | head'
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return 1
    except MemoryError:
        if debug:
            traceback.print_exc()
        _err(f"error: out of memory; {_MEMORY_HINTS.get(args.command, _MEMORY_HINT)}")
        return 1
    except Exception as exc:  # one line for the user
        if debug:
            traceback.print_exc()
        known = isinstance(exc, (ValueError, OSError, TypeError))
        prefix = "" if known else f"{type(exc).__name__}: "
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else (
            type(exc).__name__)
        hint = "" if debug else " (run with --debug for details)"
        _err(f"error: {prefix}{message}{hint}")
        return 1
