"""Trust on real smears: calibration, operating point and abstention (Aria B-ALL).

Data: the B-ALL smear fields of Aria et al. (``Benign/``, ``Early/``,
``Pre/``, ``Pro/``; the extra ``Normal/`` folder is not part of that data
set and is ignored), as a binary problem *benign (0) vs malignant (1)*,
malignant positive. Path from ``--data`` or ``$SKLEUK_ARIA_DATA``. A
stratified random subset of ``--n-images`` fields keeps the run short. The
images are never copied.

Protocol (every number is out-of-fold; no threshold, band or calibrator is
chosen on a test fold): outer stratified K-fold. In each outer fold,

1. the pipeline (:func:`skleuk.make_pipeline` defaults plus the command-line
   overrides; its ``color`` step, a :class:`~skleuk.preprocessing.ColorNormalizer`
   fitted on the training fold, controls the colour shortcut) is fitted on
   the training fold and predicts the test fold ("uncalibrated");
2. an inner stratified K-fold over the training fold gives out-of-fold
   probabilities of the training images -- exactly the data
   :class:`~sklearn.calibration.CalibratedClassifierCV` with
   ``ensemble=False`` and :class:`~sklearn.model_selection.TunedThresholdClassifierCV`
   use. On them are fitted: the sigmoid and isotonic calibrators
   (``CalibratedClassifierCV(FrozenEstimator(...))`` on the probabilities),
   a temperature (one scalar, Guo et al. 2017; scikit-learn 1.8+'s
   ``method="temperature"``),
   the decision threshold reaching ``--min-sensitivity`` (highest
   specificity among thresholds whose inner sensitivity reaches it:
   :func:`skleuk.metrics.constrained_specificity_score`) and the abstention
   confidence deciding ``--coverage`` of the inner cases;
3. all of these are applied to the test fold's probabilities.

Reported: ECE (10 equal-width bins) and Brier score per outer fold and
pooled, before and after each calibration; sensitivity and specificity at
the tuned threshold; the pooled risk-coverage curve, its accuracy at
``--coverage``, and the realised coverage and accuracy of the band chosen on
the training folds. Written: ``benchmarks/results/trust.json`` (``--quick``:
``results/quick/trust.json``), ``docs/_generated/trust.rst`` and two
figures next to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ._common import print_table

CLASSES = ("Benign", "Early", "Pre", "Pro")


def data_path(arg=None):
    """``--data``, else ``$SKLEUK_ARIA_DATA``."""
    path = arg or os.environ.get("SKLEUK_ARIA_DATA")
    if path is None:
        raise FileNotFoundError(
            "trust benchmark: no data; pass --data or set SKLEUK_ARIA_DATA to the "
            "folder holding Benign/ Early/ Pre/ Pro/."
        )
    return Path(path)


def load(path, n_images, random_state=0):
    """A stratified subset: ``(images uint8, y in {0 benign, 1 malignant}, counts)``."""
    from sklearn.model_selection import train_test_split

    from skleuk.datasets import load_image_folder, read_images

    meta = load_image_folder(path, classes=list(CLASSES), return_images=False)
    files, stage = np.asarray(meta.filenames), np.asarray(meta.target)
    if n_images and n_images < len(files):
        files, _, stage, _ = train_test_split(
            files, stage, train_size=n_images, stratify=stage,
            random_state=random_state,
        )
    X = read_images(list(files))
    if isinstance(X, list):
        raise ValueError(f"{path}: images of different sizes; expected 224x224.")
    y = (stage > 0).astype(int)
    counts = {CLASSES[k]: int(np.sum(stage == k)) for k in range(len(CLASSES))}
    return X, y, counts


class _Probabilities(ClassifierMixin, BaseEstimator):
    """Fitted classifier whose "images" are their own probabilities.

    Lets scikit-learn's calibrators run on out-of-fold probabilities
    through their public API (``CalibratedClassifierCV(FrozenEstimator(.))``).
    """

    def fit(self, X=None, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        return np.column_stack([1 - X[:, 0], X[:, 0]])

    def predict(self, X):
        return (np.asarray(X)[:, 0] >= 0.5).astype(int)


def _calibrators(p_inner, y_inner):
    """Fit sigmoid, isotonic and temperature maps on inner out-of-fold probs."""
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    maps = {"uncalibrated": lambda p: p}
    temperature = None
    for method in ("sigmoid", "isotonic", "temperature"):
        cal = CalibratedClassifierCV(
            FrozenEstimator(_Probabilities().fit()), method=method
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # tiny --quick folds
            cal.fit(p_inner[:, None], y_inner)
        maps[method] = lambda p, cal=cal: cal.predict_proba(p[:, None])[:, 1]
        if method == "temperature":
            calibrator = cal.calibrated_classifiers_[0].calibrators[0]
            temperature = 1.0 / float(getattr(calibrator, "beta_", np.nan))
    return maps, temperature


def _threshold(p_inner, y_inner, min_sensitivity):
    from skleuk.metrics import constrained_specificity_score

    best_t, best = 0.5, -np.inf
    for t in np.unique(np.r_[p_inner, 0.0]):
        s = constrained_specificity_score(
            y_inner, (p_inner >= t).astype(int), min_sensitivity=min_sensitivity
        )
        if s > best or (s == best and t > best_t):
            best_t, best = float(t), s
    return best_t


def _confidence_threshold(p_inner, coverage):
    conf = np.maximum(p_inner, 1 - p_inner)
    return float(np.quantile(conf, 1 - coverage))


def run(X, y, *, folds=3, inner_folds=3, min_sensitivity=0.98, coverage=0.9,
        overrides=None, random_state=0, log=print):
    """Run the protocol; return the results dict (with pooled arrays)."""
    from sklearn.base import clone
    from sklearn.metrics import brier_score_loss
    from sklearn.model_selection import StratifiedKFold

    from skleuk import make_pipeline
    from skleuk.metrics import (
        accuracy_at_coverage,
        expected_calibration_error,
        sensitivity_score,
        specificity_score,
    )

    overrides = dict(overrides or {})
    overrides.setdefault("cnn__random_state", random_state)
    pipe = make_pipeline(**overrides)
    outer = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    methods = ("uncalibrated", "sigmoid", "isotonic", "temperature")
    pooled = {m: np.zeros(len(y)) for m in methods}
    per_fold, pred_tuned = [], np.zeros(len(y), dtype=int)
    decided = np.zeros(len(y), dtype=bool)
    start = time.perf_counter()
    for k, (tr, te) in enumerate(outer.split(X, y)):
        p_inner = np.zeros(len(tr))
        inner = StratifiedKFold(inner_folds, shuffle=True, random_state=random_state)
        for itr, ite in inner.split(X[tr], y[tr]):
            est = clone(pipe).fit(X[tr][itr], y[tr][itr])
            p_inner[ite] = est.predict_proba(X[tr][ite])[:, 1]
            log(f"  outer fold {k + 1}: inner fit done "
                f"({time.perf_counter() - start:.0f} s)")
        est = clone(pipe).fit(X[tr], y[tr])
        p_test = est.predict_proba(X[te])[:, 1]
        maps, temperature = _calibrators(p_inner, y[tr])
        row = {"fold": k, "n_test": int(len(te)), "temperature": temperature}
        for m in methods:
            q = maps[m](p_test)
            pooled[m][te] = q
            row[f"ece_{m}"] = expected_calibration_error(y[te], q)
            row[f"brier_{m}"] = float(brier_score_loss(y[te], q))
        thr = _threshold(p_inner, y[tr], min_sensitivity)
        pred_tuned[te] = (p_test >= thr).astype(int)
        row["threshold"] = thr
        row["sensitivity_tuned"] = float(sensitivity_score(y[te], pred_tuned[te]))
        row["specificity_tuned"] = float(specificity_score(y[te], pred_tuned[te]))
        row["accuracy_0.5"] = float(np.mean((p_test >= 0.5) == y[te]))
        # abstention: band chosen on the (sigmoid-)calibrated inner probabilities
        q_inner = maps["sigmoid"](p_inner)
        c = _confidence_threshold(q_inner, coverage)
        q = pooled["sigmoid"][te]
        decided[te] = np.maximum(q, 1 - q) >= c
        row["confidence_threshold"] = c
        per_fold.append(row)
        log(f"  outer fold {k + 1}/{folds}: " + ", ".join(
            f"{key} {val:.3f}" for key, val in row.items()
            if key.startswith(("ece_", "sensitivity", "specificity"))))
    wall = time.perf_counter() - start

    out = {"per_fold": per_fold, "wall_s": wall, "n_images": int(len(y)),
           "n_malignant": int(y.sum()), "n_benign": int((1 - y).sum()),
           "folds": folds, "inner_folds": inner_folds,
           "min_sensitivity": min_sensitivity, "coverage": coverage,
           "pipeline": {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                        for k, v in pipe.get_params().items()
                        if k.startswith(("resize__size", "cnn__architecture",
                                         "cnn__epochs", "crop__crop_size",
                                         "color__method"))},
           "overrides": {k: str(v) for k, v in overrides.items()}}
    out["pooled"] = {}
    for m in methods:
        out["pooled"][m] = {
            "ece": expected_calibration_error(y, pooled[m]),
            "brier": float(brier_score_loss(y, pooled[m])),
            "ece_mean": float(np.mean([r[f"ece_{m}"] for r in per_fold])),
            "ece_std": float(np.std([r[f"ece_{m}"] for r in per_fold])),
            "brier_mean": float(np.mean([r[f"brier_{m}"] for r in per_fold])),
            "brier_std": float(np.std([r[f"brier_{m}"] for r in per_fold])),
            "accuracy_at_coverage": accuracy_at_coverage(y, pooled[m], coverage),
        }
    out["tuned"] = {
        "sensitivity": float(sensitivity_score(y, pred_tuned)),
        "specificity": float(specificity_score(y, pred_tuned)),
        "sensitivity_per_fold": [r["sensitivity_tuned"] for r in per_fold],
        "specificity_per_fold": [r["specificity_tuned"] for r in per_fold],
    }
    q = pooled["sigmoid"]
    hit = (q >= 0.5) == y
    out["abstention"] = {
        "accuracy_all": float(hit.mean()),
        "realised_coverage": float(decided.mean()),
        "accuracy_decided": float(hit[decided].mean()) if decided.any() else None,
    }
    out["arrays"] = {"y": y, **{f"proba_{m}": pooled[m] for m in methods}}
    return out


def print_results(res):
    """Print the tables."""
    rows = []
    for m, r in res["pooled"].items():
        rows.append([m, f"{r['ece']:.3f}", f"{r['ece_mean']:.3f} ± {r['ece_std']:.3f}",
                     f"{r['brier']:.3f}", f"{r['accuracy_at_coverage']:.3f}"])
    print_table(["calibration", "ECE pooled", "ECE per fold", "Brier pooled",
                 f"acc@cov{res['coverage']:g}"], rows, title="Calibration")
    t = res["tuned"]
    print(f"Tuned threshold (target sensitivity {res['min_sensitivity']}): "
          f"sensitivity {t['sensitivity']:.3f}, specificity {t['specificity']:.3f}")
    a = res["abstention"]
    print(f"Abstention band from the training folds: coverage "
          f"{a['realised_coverage']:.3f}, accuracy on decided "
          f"{a['accuracy_decided']:.3f} (all: {a['accuracy_all']:.3f})")


def discrimination(res):
    """ROC AUC of the out-of-fold probabilities and the majority-class rate."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(res["arrays"]["y"])
    p = np.asarray(res["arrays"]["proba_uncalibrated"])
    return {"roc_auc": float(roc_auc_score(y, p)),
            "accuracy_uncalibrated": float(np.mean((p >= 0.5) == y)),
            "majority_rate": float(max(y.mean(), 1 - y.mean()))}


def _stem(res):
    tag = res.get("tag")
    return f"trust_{tag}" if tag else "trust"


def save_figures(res, out_dir):
    """Reliability diagram and risk-coverage curve; return the file paths."""
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay

    from skleuk.metrics import risk_coverage_curve

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    y = np.asarray(res["arrays"]["y"])
    fig, ax = plt.subplots(figsize=(4.8, 4.2), layout="constrained")
    for m in ("uncalibrated", "sigmoid", "isotonic", "temperature"):
        CalibrationDisplay.from_predictions(
            y, np.asarray(res["arrays"][f"proba_{m}"]), n_bins=10, ax=ax,
            name=f"{m} (ECE {res['pooled'][m]['ece']:.3f})")
    ax.set_title("Reliability, pooled out-of-fold")
    rel = out_dir / f"{_stem(res)}_reliability.png"
    fig.savefig(rel, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.8, 3.6), layout="constrained")
    for m in ("uncalibrated", "sigmoid"):
        cov, risk, _ = risk_coverage_curve(y, np.asarray(res["arrays"][f"proba_{m}"]))
        ax.step(cov, 1 - risk, where="post", label=m)
    ax.axvline(res["coverage"], color="grey", ls=":", lw=1)
    ax.set_xlabel("coverage (share of cases decided)")
    ax.set_ylabel("accuracy on the decided cases")
    ax.set_title("Accuracy-coverage, pooled out-of-fold")
    ax.legend(loc="lower left")
    rc = out_dir / f"{_stem(res)}_risk_coverage.png"
    fig.savefig(rc, dpi=110)
    plt.close(fig)
    return [rel, rc]


def fragment(res):
    """The docs fragment (reStructuredText)."""
    p = res["pooled"]
    call = ", ".join(f"{k}={v}" for k, v in res["overrides"].items())
    params = ", ".join(f"{k}={v}" for k, v in res["pipeline"].items())
    lines = [
        ".. Generated by benchmarks/bench_trust.py -- do not edit.",
        "",
        f"Configuration: {res['n_images']} Aria B-ALL fields (stratified random "
        f"subset: {res['n_benign']} benign, {res['n_malignant']} malignant), "
        f"{res['folds']}-fold outer and {res['inner_folds']}-fold inner "
        f"stratified cross-validation; pipeline ``make_pipeline({call})`` "
        f"({params}); "
        f"{res['wall_s'] / 60:.1f} min on {res.get('cores', '?')} shared CPU "
        f"cores ({res.get('date', '')}). Image level (one label per field).",
        "",
        ".. list-table:: Calibration of out-of-fold probabilities",
        "   :header-rows: 1",
        "",
        "   * - Probabilities",
        "     - ECE, pooled",
        "     - ECE, per fold",
        "     - Brier, pooled",
        "     - Brier, per fold",
        f"     - Accuracy at coverage {res['coverage']:g}",
    ]
    for m, r in p.items():
        lines += [
            f"   * - {m}",
            f"     - {r['ece']:.3f}",
            f"     - {r['ece_mean']:.3f} ± {r['ece_std']:.3f}",
            f"     - {r['brier']:.3f}",
            f"     - {r['brier_mean']:.3f} ± {r['brier_std']:.3f}",
            f"     - {r['accuracy_at_coverage']:.3f}",
        ]
    t, a = res["tuned"], res["abstention"]
    d = discrimination(res)
    lines += [
        "",
        f"Discrimination: out-of-fold ROC AUC {d['roc_auc']:.3f}; accuracy at "
        f"threshold 0.5 {d['accuracy_uncalibrated']:.3f} (sigmoid-calibrated: "
        f"{a['accuracy_all']:.3f}), against {d['majority_rate']:.3f} for always "
        "predicting the majority class.",
        "",
        f"Operating point (threshold chosen on inner out-of-fold probabilities for "
        f"sensitivity >= {res['min_sensitivity']:g}, nested): sensitivity "
        f"**{t['sensitivity']:.3f}** (per fold "
        f"{', '.join(f'{v:.3f}' for v in t['sensitivity_per_fold'])}), specificity "
        f"**{t['specificity']:.3f}** (per fold "
        f"{', '.join(f'{v:.3f}' for v in t['specificity_per_fold'])}).",
        "",
        f"Abstention (confidence band chosen on the training folds to decide "
        f"{res['coverage']:.0%} of their cases, sigmoid-calibrated): realised "
        f"coverage {a['realised_coverage']:.3f}, accuracy on the decided cases "
        f"**{a['accuracy_decided']:.3f}** against {a['accuracy_all']:.3f} on all.",
        "",
        f".. figure:: /_generated/{_stem(res)}_reliability.png",
        "   :alt: reliability diagram",
        "",
        "   Reliability diagram of the pooled out-of-fold probabilities.",
        "",
        f".. figure:: /_generated/{_stem(res)}_risk_coverage.png",
        "   :alt: accuracy against coverage",
        "",
        "   Accuracy of the decided cases against the share decided (pooled; "
        "the confidence threshold of each point is chosen on the test "
        "predictions, so the curve is optimistic; the realised figures above "
        "are not).",
        "",
    ]
    return "\n".join(lines)


def write_docs(res, out_dir):
    """Write ``trust.rst`` and its two figures into ``out_dir``; return paths."""
    out_dir = Path(out_dir)
    paths = save_figures(res, out_dir)
    rst = out_dir / f"{_stem(res)}.rst"
    rst.write_text(fragment(res))
    return [rst, *paths]
