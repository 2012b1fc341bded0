"""evaluate(): the prediction pass of a fold, and whole runs with ``n_jobs``.

Two measurements on synthetic smears (60 images, 64 px drawn, the light
network at 32 px, 2 epochs):

* ``prediction``: one fold's predictions on a fitted pipeline (40 training
  and 20 held-out images), the way ``evaluate`` did it up to 0.1 --
  ``predict`` and ``predict_proba`` of the pipeline on each side, four
  network and four preprocessing passes -- against its single pass per side
  (``skleuk.model_selection._fold._responses``), timed interleaved
  (:func:`benchmarks._common.compare`), so that load changes hit both alike;
* ``evaluate``: wall time of 3-fold ``evaluate`` with ``n_jobs=1`` and
  ``n_jobs=2`` (the latter starts two worker processes that import
  TensorFlow).

Run with ``python -m benchmarks.bench_evaluate`` or as the ``evaluate``
section of ``python -m benchmarks.run``; writes
``benchmarks/results/evaluate.json``.
"""

from __future__ import annotations

import time

import numpy as np

from ._common import compare, load_average, print_table, quiet_tensorflow, write_json


def _data_and_pipeline():
    from skleuk import make_pipeline
    from skleuk.datasets import make_blood_smears

    data = make_blood_smears(n_samples=60, image_size=64, random_state=0)
    pipe = make_pipeline(architecture="light", image_size=32, cnn__epochs=2,
                         cnn__random_state=0)
    return data.images, data.target, pipe


def bench_prediction(repeat=5):
    """Old (four calls) against new (one pass per side) prediction of a fold."""
    from skleuk.model_selection._fold import _responses

    X, y, pipe = _data_and_pipeline()
    train, test = np.arange(40), np.arange(40, 60)
    pipe.fit(X[train], y[train])
    classes = np.unique(y)

    def old():
        pipe.predict(X[train]), pipe.predict_proba(X[train])
        pipe.predict(X[test]), pipe.predict_proba(X[test])

    def new():
        _responses(pipe, X[train], classes)
        _responses(pipe, X[test], classes, decision=True)

    return compare({"four calls": old, "one pass per side": new}, repeat=repeat)


def bench_evaluate(n_jobs_values=(1, 2)):
    """Wall time of 3-fold evaluate per ``n_jobs``."""
    from skleuk.model_selection import evaluate

    X, y, pipe = _data_and_pipeline()
    out = {}
    for n_jobs in n_jobs_values:
        start = time.perf_counter()
        report = evaluate(pipe, X, y, cv=3, random_state=0, n_jobs=n_jobs)
        out[n_jobs] = {
            "wall_s": time.perf_counter() - start,
            "accuracy": report.fold_metrics["accuracy"].tolist(),
        }
    return out


def print_results(result):
    """Print the two tables."""
    print_table(
        ["prediction of one fold", "median s", "min s"],
        [[k, f"{v['median']:.2f}", f"{v['min']:.2f}"]
         for k, v in result["prediction"].items()],
    )
    print_table(
        ["evaluate, 3 folds", "wall s"],
        [[f"n_jobs={k}", f"{v['wall_s']:.1f}"] for k, v in result["evaluate"].items()],
    )


def main():
    quiet_tensorflow()
    result = {"load_before": load_average()}
    result["prediction"] = bench_prediction()
    result["evaluate"] = bench_evaluate()
    result["load_after"] = load_average()
    print_results(result)
    print(f"load average {result['load_before']} -> {result['load_after']}")
    write_json("evaluate", result)


if __name__ == "__main__":
    main()
