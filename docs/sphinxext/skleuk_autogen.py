"""Facts the user guide takes from the code at build time (never typed in).

``write_all(folder)`` writes reStructuredText fragments into ``folder``
(``docs/_autogen/``, git-ignored):

* ``cnn_layers_<arch>.rst`` -- layer table (type, output shape, parameters,
  FLOPs) of each :data:`skleuk.neural_network.ARCHITECTURES` preset, built
  with :func:`skleuk.neural_network.build_lightweight_cnn` at the pipeline's
  default image size;
* ``cnn_costs.rst`` -- parameters and FLOPs per preset and image size;
* ``cnn_substitutions.rst`` -- ``|paper_params|``-style substitutions used
  in the prose;
* ``cli_help.rst`` -- ``skleuk --help`` and every subcommand's help.

A fragment whose source is missing is replaced by a note and a Sphinx
warning (an error under ``-W``), so a release build can never ship without
the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import textwrap
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Image sizes (pixels, square) at which the costs table is computed, besides
#: the pipeline default (the ``resize`` step of ``skleuk.make_pipeline``):
#: 257 is the native ALL_IDB2 crop.
COST_SIZES = (32, 64, 128, 257)


def _write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _missing(path, what, exc):
    logger.warning(f"[skleuk] cannot generate {path.name} ({what}): {exc}")
    _write(
        path,
        f".. note::\n\n   Not generated in this build: {what} failed with "
        f"``{type(exc).__name__}``.\n",
    )


def _fmt_int(n):
    return f"{int(n):,}"


def _fmt_flops(n):
    n = float(n)
    for unit, scale in (("GFLOPs", 1e9), ("MFLOPs", 1e6), ("kFLOPs", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} FLOPs"


def _list_table(header, rows, widths=None, title=None, css="skleuk-numbers"):
    lines = [f".. list-table::{(' ' + title) if title else ''}", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {' '.join(str(w) for w in widths)}")
    lines.append(f"   :class: {css}")
    lines.append("")
    for row in [header, *rows]:
        first = True
        for cell in row:
            lines.append(f"   {'* -' if first else '  -'} {cell}")
            first = False
    return "\n".join(lines) + "\n"


def default_image_size():
    """Return the side length the default pipeline resizes images to."""
    from skleuk import make_pipeline

    pipe = make_pipeline()
    for _, step in pipe.steps:
        if type(step).__name__ == "Resizer":
            size = step.get_params()["size"]
            return int(size if isinstance(size, int) else size[0])
    raise LookupError("make_pipeline() has no Resizer step")


def _layer_rows(model, count_flops_fn):
    from skleuk.neural_network._architectures import _layer_flops

    rows = []
    for layer in model.layers[1:]:
        shape = tuple(layer.output.shape[1:])
        flops = _layer_flops(layer)
        config = layer.get_config()
        detail = ""
        kind = type(layer).__name__
        if kind == "Conv2D":
            detail = (
                f"{config['filters']} filters, {config['kernel_size'][0]}x"
                f"{config['kernel_size'][1]}, {config['padding']}, "
                f"{config['activation']}"
            )
        elif kind == "MaxPooling2D":
            detail = f"{config['pool_size'][0]}x{config['pool_size'][1]}"
        elif kind == "Dense":
            detail = f"{config['units']} units, {config['activation']}"
        elif kind == "Dropout":
            detail = f"rate {config['rate']}"
        rows.append(
            (
                f"``{kind}``",
                detail,
                " x ".join(str(d) for d in shape),
                _fmt_int(layer.count_params()),
                _fmt_flops(flops) if flops else "",
            )
        )
    total = (
        "**total**",
        "",
        "",
        f"**{_fmt_int(model.count_params())}**",
        f"**{_fmt_flops(count_flops_fn(model))}**",
    )
    rows.append(total)
    return rows


def write_cnn(folder):
    """Write the layer tables, the cost table and the substitutions."""
    folder = Path(folder)
    try:
        from skleuk.neural_network import (
            ARCHITECTURES,
            build_lightweight_cnn,
            count_flops,
        )

        size = default_image_size()
        subs = [f".. |default_image_size| replace:: {size}"]
        for arch in ARCHITECTURES:
            model = build_lightweight_cnn((size, size, 3), 2, architecture=arch)
            rows = _layer_rows(model, count_flops)
            _write(
                folder / f"cnn_layers_{arch}.rst",
                _list_table(
                    ("Layer", "Configuration", "Output shape", "Parameters", "FLOPs"),
                    rows,
                    widths=(18, 34, 16, 14, 18),
                    title=f'``architecture="{arch}"``, {size} x {size} x 3 input, '
                    "2 classes",
                ),
            )
            n_params = _fmt_int(model.count_params())
            subs.append(f".. |{arch}_params| replace:: {n_params}")
            subs.append(f".. |{arch}_flops| replace:: {_fmt_flops(count_flops(model))}")
        rows = []
        sizes = sorted(set(COST_SIZES) | {size})
        for s in sizes:
            row = [f"{s} x {s}"]
            for arch in ARCHITECTURES:
                try:
                    model = build_lightweight_cnn((s, s, 3), 2, architecture=arch)
                except ValueError:
                    row += ["too small", ""]
                    continue
                row += [_fmt_int(model.count_params()), _fmt_flops(count_flops(model))]
            rows.append(row)
        header = ["Input"]
        for arch in ARCHITECTURES:
            header += [f"``{arch}`` parameters", f"``{arch}`` FLOPs"]
        _write(folder / "cnn_costs.rst", _list_table(header, rows))
        _write(folder / "cnn_substitutions.rst", "\n".join(subs) + "\n")
    except Exception as exc:  # the code under documentation is incomplete
        for name in ("cnn_costs.rst", "cnn_layers_paper.rst", "cnn_layers_light.rst",
                     "cnn_layers_wide.rst"):
            _missing(folder / name, "building the CNN with skleuk.neural_network", exc)
        _write(
            folder / "cnn_substitutions.rst",
            "\n".join(
                f".. |{n}| replace:: (not generated)"
                for n in (
                    "default_image_size",
                    "paper_params",
                    "paper_flops",
                    "light_params",
                    "light_flops",
                    "wide_params",
                    "wide_flops",
                )
            )
            + "\n",
        )


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_text(parser):
    # argparse wraps to the terminal width: fix it for reproducible pages.
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            text = parser.format_help()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return text.rstrip()


def _find_parser():
    from skleuk import cli

    parser = cli.build_parser()
    if not isinstance(parser, argparse.ArgumentParser):
        raise TypeError("skleuk.cli.build_parser() did not return an ArgumentParser")
    return parser


def write_cli_help(folder):
    """Write ``cli_help.rst``: the ``--help`` of every subcommand."""
    path = Path(folder) / "cli_help.rst"
    try:
        parser = _find_parser()
        parser.prog = "skleuk"
        out = []
        blocks = [("skleuk", parser)] + [
            (f"skleuk {name}", sub) for name, sub in _subparsers(parser).items()
        ]
        for title, sub in blocks:
            sub.prog = title
            out.append(f".. _cli_{title.replace(' ', '_')}:\n")
            out.append(f"``{title}``\n{'~' * (len(title) + 4)}\n")
            out.append(".. code-block:: text\n")
            out.append(textwrap.indent(_help_text(sub), "   ") + "\n")
        _write(path, "\n".join(out))
    except Exception as exc:
        _missing(path, "reading the parser of skleuk.cli", exc)


def write_all(folder):
    write_cnn(folder)
    write_cli_help(folder)
