"""Accuracy on real blood smears: the B-ALL fields of Aria et al.

Usage::

    python -m benchmarks.bench_accuracy --data /path/to/images       # full
    python -m benchmarks.bench_accuracy --data /path/to/images --quick
    SKLEUK_ARIA_DATA=/path/to/images python -m benchmarks.run --only accuracy

``--data`` is a folder with the class folders ``Benign``, ``Early``,
``Pre`` and ``Pro`` of 224x224 JPEG smear fields (3,256 images; Aria et
al., "Acute lymphoblastic leukemia (ALL) image dataset", Taleqani Hospital,
research licence: never commit it). Other folders (e.g. ``Normal``) are
ignored.

What is measured, every task by stratified K-fold with near-duplicates
(:func:`skleuk.model_selection.find_duplicate_groups`) kept in one fold:

* **shortcut control** -- in this data set, colour alone nearly separates
  the classes (RGB histograms + logistic regression: macro-F1 about 0.97).
  Every image is therefore first mapped, on its own, onto the colour
  distribution of one fixed external reference (the BCCD sample beside the
  project, ``ColorNormalizer(method="histogram")``), and its border (scale
  bar, labels) is cut away; every model, baselines included, sees exactly
  that input. The colour-histogram baseline is reported on the raw and on
  the normalised input.
* **cell level** -- every white cell found by
  :func:`skleuk.preprocessing.find_white_cells` (up to ``--cells`` per
  field, largest first) is cut out in a square window around it, labelled
  with its field's class; folds are grouped by source field (and
  duplicates), and the field-level score aggregates its cells' mean
  probability.
* **whole field** -- the field itself (``crop="passthrough"`` for the
  pipelines).
* binary (Benign vs the three malignant classes) and 4-class.

Models: the colour-histogram baseline, :func:`skleuk.make_baseline_pipeline`
(HOG + colour + nucleus features + SVM), the paper's network as the seed
used it (paper@32, 30 epochs, batch 64, constant Adam) and the candidate
defaults given with ``--candidates`` (default: the current
:func:`skleuk.make_pipeline`).

Writes ``benchmarks/results/accuracy.json`` (``quick/`` with ``--quick``)
and, for full runs, the docs fragment ``docs/_generated/accuracy.rst``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import time

import numpy as np

from ._common import (
    ARIA_CLASSES,
    DOCS_GENERATED,
    REPO_ROOT,
    RESULTS_DIR,
    aria_files,
    load_average,
    machine,
)

BCCD_DIR = REPO_ROOT.parent / "shared" / "data" / "bccd" / "JPEGImages"
BORDER = 24  # pixels cut from each side of a 224x224 field (scale bar)
CELL_WINDOW = 64  # side of the window cut around each white cell
DEFAULT_MODELS = ("colour-histogram", "hog-svm", "paper-seed", "default")
#: Reference models, left out of --render-variants tables (they have their own).
BASELINES = ("colour-histogram", "hog-svm", "paper-seed")
TASKS = ("cell-binary", "cell-4class", "field-binary", "field-4class")


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def load_fields(folder, per_class=None, random_state=0):
    """Aria fields as uint8 ``(n, 224, 224, 3)``, labels and file names."""
    from skleuk.datasets import read_image

    files, labels = aria_files(folder, per_class, random_state)
    X = np.stack([read_image(f) for f in files])
    return X, np.array(labels), [str(f) for f in files]


def bccd_reference(size=(224, 168)):
    """The BCCD sample's images (the fixed colour reference)."""
    from PIL import Image

    files = sorted(BCCD_DIR.glob("*.jpg"))
    if not files:
        raise SystemExit(f"BCCD reference images not found in {BCCD_DIR}")
    return np.stack(
        [np.asarray(Image.open(f).convert("RGB").resize(size)) for f in files]
    )


def normalise(X, reference):
    """Map every field onto the reference's colours; cut the border."""
    from skleuk.preprocessing import ColorNormalizer

    norm = ColorNormalizer(method="histogram", reference=reference).fit(X[:1])
    out = np.empty_like(X)
    for i in range(0, len(X), 256):
        out[i : i + 256] = np.rint(norm.transform(X[i : i + 256]) * 255)
    return out[:, BORDER:-BORDER, BORDER:-BORDER]


def to_grey(X):
    """Grey-level copies of uint8 RGB images, the grey level in all 3 channels.

    The strongest control of the colour shortcut (the issue's *grey-level
    variant*): colour histograms keep only the brightness distribution, and
    every model sees morphology and brightness alone.
    """
    from skimage.color import rgb2gray

    out = np.empty_like(X)
    for i in range(0, len(X), 256):
        grey = np.rint(rgb2gray(X[i : i + 256]) * 255).astype(X.dtype)
        out[i : i + 256] = grey[..., None]
    return out


def cut_cells(X, y, groups, max_cells, windows="reflect"):
    """Windows around the white cells of each field (largest first).

    ``windows="reflect"`` (the default) centres every window on its cell and
    mirrors the field beyond its border, as
    :class:`~skleuk.screening.SmearScreener` cuts its windows: the cell is
    always in the middle, and about half the windows hold mirrored copies of
    border cells. ``"inside"`` shifts a window that would reach beyond the
    field back inside it: every pixel is real, and a cell near the border is
    off-centre (a robustness check, round 5).
    """
    from skleuk.preprocessing import find_white_cells

    if windows not in ("inside", "reflect"):
        raise ValueError(f"windows must be 'inside' or 'reflect', got {windows!r}")
    half = CELL_WINDOW // 2
    height, width = X.shape[1:3]
    if windows == "reflect":
        padded = np.pad(X, ((0, 0), (half, half), (half, half), (0, 0)), mode="reflect")
    cells, cy, cg, src = [], [], [], []
    for i, image in enumerate(X):
        centres, areas = find_white_cells(image)[:2]
        for k in np.argsort(areas)[::-1][:max_cells]:
            r, c = (np.asarray(centres[k]) + 0.5).astype(int)
            if windows == "reflect":
                cells.append(padded[i, r : r + CELL_WINDOW, c : c + CELL_WINDOW])
            else:
                r = min(max(r - half, 0), height - CELL_WINDOW)
                c = min(max(c - half, 0), width - CELL_WINDOW)
                cells.append(image[r : r + CELL_WINDOW, c : c + CELL_WINDOW])
            cy.append(y[i])
            cg.append(groups[i])
            src.append(i)
    return np.stack(cells), np.array(cy), np.array(cg), np.array(src)


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------
def colour_histograms(X, bins=16):
    from skleuk.feature_extraction._cell_features import _colour_histograms

    return np.concatenate(
        [_colour_histograms(X[i : i + 256] / 255.0, bins)
         for i in range(0, len(X), 256)]
    )


def make_model(name, level, random_state=0):
    """An unfitted estimator for a model name; ``level`` is cell or field."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as sk_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from skleuk import make_baseline_pipeline, make_pipeline

    crop = {} if level == "cell" else {"crop": "passthrough"}
    if name == "colour-histogram":
        return sk_pipeline(
            FunctionTransformer(colour_histograms),
            StandardScaler(),
            LogisticRegression(max_iter=3000),
        )
    if name == "hog-svm":
        return make_baseline_pipeline(**crop)
    if name == "paper-seed":
        return make_pipeline(recipe="paper", cnn__random_state=random_state, **crop)
    if name == "default":
        return make_pipeline(cnn__random_state=random_state, **crop)
    # "arch@size:key=value,key=value" -- a candidate: the default recipe
    # with that network, input size and parameters (``steps=[...]``: the
    # steps in that order, e.g. the paper's).
    spec, _, rest = name.partition(":")
    arch, _, size = spec.partition("@")
    params = {"cnn__random_state": random_state, **crop}
    steps = {"color", "sharpen", "average", "crop", "resize", "scale", "cnn"}
    from skleuk.neural_network._architectures import ARCHITECTURE_PARAMS

    order = None
    for item in _split_top_level(rest):
        key, _, value = item.partition("=")
        if key == "steps":  # the order of the steps, e.g. the paper's
            order = json.loads(value)
            continue
        if key in ARCHITECTURE_PARAMS:  # a field of the network
            key = f"cnn__model__{key}"
        elif "__" not in key and key not in steps:
            key = f"cnn__{key}"
        params[key] = json.loads(value)
    pipe = make_pipeline(image_size=int(size), architecture=arch, **params)
    if order is not None:
        named = dict(pipe.steps)
        if sorted(order) != sorted(named):
            raise ValueError(f"steps={order} must order the steps {sorted(named)}")
        pipe.steps = [(k, named[k]) for k in order]
    return pipe


def _split_top_level(text):
    """Split ``a=1,b={"x":1,"y":2}`` on the commas outside brackets."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "{[("
        depth -= ch in "}])"
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    return [item for item in items + [current] if item]


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------
def _scores(y, proba, classes, positive_negative=None):
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        log_loss,
        roc_auc_score,
    )

    pred = classes[np.argmax(proba, axis=1)]
    out = {
        "accuracy": accuracy_score(y, pred),
        "macro_f1": f1_score(y, pred, average="macro"),
        "log_loss": log_loss(y, np.clip(proba, 1e-7, 1), labels=classes),
    }
    if len(classes) == 2:
        neg = positive_negative
        pos = classes[classes != neg][0]
        p = proba[:, list(classes).index(pos)]
        yt = y == pos
        out["sensitivity"] = float(np.mean(pred[yt] == pos))
        out["specificity"] = float(np.mean(pred[~yt] == neg))
        out["auc"] = roc_auc_score(yt, p)
    else:
        out["auc"] = roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    return {k: float(v) for k, v in out.items()}


def cross_validate_model(name, X, y, groups, level, folds, random_state=0,
                         source=None, y_field=None, model_seed=0, save_proba=None):
    """Out-of-fold probabilities, train accuracy and time of one model.

    The folds depend on ``random_state`` only; ``model_seed`` shifts the
    models' own seeds (to measure seed variance and seed averaging on the
    same folds). ``save_proba`` is a path for the out-of-fold probabilities.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedGroupKFold

    classes = np.unique(y)
    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    proba = np.zeros((len(y), len(classes)))
    proba_other, tta = None, False
    train_acc = []
    t0 = time.perf_counter()
    for k, (train, test) in enumerate(cv.split(np.zeros(len(y)), y, groups)):
        model = clone(make_model(name, level, random_state + k + 1000 * model_seed))
        model.fit(X[train], y[train])
        proba[test] = model.predict_proba(X[test])
        cnn = getattr(model, "named_steps", {}).get("cnn")
        tta = cnn is not None and cnn.tta
        if cnn is not None:
            # The other test-time augmentation setting, on the same fitted
            # network: with it for a model without (``tta_*`` keys),
            # without it for a model with (``no_tta_*``).
            proba_other = proba.copy() if proba_other is None else proba_other
            cnn.set_params(tta=not tta)
            proba_other[test] = model.predict_proba(X[test])
        sub = train[:: max(1, len(train) // 500)]
        if tta:  # the network's own predictions on its training fold
            cnn.set_params(tta=False)
        train_acc.append(float(np.mean(model.predict(X[sub]) == y[sub])))
        if cnn is not None:
            cnn.set_params(tta=tta)
    seconds = time.perf_counter() - t0
    proba_tta = proba if tta else proba_other
    if save_proba is not None:
        extra = {} if proba_tta is None else {"proba_tta": proba_tta}
        if tta:
            extra["proba_no_tta"] = proba_other
        where = source if source is not None else np.arange(len(y))
        np.savez_compressed(save_proba, proba=proba, y=y, classes=classes,
                            source=where, **extra)
    neg = "Benign" if "Benign" in classes else None
    res = {
        "model": name,
        "n": int(len(y)),
        "seconds": seconds,
        "train_accuracy": float(np.mean(train_acc)),
        **_scores(y, proba, classes, neg),
    }
    if proba_other is not None:
        other = _scores(y, proba_other, classes, neg)
        prefix = "no_tta_" if tta else "tta_"
        res.update({prefix + k: v for k, v in other.items()})
        res["tta"] = tta
    if source is not None:
        # Field-level: mean of the cell probabilities of each field.
        fields = np.unique(source)
        fp = np.stack([proba[source == f].mean(axis=0) for f in fields])
        field_scores = _scores(y_field[fields], fp, classes, neg)
        res.update({f"field_{k}": v for k, v in field_scores.items()})
        res["n_fields"] = int(len(fields))
    print(f"    {name:<40} acc {res['accuracy']:.3f}  macro-F1 "
          f"{res['macro_f1']:.3f}  AUC {res['auc']:.3f}"
          + (f"  sens {res['sensitivity']:.3f} spec {res['specificity']:.3f}"
             if "sensitivity" in res else "")
          + (f"  | field acc {res['field_accuracy']:.3f}" if source is not None else "")
          + (f"  | TTA acc {res['tta_accuracy']:.3f}" if "tta_accuracy" in res else "")
          + (f"  | no-TTA acc {res['no_tta_accuracy']:.3f}"
             if "no_tta_accuracy" in res else "")
          + f"  train {res['train_accuracy']:.3f}  {seconds:.0f}s", flush=True)
    return res


def binary(y):
    return np.where(y == "Benign", "Benign", "Malignant")


def run(data, *, per_class, folds, max_cells, models, tasks, random_state=0,
        on_result=None, skip=(), model_seed=0, proba_dir=None, shortcut=True,
        reuse=None, cell_windows="reflect", grey=False):
    """Every model on every task; returns the results dict.

    ``reuse`` is ``(results, names)``: the rows of the models ``names`` are
    copied from an earlier results dict of the same data and folds (models
    whose code the change under test does not touch) instead of refitted.
    ``grey=True`` turns the colour-normalised fields and cell windows grey
    (:func:`to_grey`; the cells are found in colour first) before any model
    sees them.
    """
    from skleuk.model_selection import find_duplicate_groups

    t0 = time.perf_counter()
    X_raw, y4, files = load_fields(data, per_class, random_state)
    groups = find_duplicate_groups(X_raw)
    n_dup = int(len(groups) - len(np.unique(groups)))
    X = normalise(X_raw, bccd_reference())
    cells, cy4, cgroups, source = cut_cells(X, y4, groups, max_cells, cell_windows)
    if grey:
        X, cells = to_grey(X), to_grey(cells)
    prep = time.perf_counter() - t0
    print(f"  {len(X)} fields ({n_dup} in duplicate groups), {len(cells)} cells, "
          f"prepared in {prep:.0f}s", flush=True)
    out = {
        "data": {
            "n_fields": int(len(X)), "n_cells": int(len(cells)),
            "per_class": per_class, "folds": folds, "max_cells": max_cells,
            "duplicates_grouped": n_dup, "classes": list(ARIA_CLASSES),
            "border": BORDER, "cell_window": CELL_WINDOW,
            "cell_windows": cell_windows, "input": "grey" if grey else "colour",
        },
        "shortcut": {},
        "tasks": {},
    }
    reused = {}
    if reuse is not None:
        earlier, names = reuse
        # Results from before round 5 all reflected windows at the border;
        # those from before round 9 were all in colour.
        if {"cell_windows": "reflect", "input": "colour",
                **earlier["data"]} != out["data"]:
            raise SystemExit(
                f"--reuse: the earlier run's data {earlier['data']} differ from "
                f"this run's {out['data']}")
        for task, rows in earlier["tasks"].items():
            for r in rows:
                if r["model"] in names and r.get("model_seed", 0) == model_seed:
                    reused[task, r["model"]] = {
                        **r, "reused_from": r.get("reused_from", earlier["when"])}
    # The shortcut, on raw fields and on what the models see.
    for label, Z in (("raw", X_raw), ("grey" if grey else "normalised", X)) \
            if shortcut else ():
        r = cross_validate_model("colour-histogram", Z, y4, groups, "field", folds,
                                 random_state)
        out["shortcut"][label] = {"macro_f1": r["macro_f1"],
                                  "accuracy": r["accuracy"]}
    for task in tasks:
        level, _, kind = task.partition("-")
        print(f"  task {task}", flush=True)
        if level == "cell":
            Z, yy, gg = cells, cy4, cgroups
            extra = {"source": source,
                     "y_field": binary(y4) if kind == "binary" else y4}
        else:
            Z, yy, gg, extra = X, y4, groups, {}
        if kind == "binary":
            yy = binary(yy)
        rows = []
        for name in models:
            if (task, name) in skip:
                continue
            if (task, name) in reused:
                rows.append(reused[task, name])
                print(f"    {name:<40} reused from the run of "
                      f"{rows[-1]['reused_from']}", flush=True)
                out["tasks"][task] = rows
                continue
            save = None
            if proba_dir is not None:
                tag = re.sub(r"[^A-Za-z0-9@._=-]+", "_", name)[:80]
                save = os.path.join(proba_dir, f"{task}__{tag}__s{model_seed}.npz")
            rows.append(cross_validate_model(name, Z, yy, gg, level, folds,
                                             random_state, model_seed=model_seed,
                                             save_proba=save, **extra))
            rows[-1]["model_seed"] = model_seed
            out["tasks"][task] = rows
            if on_result is not None:  # nothing is lost if a later model fails
                on_result(out)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# ---------------------------------------------------------------------------
# docs
# ---------------------------------------------------------------------------
_WINDOWS = {
    "inside": " kept inside the field",
    "reflect": " centred, reflect-padded beyond the field's border",
}


def fragment(res):
    d = res["data"]
    lines = [
        ".. Generated by benchmarks/bench_accuracy.py -- do not edit.",
        "",
        f"Data: {d['n_fields']} Aria B-ALL fields ({d['per_class']} per class, "
        f"drawn with a fixed seed; fields merged into near-duplicate groups: "
        f"{d['duplicates_grouped']}), {d['n_cells']} white cells (at most "
        f"{d['max_cells']} per field, {d['cell_window']}x{d['cell_window']} "
        f"windows{_WINDOWS[d.get('cell_windows', 'reflect')]}); "
        f"{d['folds']}-fold stratified, grouped CV. Run "
        f"{res['when']} on {res['machine']['cpu'].get('model_name', '?')} "
        f"({res['machine']['cpu'].get('cores', '?')} cores, load average "
        f"{res['load_average']:.1f} at the start: timings are noisy), peak "
        f"RSS {res['peak_rss_mib']:.0f} MiB.",
        "",
        "Models: ``colour-histogram`` (RGB and saturation histograms + "
        "logistic regression), ``hog-svm`` (:func:`skleuk.make_baseline_pipeline`), "
        "``paper-seed`` (``make_pipeline(recipe=\"paper\")``), ``default`` "
        "(``make_pipeline()``); ``arch@size:...`` are variants of the default. "
        "Field-level columns of the cell tasks average the cells' probabilities "
        "per field; TTA and no-TTA: the same fitted networks with test-time "
        "augmentation switched on, or off (the default recipe uses it).",
        "",
    ]
    if res["shortcut"]:  # runs with --no-shortcut have none
        shortcut = res["shortcut"]
        input_ = "grey" if "grey" in shortcut else "normalised"
        name = {"grey": "colour-normalised grey-level",
                "normalised": "colour-normalised"}[input_]
        lines += [
            "Colour shortcut (colour-histogram + logistic regression, 4-class "
            f"macro-F1): raw fields {shortcut['raw']['macro_f1']:.3f}, {name} "
            f"fields {shortcut[input_]['macro_f1']:.3f}.",
            "",
        ]
    if d.get("input") == "grey":
        lines += ["Input: grey level -- every field and cell window, after the "
                  "colour normalisation, turned grey (``--input grey``), for "
                  "every model.", ""]
    reused = sorted({r["reused_from"] for rows in res["tasks"].values()
                     for r in rows if "reused_from" in r})
    if reused:
        lines += ["(*) Copied from the run of " + " and ".join(reused) + " (same "
                  "data, folds and seeds; the code of those models did not "
                  "change).", ""]

    for task, rows in res["tasks"].items():
        binary_task = task.endswith("binary")
        cell = task.startswith("cell")
        head = ["model", "accuracy", "macro-F1"]
        head += ["sensitivity", "specificity"] if binary_task else []
        head += ["AUC", "log loss", "train acc."]
        head += ["field acc.", "field macro-F1"] if cell else []
        head += ["field sens.", "field spec."] if cell and binary_task else []
        tta = any("tta_accuracy" in r for r in rows)
        no_tta = any("no_tta_accuracy" in r for r in rows)
        head += ["TTA acc.", "TTA AUC"] if tta else []
        head += ["no-TTA acc.", "no-TTA AUC"] if no_tta else []
        head += ["time (s)"]
        lines += [f".. list-table:: {task}", "   :header-rows: 1", ""]
        lines.append("   * - " + "\n     - ".join(head))
        for r in rows:
            mark = " (*)" if "reused_from" in r else ""
            vals = [f"``{r['model']}``{mark}", r["accuracy"], r["macro_f1"]]
            vals += [r["sensitivity"], r["specificity"]] if binary_task else []
            vals += [r["auc"], r["log_loss"], r["train_accuracy"]]
            vals += [r["field_accuracy"], r["field_macro_f1"]] if cell else []
            vals += ([r["field_sensitivity"], r["field_specificity"]]
                     if cell and binary_task else [])
            if tta:
                vals += [r.get("tta_accuracy", ""), r.get("tta_auc", "")]
            if no_tta:
                vals += [r.get("no_tta_accuracy", ""), r.get("no_tta_auc", "")]
            vals += [f"{r['seconds']:.0f}"]
            cells = [v if isinstance(v, str) else f"{v:.3f}" for v in vals]
            lines.append("   * - " + "\n     - ".join(cells))
        lines.append("")
    return "\n".join(lines) + "\n"


_LOG_ROW = re.compile(
    r"^ {4}(?P<model>\S+)\s+acc (?P<acc>[\d.]+)\s+macro-F1 (?P<f1>[\d.]+)\s+"
    r"AUC (?P<auc>[\d.]+)(?:\s+sens (?P<sens>[\d.]+) spec (?P<spec>[\d.]+))?"
    r"(?:\s+\| field acc (?P<field>[\d.]+))?(?:\s+\| TTA acc (?P<tta>[\d.]+))?"
    r"(?:\s+\| no-TTA acc (?P<notta>[\d.]+))?"
    r"\s+train (?P<train>[\d.]+)\s+(?P<sec>\d+)s$"
)


def log_fragment(text, note=""):
    """A docs table from the lines this script printed (one task)."""
    lines = [".. Generated by benchmarks/bench_accuracy.py --render-log -- do not "
             "edit.", "", note, "",
             ".. list-table::", "   :header-rows: 1", "",
             "   * - model\n     - accuracy\n     - macro-F1\n     - AUC\n"
             "     - sensitivity\n     - specificity\n     - field acc.\n"
             "     - train acc.\n     - time (s)"]
    task, shortcut = None, iter(("raw", "colour-normalised"))
    for line in text.splitlines():
        if line.startswith("  task "):
            task = line.split()[1]
            continue
        m = _LOG_ROW.match(line)
        if not m:
            continue
        name = f"``{m['model']}``"
        if task is None:  # the shortcut check printed before the tasks
            name += f" (shortcut check: 4-class, {next(shortcut, '?')} fields)"
        vals = [name] + [
            m[k] or "" for k in ("acc", "f1", "auc", "sens", "spec", "field", "train",
                                 "sec")]
        lines.append("   * - " + "\n     - ".join(vals))
    return "\n".join(lines) + "\n"


def _ensemble_rows(proba_dir):
    """Seed averages of the saved out-of-fold probabilities (same folds)."""
    import glob

    runs = {}
    for path in sorted(glob.glob(os.path.join(proba_dir, "*.npz"))):
        task, model, _ = os.path.basename(path)[:-4].split("__")
        runs.setdefault((task, model), []).append(np.load(path, allow_pickle=True))
    rows = []
    for (task, model), found in runs.items():
        if len(found) < 2:
            continue
        d = found[0]
        r = {"task": task, "model": f"{model} (mean of {len(found)} seeds)"}
        source = d["source"] if task.startswith("cell") else None
        for prefix, key in (("", "proba"), ("tta_", "proba_tta")):
            if key not in d:
                continue
            # Without TTA: "proba" of a network without it, "proba_no_tta" of
            # one with it (whose "proba" is its TTA probabilities).
            p = np.mean([f["proba_no_tta"] if not prefix and "proba_no_tta" in f
                         else f[key] for f in found], axis=0)
            r.update({prefix + k: v for k, v in
                      _scores(d["y"], p, d["classes"], "Benign").items()})
            # Field columns: from the TTA probabilities where they exist.
            if source is not None and prefix == ("tta_" if "proba_tta" in d else ""):
                fields = np.unique(source)
                fp = np.stack([p[source == f].mean(axis=0) for f in fields])
                fy = np.array([d["y"][source == f][0] for f in fields])
                r.update({f"field_{k}": v for k, v in
                          _scores(fy, fp, d["classes"], "Benign").items()})
        rows.append(r)
    return rows


def variants_fragment(results, proba_dir=None, note="", tasks=None):
    """One binary-task table from several result files (seeds, variants)."""
    rows = []
    for res in results:
        for task, found in res["tasks"].items():
            if not task.endswith("binary") or (tasks and task not in tasks):
                continue
            rows += [{"task": task, **r} for r in found if r["model"] not in BASELINES]
    if proba_dir:
        rows += [r for r in _ensemble_rows(proba_dir)
                 if not tasks or r["task"] in tasks]
    head = ["task", "model", "seed", "accuracy", "sensitivity", "specificity",
            "AUC", "TTA acc.", "TTA sens.", "TTA spec.", "TTA AUC", "field sens.",
            "field spec."]
    lines = [".. Generated by benchmarks/bench_accuracy.py --render-variants -- do "
             "not edit.", "", note, "", ".. list-table::", "   :header-rows: 1", "",
             "   * - " + "\n     - ".join(head)]

    def f(r, k):
        if r.get("tta"):  # a network with TTA: its own figures are the TTA ones
            k = k[4:] if k.startswith("tta_") else (
                k if k.startswith("field_") else "no_tta_" + k)
        return f"{r[k]:.3f}" if k in r else ""

    for r in rows:
        vals = [r["task"], f"``{r['model']}``", str(r.get("model_seed", "-"))]
        vals += [f(r, k) for k in ("accuracy", "sensitivity", "specificity", "auc",
                                   "tta_accuracy", "tta_sensitivity",
                                   "tta_specificity", "tta_auc",
                                   "field_sensitivity", "field_specificity")]
        lines.append("   * - " + "\n     - ".join(vals))
    return "\n".join(lines) + "\n"


def _with_and_without_tta(r):
    """``(without, with)`` score dicts of a row that measured both, or None."""
    keys = ("accuracy", "macro_f1", "auc", "specificity")
    if r.get("tta"):
        other = "no_tta_"
    elif "tta_accuracy" in r:
        other = "tta_"
    else:
        return None
    own = {k: r[k] for k in keys if k in r}
    alt = {k: r[other + k] for k in keys if other + k in r}
    return (alt, own) if r.get("tta") else (own, alt)


def tta_fragment(named_results, note=""):
    """Every network scored with and without test-time augmentation."""
    head = ["results", "task", "model", "seed", "accuracy", "macro-F1", "AUC",
            "specificity"]
    lines = [".. Generated by benchmarks/bench_accuracy.py --render-tta -- do not "
             "edit.", "", note, "", ".. list-table::", "   :header-rows: 1", "",
             "   * - " + "\n     - ".join(head)]
    gains, seen = [], set()
    for name, res in named_results:
        for task, rows in res["tasks"].items():
            for r in rows:
                pair = None if r["model"] in BASELINES else _with_and_without_tta(r)
                if pair is None or "reused_from" in r:
                    continue
                off, on = pair
                # The same fit in two files (a candidate that became the
                # default): same task, seed and figures. Counted once.
                key = (task, r.get("model_seed"), *(round(v, 9) for v in
                       (off["accuracy"], on["accuracy"], off["auc"], on["auc"])))
                if key in seen:
                    continue
                seen.add(key)
                gains.append(on["accuracy"] - off["accuracy"])
                vals = [f"``{name}``", task, f"``{r['model']}``",
                        str(r.get("model_seed", "-"))]
                vals += [f"{off[k]:.3f} -> {on[k]:.3f}" if k in off else ""
                         for k in ("accuracy", "macro_f1", "auc", "specificity")]
                lines.append("   * - " + "\n     - ".join(vals))
    if gains:
        g = np.array(gains)
        lines[3:3] = [
            f"Without -> with test-time augmentation, on the same fitted networks: "
            f"accuracy higher in {int(np.sum(g > 0))}, equal in "
            f"{int(np.sum(g == 0))} and lower in {int(np.sum(g < 0))} of "
            f"{len(g)} cross-validated runs (mean change {g.mean():+.3f}, "
            f"range {g.min():+.3f} to {g.max():+.3f}; the baselines and "
            f"``paper-seed``, which learns none of the tasks, left out; a fit "
            f"found in two files is listed once).", ""]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKLEUK_ARIA_DATA"),
                        help="folder with Benign/Early/Pre/Pro (or SKLEUK_ARIA_DATA)")
    parser.add_argument("--quick", action="store_true",
                        help="20 fields a class, 3 folds, 2 cells a field")
    parser.add_argument("--per-class", type=int, default=80)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cells", type=int, default=3)
    parser.add_argument(
        "--cell-windows", choices=("reflect", "inside"), default="reflect",
        help="windows of cells near the field border: centred and "
             "reflect-padded, as SmearScreener cuts them (default), or shifted "
             "inside the field (the cell off-centre)")
    parser.add_argument(
        "--input", choices=("colour", "grey"), default="colour",
        help="what every model sees: the colour-normalised fields (default) "
             "or grey-level copies of them (the cells are found in colour "
             "first): the strongest control of the colour shortcut")
    parser.add_argument(
        "--models", default=",".join(DEFAULT_MODELS),
        help="comma-separated (';' when a candidate has commas -- even a single "
             "one: end it with ';'); candidates as "
             "'arch@size:param=json,...' (cnn parameters, <step>__<param>, "
             "<step>=\"passthrough\", or steps=[...] for the order of the steps)")
    parser.add_argument(
        "--tasks", default=",".join(TASKS))
    parser.add_argument(
        "--skip", default="", metavar="TASK/MODEL,...",
        help="task/model pairs to leave out (e.g. cell-4class/paper-seed)")
    parser.add_argument("--model-seed", type=int, default=0,
                        help="shift the models' seeds (same folds): seed variance "
                        "and seed averaging")
    parser.add_argument("--save-proba", default=None, metavar="DIR",
                        help="save each model's out-of-fold probabilities in DIR")
    parser.add_argument("--no-shortcut", action="store_true",
                        help="leave out the colour-histogram shortcut check "
                        "(when only extra models or seeds are run)")
    parser.add_argument("--reuse", default=None, metavar="RESULTS:MODEL,...",
                        help="copy these models' rows from benchmarks/results/"
                        "RESULTS (same data and folds) instead of refitting "
                        "them; the docs table marks them")
    parser.add_argument("--out", default=None,
                        help="results file name in benchmarks/results/ (default "
                        "accuracy.json, which also rewrites "
                        "docs/_generated/accuracy.rst)")
    parser.add_argument("--render", nargs=2, metavar=("RESULTS", "FRAGMENT"),
                        help="only render benchmarks/results/RESULTS as "
                        "docs/_generated/FRAGMENT, then exit")
    parser.add_argument("--render-log", nargs=2, metavar=("LOG", "FRAGMENT"),
                        help="render the rows this script printed (saved in "
                        "benchmarks/results/LOG) as docs/_generated/FRAGMENT")
    parser.add_argument("--render-variants", nargs="+",
                        metavar=("FRAGMENT", "RESULTS"),
                        help="render the binary rows of several results files "
                        "(and, with --save-proba DIR, the seed averages of the "
                        "probabilities saved there) as docs/_generated/FRAGMENT")
    parser.add_argument("--render-compare", nargs="+",
                        metavar=("FRAGMENT", "RESULTS"),
                        help="render every network row of these results files "
                        "(every task; a candidate beside the default, seed by "
                        "seed, with each model's mean over its seeds) as "
                        "docs/_generated/FRAGMENT; RESULTS:MODEL;MODEL keeps "
                        "only those models of a file")
    parser.add_argument("--render-tta", nargs="+", metavar=("FRAGMENT", "RESULTS"),
                        help="render every network of these results files with "
                        "and without test-time augmentation as "
                        "docs/_generated/FRAGMENT")
    args = parser.parse_args(argv)
    if args.render_tta:
        frag, *names = args.render_tta
        named = [(n, json.loads((RESULTS_DIR / n).read_text())) for n in names]
        text = tta_fragment(named, "Rendered from " + ", ".join(
            f"``{n}``" for n in names) + ".")
        (DOCS_GENERATED / frag).write_text(text)
        print(text)
        return text
    if args.render_compare:
        from ._accuracy_compare import compare_fragment, parse_named

        frag, *items = args.render_compare
        named = [parse_named(item) for item in items]
        results = [json.loads((RESULTS_DIR / n).read_text()) for n, _ in named]
        text = compare_fragment(results, "Rendered from " + ", ".join(
            f"``{n}``" + (f" ({', '.join(sorted(keep))})" if keep else "")
            for n, keep in named) + ".", baselines=BASELINES,
            models=[keep for _, keep in named])
        (DOCS_GENERATED / frag).write_text(text)
        print(text)
        return text
    if args.render_variants:
        frag, *names = args.render_variants
        results = [json.loads((RESULTS_DIR / n).read_text()) for n in names]
        note = ("Rendered from " + ", ".join(f"``{n}``" for n in names)
                + (" and the saved out-of-fold probabilities" if args.save_proba
                   else "") + ".")
        text = variants_fragment(results, args.save_proba, note,
                                 tasks=set(args.tasks.split(",")))
        (DOCS_GENERATED / frag).write_text(text)
        print(text)
        return text
    if args.render_log:
        text = (RESULTS_DIR / args.render_log[0]).read_text()
        note = text.split("\n", 1)[0].lstrip("# ").strip()
        (DOCS_GENERATED / args.render_log[1]).write_text(log_fragment(text, note))
        print(f"wrote {DOCS_GENERATED / args.render_log[1]}")
        return text
    if args.render:
        res = json.loads((RESULTS_DIR / args.render[0]).read_text())
        (DOCS_GENERATED / args.render[1]).write_text(fragment(res))
        print(f"wrote {DOCS_GENERATED / args.render[1]}")
        return res
    if not args.data:
        raise SystemExit("--data (or SKLEUK_ARIA_DATA) is required: the Aria images")
    if args.quick:
        args.per_class, args.folds, args.cells = 20, 3, 2
    models = args.models.split(";") if ";" in args.models else args.models.split(",")
    models = [m for m in models if m.strip()]
    res = {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
           "load_average": (load_average() or [float("nan")])[0],
           "quick": args.quick}
    folder = RESULTS_DIR / "quick" if args.quick else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (args.out or "accuracy.json")

    def save(partial):
        res.update(partial)
        res["peak_rss_mib"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        path.write_text(json.dumps(res, indent=1))

    skip = {tuple(item.split("/", 1)) for item in args.skip.split(",") if item}
    reuse = None
    if args.reuse:
        name, _, which = args.reuse.partition(":")
        reuse = (json.loads((RESULTS_DIR / name).read_text()),
                 {m for m in which.split(",") if m})
    save(run(args.data, per_class=args.per_class, folds=args.folds,
             max_cells=args.cells, models=models, tasks=args.tasks.split(","),
             cell_windows=args.cell_windows, grey=args.input == "grey",
             on_result=save, skip=skip, model_seed=args.model_seed,
             proba_dir=args.save_proba, shortcut=not args.no_shortcut,
             reuse=reuse))
    print(f"wrote {path}")
    if not args.quick and not args.out:
        (DOCS_GENERATED / "accuracy.rst").write_text(fragment(res))
        print(f"wrote {DOCS_GENERATED / 'accuracy.rst'}")
    return res


if __name__ == "__main__":
    main()
