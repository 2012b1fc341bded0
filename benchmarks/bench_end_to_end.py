"""End to end: the default 5-fold evaluation, per recipe or candidate.

For every candidate -- a recipe of :func:`skleuk.make_pipeline`
(``default``, ``paper``) or ``architecture@size`` (the default recipe with
that network and input size) -- :func:`skleuk.model_selection.evaluate`
runs stratified 5-fold cross-validation (seeded, the recipe's own epochs
unless ``epochs`` is given) on 260 synthetic ALL-IDB2-sized (257 px)
images; recorded are the wall time of the whole run and the accuracy (mean
and standard deviation over the folds). The target: the default recipe's
whole run in under 10 minutes on 2 cores. Which recipe is the default is
decided on real smears (``bench_accuracy.py``), not here: synthetic
accuracies only compare settings.

Each candidate's result is written to the results file as soon as it is
done, so a long run can be followed (and survives an interruption).
"""

from __future__ import annotations

import time

import numpy as np

from ._common import load_average, print_table

#: Candidates of the full run: the recipes.
CANDIDATES = ("default", "paper")


def parse_candidates(text):
    """``"default,light@96"`` -> ``["default", ("light", 96)]``."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if "@" in item:
            arch, _, size = item.partition("@")
            out.append((arch, int(size)))
        else:
            out.append(item)
    return out


def label(candidate):
    """The name of a candidate in tables."""
    if isinstance(candidate, str):
        return f"recipe={candidate}"
    return f"{candidate[0]}@{candidate[1]}"


def run_one(X, y, candidate, epochs=None, cv=5, random_state=0):
    """Cross-validate one candidate; return its row."""
    from skleuk import make_pipeline
    from skleuk.model_selection import evaluate

    params = {"cnn__random_state": random_state}
    if epochs is not None:
        params["cnn__epochs"] = epochs
    if isinstance(candidate, str):
        pipe = make_pipeline(recipe=candidate, **params)
    else:
        pipe = make_pipeline(image_size=candidate[1], architecture=candidate[0],
                             **params)
    p = pipe.get_params()
    load_start = load_average()
    start = time.perf_counter()
    report = evaluate(pipe, X, y, cv=cv, random_state=random_state)
    wall = time.perf_counter() - start
    s = report.summary()
    m = report.fold_metrics
    return {
        "label": label(candidate),
        "architecture": p["cnn__architecture"],
        "size": p["resize__size"],
        "epochs": p["cnn__epochs"],
        "batch_size": p["cnn__batch_size"],
        "folds": cv,
        "n_images": len(y),
        "wall_s": wall,
        "accuracy_mean": s["accuracy"]["mean"],
        "accuracy_std": s["accuracy"]["std"],
        "roc_auc_mean": s["roc_auc"]["mean"],
        "roc_auc_std": s["roc_auc"]["std"],
        "fold_accuracy": [float(v) for v in m["accuracy"]],
        "fit_time_mean_s": float(np.mean(m["fit_time"])),
        "predict_time_mean_s": float(np.mean(m["predict_time"])),
        "load_average_start": load_start,
        "load_average_end": load_average(),
    }


def run(X, y, candidates, epochs=None, cv=5, on_result=None):
    """Run every candidate; ``on_result(rows)`` after each one."""
    rows = []
    for candidate in candidates:
        row = run_one(X, y, candidate, epochs=epochs, cv=cv)
        rows.append(row)
        print(f"  {row['label']}: {row['wall_s'] / 60:.1f} min, accuracy "
              f"{row['accuracy_mean']:.3f} +/- {row['accuracy_std']:.3f}",
              flush=True)
        if on_result is not None:
            on_result(rows)
    return rows


def recommend(rows, budget_s=600.0, tie=0.005):
    """Whether the default recipe keeps the time budget.

    With a ``recipe=default`` row: that row and a sentence on the budget.
    Otherwise (older results of architecture@size candidates): the most
    accurate candidate within the budget, the fastest of those within
    ``tie`` of the best.

    Returns
    -------
    row : dict or None
        The default's (or chosen candidate's) row.
    text : str
        One sentence.
    """
    if not rows:
        return None, ""
    default = [r for r in rows if r.get("label") == "recipe=default"]
    if default:
        r = default[0]
        held = "within" if r["wall_s"] <= budget_s else "**over**"
        return r, (
            f"The default recipe's whole {r['folds']}-fold run took "
            f"{r['wall_s'] / 60:.1f} min, {held} the {budget_s / 60:.0f}-minute "
            "budget."
        )
    fast = [r for r in rows if r["wall_s"] <= budget_s]
    if not fast:
        best = min(rows, key=lambda r: r["wall_s"])
        return best, (
            f"No candidate finished within {budget_s / 60:.0f} minutes; the "
            f"fastest is {best['architecture']}@{best['size']} "
            f"({best['wall_s'] / 60:.1f} min)."
        )
    top = max(r["accuracy_mean"] for r in fast)
    best = min((r for r in fast if r["accuracy_mean"] >= top - tie),
               key=lambda r: r["wall_s"])
    return best, (
        f"**Recommended default: architecture=\"{best['architecture']}\", "
        f"image_size={best['size']}** -- the most accurate of the "
        f"{len(fast)} candidates that finish within {budget_s / 60:.0f} "
        f"minutes (accuracy {best['accuracy_mean']:.3f}, "
        f"{best['wall_s'] / 60:.1f} min; candidates within {tie} of the best "
        "accuracy count as equal and the fastest of them is chosen)."
    )


def print_results(rows):
    """Print the end-to-end table."""
    print_table(
        ["pipeline", "wall time (min)", "accuracy", "ROC AUC", "fit / fold (s)",
         "load at start"],
        [[r.get("label", f"{r['architecture']}@{r['size']}"),
          f"{r['wall_s'] / 60:.1f}",
          f"{r['accuracy_mean']:.3f} +/- {r['accuracy_std']:.3f}",
          f"{r['roc_auc_mean']:.3f} +/- {r['roc_auc_std']:.3f}",
          f"{r['fit_time_mean_s']:.0f}",
          f"{r['load_average_start'][0]:.1f}"] for r in rows],
        title=f"End to end: {rows[0]['folds']}-fold CV, "
        f"{rows[0]['n_images']} images of 257 px",
    )
