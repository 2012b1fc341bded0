"""The headline: accuracy on real smears (Aria et al.'s B-ALL fields).

Four models -- the default pipeline, the classical baseline, a colour-only
baseline and the paper's recipe -- on four tasks: white-cell windows and
whole fields, Benign against B-ALL and the four classes. Stratified 5-fold
cross-validation through :func:`skleuk.model_selection.evaluate`,
near-duplicate fields and the cells of one field kept in one fold; every
field first mapped onto an external colour reference (see
``benchmarks/data/aria.py``). The networks are run with several seeds
(same folds) on the main task; every run is listed with its size.
"""

from __future__ import annotations

import time

import numpy as np

from ._common import list_table
from .data import aria, bccd

NEEDS = ("aria", "bccd")
TASKS = ("cell-binary", "field-binary", "cell-4class", "field-4class")
#: (task, model, seed) in the order they run: a run cut short keeps the
#: most important rows.
PLAN = (
    [(t, m, 0) for t in TASKS for m in ("colour-only", "classical")]
    + [("cell-binary", "default", 0), ("field-binary", "default", 0),
       ("cell-binary", "paper", 0), ("cell-binary", "default", 1),
       ("field-binary", "paper", 0), ("field-binary", "default", 1),
       ("field-4class", "default", 0), ("cell-4class", "default", 0),
       ("cell-binary", "default", 2), ("field-4class", "paper", 0),
       ("cell-4class", "paper", 0)]
)
QUICK = {"per_class": 6, "max_cells": 1, "folds": 2, "epochs": 1}
#: 3 folds, not 5: on 2 shared cores a 5-fold default fit of the cells
#: takes over 20 minutes.
FULL = {"per_class": 80, "max_cells": 3, "folds": 3, "epochs": None}


def models(seed=0, epochs=None):
    """The compared models, unfitted: ``{name: estimator}``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as chain
    from sklearn.preprocessing import StandardScaler

    from skleuk import make_baseline_pipeline, make_pipeline
    from skleuk.feature_extraction import CellFeatureExtractor

    short = {} if epochs is None else {"cnn__epochs": epochs}
    return {
        "default": make_pipeline(cnn__random_state=seed, **short),
        "classical": make_baseline_pipeline(),
        "colour-only": chain(CellFeatureExtractor(hog_cells=0, shape_features=False),
                             StandardScaler(), LogisticRegression(max_iter=3000)),
        "paper": make_pipeline(recipe="paper", cnn__random_state=seed, **short),
    }


def _scores(report, source=None, y_field=None):
    """Mean and spread over the folds, and per field from its cells."""
    keys = ("accuracy", "sensitivity", "specificity", "f1", "roc_auc", "train_accuracy")
    s = report.summary()
    out = {k: s[k]["mean"] for k in keys if k in s}
    out.update({k + "_std": s[k]["std"] for k in keys if k in s})
    out["fit_time"] = float(np.nansum(report.fold_metrics["fit_time"]))
    if source is not None and report.is_binary:
        from sklearn.metrics import accuracy_score

        from skleuk.metrics import sensitivity_score, specificity_score

        test = np.concatenate([f["test_index"] for f in report.folds])
        proba = report.pooled_proba()[1]
        fields = np.unique(source[test])
        p = np.array([proba[source[test] == f].mean(axis=0) for f in fields])
        pred = report.classes[p.argmax(axis=1)]
        truth, pos = y_field[fields], report.pos_name
        out["field_accuracy"] = accuracy_score(truth, pred)
        out["field_sensitivity"] = sensitivity_score(truth, pred, pos_label=pos)
        out["field_specificity"] = specificity_score(truth, pred, pos_label=pos)
    return {k: float(v) for k, v in out.items()}


def run(data, *, quick=False, seed=0, save=None):
    """Every (task, model, seed) of :data:`PLAN`; ``save(partial)`` after each."""
    from skleuk.model_selection import evaluate

    size = QUICK if quick else FULL
    reference = bccd.reference(data["bccd"])
    d = aria.tasks(data["aria"], reference, size["per_class"], size["max_cells"],
                   random_state=seed)
    out = {"data": {**d.info, "folds": size["folds"], "epochs": size["epochs"]},
           "shortcut": {}, "rows": []}
    groups = d.tasks["field-4class"][2]
    # The colour shortcut: colour alone on the raw and on the normalised fields.
    for label, X in (("raw", d.raw), ("normalised", d.tasks["field-4class"][0])):
        r = evaluate(models()["colour-only"], X, d.y, cv=size["folds"], groups=groups,
                     random_state=seed)
        out["shortcut"][label] = _scores(r)
    for task, name, model_seed in PLAN:
        if quick and model_seed > 0:
            continue
        X, y, g = d.tasks[task]
        t0 = time.perf_counter()
        model = models(seed + model_seed, size["epochs"])[name]
        if task.startswith("field") and name != "colour-only":
            model.set_params(crop="passthrough")  # the whole field is the input
        report = evaluate(model, X, y, cv=size["folds"], groups=g, random_state=seed,
                          pos_label="Malignant" if task.endswith("binary") else None)
        extra = {}
        if task == "cell-binary":
            extra = {"source": d.source, "y_field": aria.binary(d.y)}
        row = {"task": task, "model": name, "seed": model_seed, "n": len(y),
               **_scores(report, **extra), "seconds": time.perf_counter() - t0}
        out["rows"].append(row)
        print(f"  {task:<13} {name:<12} seed {model_seed}: accuracy "
              f"{row['accuracy']:.3f}  AUC {row.get('roc_auc', float('nan')):.3f}  "
              f"({row['seconds']:.0f} s)", flush=True)
        if save is not None:
            save(out)
    return out


LABELS = {"default": "``make_pipeline()`` (default)",
          "classical": "``make_baseline_pipeline()`` (HOG, colour, nucleus; SVM)",
          "colour-only": "colour histograms + logistic regression",
          "paper": "``make_pipeline(recipe=\"paper\")``"}


def _cell(rows, key):
    """Mean and spread of one metric: over seeds if several, else over folds."""
    values = [r[key] for r in rows if key in r]
    if not values:
        return ""
    if len(values) > 1:
        return f"{np.mean(values):.3f} ± {np.std(values):.3f}"
    spread = rows[0].get(key + "_std")
    return f"{values[0]:.3f}" + ("" if spread is None else f" ± {spread:.3f}")


def _resumed(rows):
    """A sentence naming the rows run later, when a cut-short run was resumed."""
    later = [r for r in rows if "commit" in r]
    if not later:
        return ""
    names = ", ".join(f"{r['model']} on {r['task']}"
                      + (f" (seed {r['seed']})" if r["seed"] else "") for r in later)
    commits = sorted({r["commit"] for r in later})
    at = (f"commit {commits[0]}" if len(commits) == 1
          else "commits " + " and ".join(commits))
    return (f" Run later on the same fields and folds, at {at}, by "
            f"resuming the plan: {names}.")


def render(results, out):
    """``accuracy.rst``: the headline table."""
    d = results["data"]
    partial = results.get("partial", False)
    seconds = results.get("wall_s") or sum(r["seconds"] for r in results["rows"])
    lines = [
        f"{d['n_fields']} Aria B-ALL fields ({d['per_class']} per class, drawn "
        f"with seed {results['seed']}; {d['duplicates_grouped']} in near-duplicate "
        f"groups), each mapped onto the BCCD colours with its border cut; "
        f"{d['n_cells']} white-cell windows of 64 px (at most {d['max_cells']} per "
        f"field), each labelled with its field's class. Stratified "
        f"{d['folds']}-fold cross-validation with ``evaluate``, a field's cells "
        f"and near-duplicate fields in one fold; ± is the spread over the folds "
        f"of one run, or over the seeds (same folds) when a row has several. "
        f"{seconds / 60:.0f} min on 2 shared CPU cores ({results['date']})"
        + ("; the run was stopped before the end of its plan" if partial else "")
        + "." + _resumed(results["rows"]),
    ]
    rows, measured = [], results["rows"]
    for task in TASKS:
        binary = task.endswith("binary")
        for name in LABELS:
            runs = [r for r in measured if r["task"] == task and r["model"] == name]
            if runs:
                rows.append([task, LABELS[name], len(runs), _cell(runs, "accuracy"),
                             _cell(runs, "sensitivity") if binary else "",
                             _cell(runs, "specificity") if binary else "",
                             _cell(runs, "roc_auc"),
                             "" if binary else _cell(runs, "f1")])
    header = ["task", "model", "seeds", "accuracy", "sensitivity", "specificity",
              "ROC AUC", "macro-F1"]
    lines += ["", list_table(header, rows, empty="").rstrip("\n")]
    planned = {(t, m) for t, m, _ in PLAN}
    done = {(r["task"], r["model"]) for r in results["rows"]}
    if planned - done:
        lines += ["", "Not run (time): " + ", ".join(
            f"{m} on {t}" for t, m in sorted(planned - done)) + "."]
    fields = [r for r in results["rows"]
              if (r["task"], r["model"]) == ("cell-binary", "default")]
    s = results["shortcut"]
    lines += [
        "", f"*Fields from their cells* (the mean probability of a field's cells, "
        f"default pipeline, cell-binary): accuracy {_cell(fields, 'field_accuracy')}, "
        f"sensitivity {_cell(fields, 'field_sensitivity')}, specificity "
        f"{_cell(fields, 'field_specificity')}." if fields else "",
        "", f"*The colour shortcut*: colour histograms alone tell the four classes "
        f"apart with accuracy {s['raw']['accuracy']:.3f} on the raw fields and "
        f"{s['normalised']['accuracy']:.3f} on the normalised ones every model sees.",
        "",
    ]
    path = out / "accuracy.rst"
    path.write_text("\n".join(lines))
    return [path]
