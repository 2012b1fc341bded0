"""Reading and writing a :class:`CrossValidationReport`: JSON and report folders.

The report's numbers are in ``_report.py``, its renderings in
``_report_render.py``; this module turns a report into a JSON-compatible
dict and back, and writes the text, Markdown, HTML, JSON and figure files.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from ..utils.validation import is_path_sequence

_FORMAT_VERSION = 1

# Keys of one fold record, in the order written to JSON.
_FOLD_KEYS = (
    "repeat",
    "fold",
    "train_index",
    "test_index",
    "y_pred",
    "proba",
    "decision",
    "estimator_classes",
    "train_accuracy",
    "train_loss",
    "fit_time",
    "predict_time",
    "history",
)


def _nan_to_none(x):
    """Recursively turn NaN/inf floats into None (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_nan_to_none(v) for v in x]
    return x


def _to_builtin(x):
    """numpy scalars/arrays -> Python builtins, recursively."""
    if isinstance(x, np.ndarray):
        return _to_builtin(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return {str(k): _to_builtin(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_to_builtin(v) for v in x]
    return x


def _float_array(x):
    if x is None:
        return None
    return np.array(
        [[np.nan if v is None else v for v in row] for row in x]
        if len(x) and isinstance(x[0], list)
        else [np.nan if v is None else v for v in x],
        dtype=float,
    )


def _check_writable(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{os.fspath(path)!r} already exists; pass overwrite=True to "
            "replace it."
        )


def normalise_fold(f, y_dtype):
    """A fold record (from :func:`evaluate` or JSON) with its values typed.

    Indices as ``intp``, predictions as ``y_dtype``, probabilities and
    decision values as float arrays, numbers as floats (None -> NaN).
    """
    rec = {k: f.get(k) for k in _FOLD_KEYS}
    rec["train_index"] = np.asarray(rec["train_index"], dtype=np.intp)
    rec["test_index"] = np.asarray(rec["test_index"], dtype=np.intp)
    rec["y_pred"] = np.asarray(rec["y_pred"]).astype(y_dtype, copy=False)
    for key in ("proba", "decision"):
        if rec[key] is not None:
            rec[key] = np.asarray(rec[key], dtype=float)
    for key in ("train_accuracy", "train_loss", "fit_time", "predict_time"):
        rec[key] = float("nan") if rec[key] is None else float(rec[key])
    rec["repeat"] = int(rec["repeat"] or 0)
    rec["fold"] = int(rec["fold"] or 0)
    if rec["history"] is not None:
        rec["history"] = {
            str(k): [float("nan") if v is None else float(v) for v in vals]
            for k, vals in rec["history"].items()
        }
    return rec


def to_dict(report):
    """``CrossValidationReport.to_dict`` (documented there)."""
    folds = []
    for f in report.folds:
        folds.append({k: _to_builtin(f[k]) for k in _FOLD_KEYS})
    X_paths = None
    if report.X is not None and not isinstance(report.X, (str, os.PathLike)):
        if is_path_sequence(report.X):
            X_paths = [os.fspath(p) for p in report.X]
    d = {
        "format": "skleuk.CrossValidationReport",
        "format_version": _FORMAT_VERSION,
        "classes": _to_builtin(report.classes),
        "target_names": report.target_names,
        "pos_label": _to_builtin(report.pos_label),
        "info": _to_builtin(report.info),
        "y": _to_builtin(report.y),
        "groups": None if report.groups is None else _to_builtin(report.groups),
        "X_paths": X_paths,
        "summary": report.summary(),
        "fold_table": _to_builtin(report.fold_table()),
        "confusion_matrix": _to_builtin(report.confusion_matrix),
        "classification_report": report.classification_report(output_dict=True),
        "calibration": report.calibration(),
        "folds": folds,
    }
    return _nan_to_none(_to_builtin(d))


def to_json(report, path=None, *, indent=1, overwrite=False):
    """``CrossValidationReport.to_json`` (documented there)."""
    text = json.dumps(report.to_dict(), indent=indent, allow_nan=False)
    if path is None:
        return text
    _check_writable(path, overwrite)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return None


def from_dict(cls, d):
    """``CrossValidationReport.from_dict`` (documented there)."""
    if not isinstance(d, dict) or d.get("format") != "skleuk.CrossValidationReport":
        raise ValueError("Not a skleuk cross-validation report (wrong 'format').")
    if d.get("format_version", 0) > _FORMAT_VERSION:
        raise ValueError(
            f"Report format version {d['format_version']} is newer than this "
            f"skleuk understands ({_FORMAT_VERSION}); upgrade skleuk."
        )
    folds = []
    for f in d["folds"]:
        f = dict(f)
        for key in ("proba", "decision"):
            if f.get(key) is not None:
                f[key] = _float_array(f[key])
        folds.append(f)
    report = cls(
        d["y"],
        folds,
        d["classes"],
        target_names=d.get("target_names"),
        pos_label=d.get("pos_label"),
        groups=d.get("groups"),
        info=d.get("info"),
        X=d.get("X_paths"),
    )
    return report


def from_json(cls, source):
    """``CrossValidationReport.from_json`` (documented there)."""
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not source.lstrip().startswith("{")
    ):
        with open(source, encoding="utf-8") as fh:
            source = fh.read()
    return cls.from_dict(json.loads(source))


def save_figures(report, dirpath, *, X=None, overwrite=False, dpi=120):
    """``CrossValidationReport.save_figures`` (documented there)."""
    import matplotlib.pyplot as plt

    from .. import plotting

    os.makedirs(dirpath, exist_ok=True)
    makers = {
        "confusion_matrix": lambda: plotting.plot_confusion_matrix(report),
        "roc_curve": lambda: plotting.plot_roc_curve(report),
        "learning_curves": lambda: plotting.plot_learning_curves(report),
        "misclassified": lambda: plotting.plot_misclassified(report, X=X),
        "reliability_diagram": lambda: plotting.plot_reliability_diagram(report),
        "risk_coverage": lambda: plotting.plot_risk_coverage(report),
    }
    written = {}
    for name, make in makers.items():
        path = os.path.join(dirpath, f"{name}.png")
        _check_writable(path, overwrite)
        try:
            fig = make()
        except plotting.NothingToPlotError:
            continue
        fig = getattr(fig, "figure_", fig)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        written[name] = path
    return written


def save(report, dirpath, *, X=None, figures=True, overwrite=False):
    """``CrossValidationReport.save`` (documented there)."""
    os.makedirs(dirpath, exist_ok=True)
    names = {
        "text": "report.txt",
        "markdown": "report.md",
        "html": "report.html",
        "json": "report.json",
    }
    paths = {k: os.path.join(dirpath, v) for k, v in names.items()}
    if not overwrite:
        fig_names = ["confusion_matrix", "roc_curve", "learning_curves",
                     "misclassified", "reliability_diagram",
                     "risk_coverage"] if figures else []
        for p in [*paths.values(),
                  *(os.path.join(dirpath, f"{n}.png") for n in fig_names)]:
            _check_writable(p, overwrite)
    figs = (
        report.save_figures(dirpath, X=X, overwrite=overwrite) if figures else {}
    )
    rel_figs = {k: os.path.basename(v) for k, v in figs.items()}
    contents = {
        "text": report.to_text(),
        "markdown": report.to_markdown(rel_figs),
        "html": report.to_html(rel_figs),
        "json": report.to_json() + "\n",
    }
    for key, text in contents.items():
        with open(paths[key], "w", encoding="utf-8") as fh:
            fh.write(text)
    return {**paths, **figs}
