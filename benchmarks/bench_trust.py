"""Trust on real smears: calibration, operating point and abstention.

Aria B-ALL fields (colour-normalised, border cut: ``benchmarks/data/aria.py``),
Benign against B-ALL, the default pipeline. Nested cross-validation: in
each outer fold the inner out-of-fold probabilities of the training fold
(:func:`sklearn.model_selection.cross_val_predict`) fit the calibrators
(sigmoid, isotonic, temperature, through
``CalibratedClassifierCV(FrozenEstimator(...))``), the threshold reaching
the target sensitivity and the confidence band deciding 90 % of the cases;
all are applied to the outer test fold's probabilities. No number is
chosen on a test fold.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ._common import list_table
from .data import aria, bccd

NEEDS = ("aria", "bccd")
METHODS = ("uncalibrated", "sigmoid", "isotonic", "temperature")
MIN_SENSITIVITY, COVERAGE = 0.98, 0.9
QUICK = {"per_class": 8, "folds": 2, "epochs": 1}
FULL = {"per_class": 80, "folds": 3, "epochs": None}


class _Probabilities(ClassifierMixin, BaseEstimator):
    """A "classifier" whose inputs are its own positive-class probabilities.

    Lets scikit-learn's calibrators run on out-of-fold probabilities through
    their public API (``CalibratedClassifierCV(FrozenEstimator(...))``).
    """

    def fit(self, X=None, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (np.asarray(X)[:, 0] >= 0.5).astype(int)


def _calibrators(p, y):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    maps = {"uncalibrated": lambda q: q}
    for method in METHODS[1:]:
        cal = CalibratedClassifierCV(FrozenEstimator(_Probabilities().fit()),
                                     method=method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # tiny quick folds
            cal.fit(p[:, None], y)
        maps[method] = lambda q, cal=cal: cal.predict_proba(q[:, None])[:, 1]
    return maps


def _threshold(p, y):
    """Threshold with the best specificity at sensitivity >= MIN_SENSITIVITY."""
    from sklearn.frozen import FrozenEstimator

    from skleuk.model_selection import tune_threshold

    tuned = tune_threshold(FrozenEstimator(_Probabilities().fit()),
                           min_sensitivity=MIN_SENSITIVITY, cv=2,
                           thresholds=np.unique(p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tuned.fit(p[:, None], y)
    return float(tuned.best_threshold_)


def run(data, *, quick=False, seed=0):
    """The nested protocol; returns the pooled figures and the arrays."""
    from sklearn.base import clone
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import cross_val_predict

    from skleuk import make_pipeline
    from skleuk.metrics import (
        accuracy_at_coverage,
        expected_calibration_error,
        sensitivity_score,
        specificity_score,
    )
    from skleuk.model_selection import make_stratified_cv

    size = QUICK if quick else FULL
    X, y4, groups = aria.load(data["aria"], size["per_class"], seed)
    X = aria.normalise(X, bccd.reference(data["bccd"]))
    y = (y4 != aria.BENIGN).astype(int)
    short = {} if size["epochs"] is None else {"cnn__epochs": size["epochs"]}
    pipe = make_pipeline(cnn__random_state=seed, **short)
    outer, g = make_stratified_cv(X, y, n_splits=size["folds"], groups=groups,
                                  random_state=seed)
    pooled = {m: np.zeros(len(y)) for m in METHODS}
    tuned, decided, per_fold = np.zeros(len(y), int), np.zeros(len(y), bool), []
    for tr, te in outer.split(X, y, g):
        inner, gi = make_stratified_cv(X[tr], y[tr], n_splits=size["folds"],
                                       groups=g[tr], random_state=seed)
        p_inner = cross_val_predict(clone(pipe), X[tr], y[tr], groups=gi, cv=inner,
                                    method="predict_proba")[:, 1]
        p_test = clone(pipe).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
        maps = _calibrators(p_inner, y[tr])
        for m in METHODS:
            pooled[m][te] = maps[m](p_test)
        threshold = _threshold(p_inner, y[tr])
        tuned[te] = p_test >= threshold
        q = maps["sigmoid"](p_inner)
        band = float(np.quantile(np.maximum(q, 1 - q), 1 - COVERAGE))
        q = pooled["sigmoid"][te]
        decided[te] = np.maximum(q, 1 - q) >= band
        per_fold.append({"n_test": len(te), "threshold": threshold, "band": band,
                         **{f"ece_{m}": expected_calibration_error(y[te], pooled[m][te])
                            for m in METHODS}})
        print(f"  outer fold {len(per_fold)}: ECE uncalibrated "
              f"{per_fold[-1]['ece_uncalibrated']:.3f}", flush=True)
    hit = (pooled["sigmoid"] >= 0.5) == y
    return {
        "data": {"n_fields": len(y), "n_benign": int((y == 0).sum()),
                 "n_malignant": int(y.sum()), "per_class": size["per_class"],
                 "folds": size["folds"], "epochs": size["epochs"]},
        "min_sensitivity": MIN_SENSITIVITY, "coverage": COVERAGE,
        "per_fold": per_fold,
        "pooled": {m: {"ece": expected_calibration_error(y, pooled[m]),
                       "ece_std": float(np.std([f[f"ece_{m}"] for f in per_fold])),
                       "brier": float(brier_score_loss(y, pooled[m])),
                       "accuracy_at_coverage": accuracy_at_coverage(y, pooled[m],
                                                                    COVERAGE)}
                   for m in METHODS},
        "roc_auc": float(roc_auc_score(y, pooled["uncalibrated"])),
        "accuracy": float(np.mean((pooled["uncalibrated"] >= 0.5) == y)),
        "tuned": {"sensitivity": float(sensitivity_score(y, tuned)),
                  "specificity": float(specificity_score(y, tuned))},
        "abstention": {"coverage": float(decided.mean()),
                       "accuracy_decided": float(hit[decided].mean()),
                       "accuracy_all": float(hit.mean())},
        "arrays": {"y": y.tolist(),
                   **{m: pooled[m].round(5).tolist() for m in METHODS}},
    }


def _figures(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay

    from skleuk.metrics import risk_coverage_curve

    y, arrays = np.asarray(results["arrays"]["y"]), results["arrays"]
    fig, ax = plt.subplots(figsize=(4.8, 4.2), layout="constrained")
    for m in METHODS:
        CalibrationDisplay.from_predictions(
            y, np.asarray(arrays[m]), n_bins=10, ax=ax,
            name=f"{m} (ECE {results['pooled'][m]['ece']:.3f})")
    ax.set_title("Reliability, pooled out-of-fold")
    reliability = out / "trust_reliability.png"
    fig.savefig(reliability, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.8, 3.6), layout="constrained")
    for m in ("uncalibrated", "sigmoid"):
        cov, risk, _ = risk_coverage_curve(y, np.asarray(arrays[m]))
        ax.step(cov, 1 - risk, where="post", label=m)
    ax.axvline(results["coverage"], color="grey", ls=":", lw=1)
    ax.set_xlabel("coverage (share of cases decided)")
    ax.set_ylabel("accuracy on the decided cases")
    ax.legend(loc="lower left")
    curve = out / "trust_risk_coverage.png"
    fig.savefig(curve, dpi=110)
    plt.close(fig)
    return [reliability, curve]


def render(results, out):
    """``trust.rst`` and its two figures."""
    d, p, t, a = (results[k] for k in ("data", "pooled", "tuned", "abstention"))
    lines = [
        f"{d['n_fields']} Aria B-ALL fields ({d['n_benign']} benign, "
        f"{d['n_malignant']} B-ALL; colour-normalised, border cut), "
        f"{d['folds']}-fold outer and inner cross-validation grouped by "
        f"near-duplicates, ``make_pipeline()`` (the default recipe"
        + (f", {d['epochs']} epochs" if d["epochs"] else "") + f"); "
        f"{results['wall_s'] / 60:.0f} min ({results['date']}).",
        "",
        list_table(["Probabilities", "ECE, pooled (± over folds)", "Brier",
                    f"Accuracy at coverage {results['coverage']:g}"],
                   [[m, f"{r['ece']:.3f} ± {r['ece_std']:.3f}", f"{r['brier']:.3f}",
                     f"{r['accuracy_at_coverage']:.3f}"] for m, r in p.items()],
                   title="Calibration of the out-of-fold probabilities"),
        f"Discrimination: ROC AUC {results['roc_auc']:.3f}, accuracy at 0.5 "
        f"{results['accuracy']:.3f}. Threshold tuned on the inner folds for "
        f"sensitivity >= {results['min_sensitivity']:g}: sensitivity "
        f"**{t['sensitivity']:.3f}**, specificity **{t['specificity']:.3f}**. "
        f"Abstention band chosen on the inner folds to decide "
        f"{results['coverage']:.0%}: realised coverage {a['coverage']:.3f}, "
        f"accuracy on the decided cases **{a['accuracy_decided']:.3f}** against "
        f"{a['accuracy_all']:.3f} on all.",
        "",
        ".. figure:: /_generated/trust_reliability.png",
        "   :alt: reliability diagram",
        "",
        "   Reliability of the pooled out-of-fold probabilities.",
        "",
        ".. figure:: /_generated/trust_risk_coverage.png",
        "   :alt: accuracy against coverage",
        "",
        "   Accuracy of the decided cases against the share decided (each point's "
        "band is chosen on the test predictions, so the curve is optimistic; the "
        "realised figures above are not).",
        "",
    ]
    rst = out / "trust.rst"
    rst.write_text("\n".join(lines))
    return [rst, *_figures(results, out)]
