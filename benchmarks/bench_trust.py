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

Cell level (``python -m benchmarks.bench_trust --data DIR``; ``--quick``
for a smoke run): the cell task of ``benchmarks/bench_accuracy.py``, built
with its helpers -- fields mapped onto a fixed colour reference with their
border cut (the colour-shortcut control), windows around the white cells
labelled with their field's class, folds grouped by field and
near-duplicates -- binary, with the default pipeline. Outer grouped K-fold;
in each outer training fold ``CalibratedClassifierCV(pipe, method=...,
cv=<grouped inner split>)`` for sigmoid, isotonic and temperature scaling,
``ensemble=False`` and ``True``, with the pipeline fits shared between the
methods (:func:`calibrate_sharing_fits`). Reported: ECE, Brier score, log
loss and accuracy before and after, per fold and pooled. The results go
into ``benchmarks/results/trust.json`` under ``cells`` (written after
every outer fold) and into the same docs fragment; ``--render`` only
re-renders it.
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
        ".. rubric:: Image level",
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
    """Write ``trust.rst`` and its figures into ``out_dir``; return paths.

    With cell-level results (``res["cells"]``, from ``python -m
    benchmarks.bench_trust``) the fragment gains their section and figure.
    An image-level rerun (``python -m benchmarks.run --only trust``) has
    none: written to the docs, it takes over those of the results file it is
    about to replace (``res`` gains them, so they are saved again).
    """
    from ._common import DOCS_GENERATED, read_json

    out_dir = Path(out_dir)
    if ("cells" not in res and _stem(res) == "trust"
            and out_dir.resolve() == DOCS_GENERATED.resolve()):
        previous = read_json("trust") or {}
        if previous.get("cells"):
            res["cells"] = previous["cells"]
    paths = save_figures(res, out_dir)
    text = fragment(res)
    if res.get("cells") and res["cells"].get("per_fold"):
        paths.append(save_cell_figure(res["cells"], out_dir, _stem(res)))
        text += "\n" + cell_fragment(res["cells"], _stem(res))
    rst = out_dir / f"{_stem(res)}.rst"
    rst.write_text(text)
    return [rst, *paths]


_CELL_LABELS = {
    "uncalibrated": "uncalibrated",
    "sigmoid": "sigmoid",
    "isotonic": "isotonic",
    "temperature": "temperature",
    "sigmoid_ensemble": "sigmoid, ``ensemble=True``",
    "isotonic_ensemble": "isotonic, ``ensemble=True``",
    "temperature_ensemble": "temperature, ``ensemble=True``",
}


def ece_floor(p, n, n_draws=200, random_state=0):
    """Mean ECE of *perfectly calibrated* probabilities on ``n`` cases.

    ``n`` of the probabilities ``p`` are drawn (without replacement) and
    outcomes drawn from them, ``n_draws`` times: the ECE these get is
    sampling noise of the 10-bin estimate alone, the floor that a measured
    ECE on ``n`` cases cannot be expected to go below.
    """
    from skleuk.metrics import expected_calibration_error

    rng = np.random.default_rng(random_state)
    p = np.asarray(p, dtype=float)
    eces = []
    for _ in range(n_draws):
        q = rng.choice(p, size=min(n, len(p)), replace=False)
        eces.append(expected_calibration_error(rng.random(len(q)) < q, q))
    return float(np.mean(eces))


def save_cell_figure(cells, out_dir, stem="trust"):
    """Reliability diagram of the pooled cell-level probabilities."""
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay

    y = np.asarray(cells["arrays"]["y"])
    fig, ax = plt.subplots(figsize=(4.8, 4.2), layout="constrained")
    for m in ("uncalibrated", *CELL_METHODS):
        CalibrationDisplay.from_predictions(
            y, np.asarray(cells["arrays"][f"proba_{m}"]), n_bins=10, ax=ax,
            name=f"{m} (ECE {cells['pooled'][m]['ece']:.3f})")
    ax.set_title("Reliability, cells, pooled out-of-fold")
    ax.legend(loc="upper left", fontsize="small")
    path = Path(out_dir) / f"{stem}_cells_reliability.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cell_fragment(cells, stem="trust"):
    """The cell-level section of the docs fragment (reStructuredText)."""
    d = cells["data"]
    done = len(cells["per_fold"])
    partial = "" if cells.get("complete") else (
        f" **Partial run: {done} of {cells['folds']} outer folds finished; the "
        f"pooled figures cover the {cells['n_predicted']} cells of those folds.**")
    params = cells.get("params") or {}
    call = ", ".join(f"{k}={v}" for k, v in params.items())
    lines = [
        ".. rubric:: Cell level",
        "",
        f"Configuration: {d['n_fields']} Aria B-ALL fields ({d['per_class']} per "
        f"class, fixed seed), each mapped onto the BCCD colour reference and "
        f"its {d['border']}-pixel border cut (the shortcut control of "
        f"``benchmarks/bench_accuracy.py``); {d['n_cells']} white cells (at "
        f"most {d['max_cells']} per field, {d['cell_window']}x"
        f"{d['cell_window']} windows; {d['n_benign']} benign, "
        f"{d['n_malignant']} malignant), labelled with their field's class. "
        f"{cells['folds']}-fold outer and {cells['inner_folds']}-fold inner "
        "stratified cross-validation, both grouped by field and near-duplicate "
        f"group; model ``make_pipeline({call})``"
        f"{'' if call else ' (its defaults)'}, seeded per outer fold"
        f" as in ``bench_accuracy``. {cells['wall_s'] / 60:.0f} min on 2 "
        "shared CPU cores "
        f"({cells.get('date', '')}).{partial}",
        "",
        "In each outer training fold, ``CalibratedClassifierCV(pipe, method=..., "
        "cv=<the grouped inner split>)``: with ``ensemble=False`` the "
        "calibrator is fitted on the inner out-of-fold probabilities and maps "
        "the pipeline refitted on the whole training fold (whose own "
        "probabilities are the *uncalibrated* row); with ``ensemble=True`` "
        f"(scikit-learn's default) the {cells['inner_folds']} inner pipelines, "
        "each calibrated on its held-out part, are averaged. The fits are "
        "shared between the "
        "methods (``calibrate_sharing_fits``; identical to scikit-learn's "
        "result, which a test checks). Accuracy at threshold 0.5; "
        "field-level ECE: of each field's mean cell probability.",
        "",
        ".. list-table:: Calibration of out-of-fold cell probabilities",
        "   :header-rows: 1",
        "",
        "   * - Probabilities",
        "     - ECE, pooled",
        "     - ECE, per fold",
        "     - Brier, pooled",
        "     - log loss, pooled",
        "     - accuracy, pooled",
        "     - field ECE",
    ]
    for v, r in cells["pooled"].items():
        lines += [
            f"   * - {_CELL_LABELS.get(v, v)}",
            f"     - {r['ece']:.3f}",
            f"     - {r['ece_mean']:.3f} ± {r['ece_std']:.3f}",
            f"     - {r['brier']:.3f}",
            f"     - {r['log_loss']:.3f}",
            f"     - {r['accuracy']:.3f}",
            f"     - {r['field']['ece']:.3f}",
        ]
    u = cells["pooled"]["uncalibrated"]
    q = np.asarray(cells["arrays"]["proba_sigmoid"])
    n_fold = int(round(np.mean([r["n_test"] for r in cells["per_fold"]])))
    lines += [
        "",
        "Sampling floor of the ECE: probabilities that are calibrated by "
        "construction (the sigmoid-calibrated ones, with outcomes drawn from "
        f"them) show an ECE of {ece_floor(q, n_fold):.3f} on average on "
        f"{n_fold} cells (one test fold) and {ece_floor(q, len(q)):.3f} on "
        f"{len(q)} (pooled): a measured ECE near these is as good as this "
        "sample can show.",
        "",
        f"Discrimination: out-of-fold cell ROC AUC {u['roc_auc']:.3f}, field "
        f"(mean of cells) ROC AUC {u['field']['roc_auc']:.3f}; always "
        "predicting malignant is right for "
        f"{d['n_malignant'] / d['n_cells']:.3f} of the cells.",
        "",
        f".. figure:: /_generated/{stem}_cells_reliability.png",
        "   :alt: reliability diagram, cells",
        "",
        "   Reliability diagram of the pooled out-of-fold cell probabilities "
        "(``ensemble=False``).",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# cell level
# ---------------------------------------------------------------------------
CELL_METHODS = ("sigmoid", "isotonic", "temperature")


def _calibrator(p, y, method):
    """A calibration map fitted on probabilities ``p`` of the positive class.

    ``CalibratedClassifierCV(FrozenEstimator(.), method=method)`` on the
    probabilities themselves (:class:`_Probabilities`), i.e. exactly the map
    scikit-learn fits on a classifier's ``predict_proba(X)[:, 1]``.
    """
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    cal = CalibratedClassifierCV(FrozenEstimator(_Probabilities().fit()),
                                 method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tiny --quick folds
        cal.fit(np.asarray(p, dtype=float)[:, None], y)
    return lambda q: cal.predict_proba(np.asarray(q, dtype=float)[:, None])[:, 1]


def calibrate_sharing_fits(estimator, X_train, y_train, X_test, splits,
                           methods=CELL_METHODS, log=None):
    """Test-fold probabilities of ``CalibratedClassifierCV(estimator, cv=splits)``.

    For every ``method`` and both ``ensemble=False`` and ``ensemble=True``,
    plus the uncalibrated ``estimator`` refitted on all of ``X_train``, with
    one fit per inner split and one on the whole training set in all (the
    fits do not depend on the calibration method, so they are shared):

    * ``ensemble=False``: the calibrator is fitted on the inner out-of-fold
      probabilities and maps the probabilities of the estimator refitted on
      all training data -- the same estimator that gives "uncalibrated";
    * ``ensemble=True`` (scikit-learn's default): for each inner split the
      estimator fitted on its training part is calibrated on its test part;
      the calibrated probabilities of these estimators are averaged.

    The result equals scikit-learn's for any deterministic ``estimator``
    without a ``decision_function`` (such as the skleuk pipeline; a test
    checks it with a naive Bayes classifier). Returns a dict of
    probability vectors of the positive class: ``uncalibrated``, ``<method>``
    (``ensemble=False``) and ``<method>_ensemble``.
    """
    from sklearn.base import clone

    p_oof = np.zeros(len(y_train))
    per_split = []
    for i, (itr, ite) in enumerate(splits):
        est = clone(estimator).fit(X_train[itr], y_train[itr])
        p_oof[ite] = est.predict_proba(X_train[ite])[:, 1]
        per_split.append((ite, est.predict_proba(X_test)[:, 1]))
        if log is not None:
            log(f"    inner fit {i + 1}/{len(splits)} done")
    est = clone(estimator).fit(X_train, y_train)
    p_test = est.predict_proba(X_test)[:, 1]
    out = {"uncalibrated": p_test}
    for m in methods:
        out[m] = _calibrator(p_oof, y_train, m)(p_test)
        out[f"{m}_ensemble"] = np.mean(
            [_calibrator(p_oof[ite], y_train[ite], m)(q) for ite, q in per_split],
            axis=0)
    out["_inner_oof"] = p_oof
    return out


def _cell_scores(y, p):
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    from skleuk.metrics import expected_calibration_error

    p = np.asarray(p, dtype=float)
    return {
        "ece": float(expected_calibration_error(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "accuracy": float(np.mean((p >= 0.5) == y)),
        "roc_auc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None,
    }


def run_cells(data, *, per_class=80, folds=5, inner_folds=3, max_cells=3,
              params=None, random_state=0, on_result=None, log=print):
    """Cell-level calibration, nested; return the results dict.

    The cell task of ``benchmarks/bench_accuracy.py`` (its helpers, not a
    copy): ``per_class`` fields of each Aria class, every field mapped onto
    the BCCD colour reference and its border cut (the shortcut control),
    windows around up to ``max_cells`` white cells per field labelled with
    the field's class, benign (0) against malignant (1); outer
    :class:`~sklearn.model_selection.StratifiedGroupKFold` grouped by field
    and near-duplicates, the model ``make_model("default", "cell")``
    (:func:`skleuk.make_pipeline` defaults, seeded per fold as there). In
    each outer training fold the inner split is a grouped stratified
    ``inner_folds``-fold too: what ``CalibratedClassifierCV(pipe,
    method=..., cv=<that split list>)`` would use
    (:func:`calibrate_sharing_fits`). ``params`` are set on that pipeline
    (``--quick``: a small, short one).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    from skleuk.model_selection import find_duplicate_groups

    from .bench_accuracy import (
        BORDER,
        CELL_WINDOW,
        bccd_reference,
        cut_cells,
        load_fields,
        make_model,
        normalise,
    )

    t0 = time.perf_counter()
    X_raw, y4, _ = load_fields(data, per_class, random_state)
    groups = find_duplicate_groups(X_raw)
    X = normalise(X_raw, bccd_reference())
    del X_raw
    cells, cy4, cgroups, source = cut_cells(X, y4, groups, max_cells)
    y = (cy4 != "Benign").astype(int)
    y_field = (y4 != "Benign").astype(int)
    log(f"  {len(X)} fields, {len(cells)} cells ({int(y.sum())} malignant), "
        f"prepared in {time.perf_counter() - t0:.0f} s")
    variants = ["uncalibrated"] + [
        f"{m}{suffix}" for m in CELL_METHODS for suffix in ("", "_ensemble")]
    proba = {v: np.full(len(y), np.nan) for v in variants}
    out = {
        "level": "cell",
        "data": {"n_fields": int(len(X)), "n_cells": int(len(cells)),
                 "n_malignant": int(y.sum()), "n_benign": int((1 - y).sum()),
                 "per_class": per_class, "max_cells": max_cells,
                 "cell_window": CELL_WINDOW, "border": BORDER,
                 "duplicates_grouped": int(len(groups) - len(np.unique(groups)))},
        "folds": folds, "inner_folds": inner_folds, "model": "default",
        "params": {k: str(v) for k, v in (params or {}).items()},
        "per_fold": [], "complete": False,
    }
    outer = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    zeros = np.zeros(len(y))
    for k, (tr, te) in enumerate(outer.split(zeros, y, cgroups)):
        inner = StratifiedGroupKFold(inner_folds, shuffle=True,
                                     random_state=random_state)
        splits = list(inner.split(zeros[tr], y[tr], cgroups[tr]))
        model = make_model("default", "cell", random_state + k)
        model.set_params(**(params or {}))
        res = calibrate_sharing_fits(model, cells[tr], y[tr], cells[te], splits,
                                     log=log)
        row = {"fold": k, "n_test": int(len(te)),
               "inner_oof": _cell_scores(y[tr], res["_inner_oof"])}
        for v in variants:
            proba[v][te] = res[v]
            row[v] = _cell_scores(y[te], res[v])
        out["per_fold"].append(row)
        log(f"  outer fold {k + 1}/{folds} ({time.perf_counter() - t0:.0f} s): "
            + ", ".join(f"{v} ECE {row[v]['ece']:.3f}" for v in variants))
        _summarise_cells(out, y, proba, source, y_field, variants, done=te)
        out["wall_s"] = time.perf_counter() - t0
        if on_result is not None:
            on_result(out)
    out["complete"] = True
    return out


def _summarise_cells(out, y, proba, source, y_field, variants, done=None):
    """Pooled scores over the cells predicted so far (all once complete)."""
    mask = ~np.isnan(proba["uncalibrated"])
    out["n_predicted"] = int(mask.sum())
    out["pooled"] = {}
    for v in variants:
        s = _cell_scores(y[mask], proba[v][mask])
        per = [r[v] for r in out["per_fold"]]
        for key in ("ece", "brier", "log_loss", "accuracy"):
            s[f"{key}_mean"] = float(np.mean([r[key] for r in per]))
            s[f"{key}_std"] = float(np.std([r[key] for r in per]))
        # Field level: the mean of its cells' (calibrated) probabilities.
        fields = np.unique(source[mask])
        pf = np.array([proba[v][mask & (source == f)].mean() for f in fields])
        s["field"] = _cell_scores(y_field[fields], pf)
        out["pooled"][v] = s
    out["arrays"] = {"y": y[mask], "source": source[mask],
                     **{f"proba_{v}": proba[v][mask] for v in variants}}


def print_cells(res):
    """Print the cell-level table."""
    rows = []
    for v, s in res["pooled"].items():
        rows.append([v, f"{s['ece']:.3f}", f"{s['ece_mean']:.3f} ± {s['ece_std']:.3f}",
                     f"{s['brier']:.3f}", f"{s['log_loss']:.3f}",
                     f"{s['accuracy']:.3f}", f"{s['field']['ece']:.3f}"])
    print_table(["probabilities", "ECE pooled", "ECE per fold", "Brier", "log loss",
                 "accuracy", "field ECE"], rows,
                title=f"Cell level ({res['n_predicted']} cells)")


def main(argv=None):
    """``python -m benchmarks.bench_trust``: the cell-level calibration task.

    The image-level protocol runs through ``python -m benchmarks.run --only
    trust``; this entry point runs the cell level and merges its results
    into ``benchmarks/results/trust.json`` (key ``cells``; ``--quick``:
    ``results/quick/trust_cells.json``), then re-renders
    ``docs/_generated/trust.rst``.
    """
    import argparse
    import json

    from ._common import DOCS_GENERATED, RESULTS_DIR, _jsonable, load_average

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_trust",
        description="Cell-level calibration on the Aria B-ALL fields "
        "(benign vs malignant cells, nested grouped CV).")
    parser.add_argument("--data", default=os.environ.get("SKLEUK_ARIA_DATA"),
                        help="folder with Benign/Early/Pre/Pro (or SKLEUK_ARIA_DATA)")
    parser.add_argument("--quick", action="store_true",
                        help="8 fields a class, 2 outer and 2 inner folds, "
                        "light@32, 2 epochs; results to results/quick/")
    parser.add_argument("--per-class", type=int, default=80)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--inner-folds", type=int, default=3)
    parser.add_argument("--cells", type=int, default=3)
    parser.add_argument("--render", action="store_true",
                        help="only re-render docs/_generated/trust.rst from "
                        "benchmarks/results/trust.json")
    args = parser.parse_args(argv)
    path = RESULTS_DIR / "trust.json"
    if args.render:
        res = json.loads(path.read_text())
        for written in write_docs(res, DOCS_GENERATED):
            print(f"wrote {written}")
        return res
    data = data_path(args.data)
    if args.quick:
        args.per_class, args.folds, args.inner_folds, args.cells = 8, 2, 2, 2
        path = RESULTS_DIR / "quick" / "trust_cells.json"
        path.parent.mkdir(parents=True, exist_ok=True)
    header = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "load_average_start": load_average(),
              "command": "python -m benchmarks.bench_trust "
              + " ".join(a for a in (argv if argv is not None else
                                     __import__("sys").argv[1:])
                         if a != str(args.data))}

    def save(cells):
        cells = {**header, **cells, "load_average_end": load_average()}
        if args.quick:
            whole = cells
        else:
            whole = json.loads(path.read_text()) if path.exists() else {}
            whole["cells"] = cells
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(whole, indent=1, default=_jsonable) + "\n")
        tmp.replace(path)

    res = run_cells(data, per_class=args.per_class, folds=args.folds,
                    inner_folds=args.inner_folds, max_cells=args.cells,
                    params=({"resize__size": 32, "cnn__epochs": 2} if args.quick
                            else None),
                    on_result=save, log=lambda s: print(s, flush=True))
    save(res)
    print_cells(res)
    print(f"wrote {path}")
    if not args.quick:
        whole = json.loads(path.read_text())
        for written in write_docs(whole, DOCS_GENERATED):
            print(f"wrote {written}")
    return res


if __name__ == "__main__":
    main()
