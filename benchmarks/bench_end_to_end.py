"""End to end: the default 5-fold, 30-epoch evaluation for candidate defaults.

For every candidate ``architecture@size``,
:func:`skleuk.model_selection.evaluate` runs stratified 5-fold
cross-validation of ``make_pipeline(image_size=size,
architecture=architecture)`` (seeded) on 260 synthetic ALL-IDB2-sized
(257 px) images; recorded are the wall time of the whole run and the
accuracy (mean and standard deviation over the folds) reached. The target
for the default: the whole run in under 10 minutes on 2 cores, with the best
accuracy.

Each candidate's result is written to the results file as soon as it is
done, so a long run can be followed (and survives an interruption).
"""

from __future__ import annotations

import time

import numpy as np

from ._common import load_average, print_table

#: Candidates of the full run (architecture, input size).
CANDIDATES = (
    ("paper", 32),
    ("paper", 48),
    ("light", 64),
    ("light", 96),
    ("light", 128),
)


def parse_candidates(text):
    """``"paper@32,light@64"`` -> ``[("paper", 32), ("light", 64)]``."""
    out = []
    for item in text.split(","):
        arch, _, size = item.strip().partition("@")
        out.append((arch, int(size)))
    return out


def run_one(X, y, architecture, size, epochs=30, cv=5, random_state=0):
    """Cross-validate one candidate; return its row."""
    from skleuk import make_pipeline
    from skleuk.model_selection import evaluate

    pipe = make_pipeline(image_size=size, architecture=architecture,
                         cnn__epochs=epochs, cnn__random_state=random_state)
    load_start = load_average()
    start = time.perf_counter()
    report = evaluate(pipe, X, y, cv=cv, random_state=random_state)
    wall = time.perf_counter() - start
    s = report.summary()
    m = report.fold_metrics
    return {
        "architecture": architecture,
        "size": size,
        "epochs": epochs,
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


def run(X, y, candidates, epochs=30, cv=5, on_result=None):
    """Run every candidate; ``on_result(rows)`` after each one."""
    rows = []
    for arch, size in candidates:
        row = run_one(X, y, arch, size, epochs=epochs, cv=cv)
        rows.append(row)
        print(f"  {arch}@{size}: {row['wall_s'] / 60:.1f} min, accuracy "
              f"{row['accuracy_mean']:.3f} +/- {row['accuracy_std']:.3f}",
              flush=True)
        if on_result is not None:
            on_result(rows)
    return rows


def recommend(rows, budget_s=600.0, tie=0.005):
    """Pick the default: the most accurate candidate within the time budget.

    Candidates whose whole run took at most ``budget_s`` seconds compete on
    mean accuracy; those within ``tie`` of the best count as equal and the
    fastest of them wins. Without any candidate in budget, the fastest one
    is named.

    Returns
    -------
    row : dict or None
        The chosen candidate's row.
    text : str
        One sentence saying which and why.
    """
    if not rows:
        return None, ""
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
        [[f"{r['architecture']}@{r['size']}", f"{r['wall_s'] / 60:.1f}",
          f"{r['accuracy_mean']:.3f} +/- {r['accuracy_std']:.3f}",
          f"{r['roc_auc_mean']:.3f} +/- {r['roc_auc_std']:.3f}",
          f"{r['fit_time_mean_s']:.0f}",
          f"{r['load_average_start'][0]:.1f}"] for r in rows],
        title=f"End to end: {rows[0]['folds']}-fold CV, {rows[0]['epochs']} "
        f"epochs, {rows[0]['n_images']} images of 257 px",
    )
