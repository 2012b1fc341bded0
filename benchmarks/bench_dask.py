"""Scale-out: cross-validation and a grid search, serial, with loky and on Dask.

Synthetic smears written as PNG files; the pipeline reads its own images
(``make_pipeline(reader=True)``), so only file paths travel to the workers.

* :func:`skleuk.model_selection.evaluate`, 3 folds, ``n_jobs`` 1 and 2;
* a :class:`~sklearn.model_selection.GridSearchCV` (4 settings, 3 folds)
  with ``n_jobs=1``, with ``n_jobs=2`` (joblib's loky worker processes)
  and on a ``dask.distributed.LocalCluster`` of 2 single-thread worker
  processes through joblib's ``dask`` backend (the documented recipe, a
  local cluster standing in for machines).

Every worker is a process with its own TensorFlow, which already keeps the
cores busy in one training: on a small machine the parallel runs win only
the time a single fit leaves cores idle.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import list_table

NEEDS = ()
GRID = {"cnn__optimizer": ["adam", "sgd"], "resize__size": [32, 48]}


def _files(n, folder):
    from PIL import Image

    from skleuk.datasets import make_blood_smears

    X, y = make_blood_smears(n, image_size=128, random_state=0, return_X_y=True)
    paths = []
    for i, image in enumerate(X):
        paths.append(str(Path(folder) / f"smear_{i:04d}.png"))
        Image.fromarray(image).save(paths[-1])
    return np.asarray(paths, dtype=object), np.asarray(y)


def _pipe(epochs):
    from skleuk import make_pipeline

    return make_pipeline(reader=True, architecture="light", cnn__epochs=epochs,
                         cnn__random_state=0)


def run(data, *, quick=False, seed=0):
    """Wall times of evaluate and of the grid search per backend."""
    import joblib
    from dask.distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from skleuk.model_selection import evaluate

    n, epochs = (40, 1) if quick else (160, 5)
    X, y = _files(n, tempfile.mkdtemp())
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    out = {"n_images": n, "epochs": epochs, "grid": GRID, "evaluate": {}, "search": {}}
    for n_jobs in (1, 2):
        start = time.perf_counter()
        report = evaluate(_pipe(epochs), X, y, cv=cv, n_jobs=n_jobs)
        out["evaluate"][f"n_jobs={n_jobs}"] = {
            "wall_s": time.perf_counter() - start,
            "accuracy": float(np.mean(report.fold_metrics["accuracy"]))}

    def search(n_jobs, backend=None):
        gs = GridSearchCV(_pipe(epochs), GRID, cv=cv, n_jobs=n_jobs,
                          error_score="raise")
        start = time.perf_counter()
        if backend is None:
            gs.fit(X, y)
        else:
            with joblib.parallel_config(backend=backend):
                gs.fit(X, y)
        return {"wall_s": time.perf_counter() - start,
                "best_params": gs.best_params_, "best_score": float(gs.best_score_)}

    out["search"]["serial (n_jobs=1)"] = search(1)
    out["search"]["loky (n_jobs=2)"] = search(2)
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(importlib.import_module, "skleuk.neural_network")  # warm up
        startup = time.perf_counter() - start
        out["search"]["dask LocalCluster (2 processes x 1 thread)"] = {
            **search(-1, "dask"), "startup_s": startup}
    return out


def render(results, out):
    """``dask.rst``: the two tables."""
    serial = results["search"]["serial (n_jobs=1)"]["wall_s"]
    ev1 = results["evaluate"]["n_jobs=1"]["wall_s"]
    lines = [
        f"{results['n_images']} PNG files of 128 px (synthetic smears), the light "
        f"network at 32-48 px, {results['epochs']} epochs, 3 folds; only the file "
        f"paths travel to the workers. At "
        f"load average {results['load_average'][0]:.1f} ({results['date']}; the "
        "machine's 2 cores were shared with other jobs):",
    ]
    rows = [[f"``evaluate``, {name}", f"{r['wall_s']:.0f}", f"{ev1 / r['wall_s']:.2f}",
             None] for name, r in results["evaluate"].items()]
    rows += [[f"grid search, {name}", f"{r['wall_s']:.0f}",
              f"{serial / r['wall_s']:.2f}",
              f"{r['startup_s']:.0f}" if "startup_s" in r else None]
             for name, r in results["search"].items()]
    lines += ["", list_table(["run", "wall (s)", "speed-up", "cluster start (s)"],
                             rows).rstrip("\n")]
    best = {str(r["best_params"]) for r in results["search"].values()}
    lines += ["", (f"Every backend found the same best setting ({best.pop()}). "
                   if len(best) == 1 else "The backends found different best "
                   f"settings ({'; '.join(sorted(best))}). ") + "Each "
              "worker is a process with its own TensorFlow, which already uses all "
              "the cores it sees: on a small machine the parallel backends gain "
              "only what one fit leaves idle; the gain comes with more machines.", ""]
    path = out / "dask.rst"
    path.write_text("\n".join(lines))
    return [path]
