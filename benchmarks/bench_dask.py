"""Scale-out: a grid search over file paths, serial, with loky and on Dask.

The same :class:`~sklearn.model_selection.GridSearchCV` over
``make_pipeline(reader=True, ...)`` -- the pipeline reads its own images, so
only file paths travel to the workers -- runs three ways:

* ``n_jobs=1`` in this process;
* ``n_jobs=2`` with joblib's default backend (loky worker processes);
* on a ``dask.distributed.LocalCluster`` of 2 worker processes of 1 thread,
  through joblib's ``dask`` backend (the recipe of the documentation, with a
  local cluster standing in for machines).

Each parallel worker is a process of its own with its own TensorFlow; on a
machine with few cores TensorFlow already keeps every core busy in one
training, so the parallel runs can only win the time the serial run leaves
cores idle (Python, preprocessing, file reading). The numbers show how much.
"""

from __future__ import annotations

import time

import numpy as np

from ._common import print_table

GRID = {"cnn__optimizer": ["adam", "sgd"], "resize__size": [32, 48]}


def _search(n_jobs, epochs, cv):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from skleuk import make_pipeline

    pipe = make_pipeline(reader=True, architecture="light", cnn__epochs=epochs,
                         cnn__random_state=0)
    return GridSearchCV(
        pipe, GRID, cv=StratifiedKFold(cv, shuffle=True, random_state=0),
        n_jobs=n_jobs, error_score="raise",
    )


def run(paths, labels, epochs=10, cv=3, n_workers=2):
    """Time the search serially, with loky and on a local Dask cluster."""
    import joblib
    from dask.distributed import Client, LocalCluster

    X = np.asarray(paths, dtype=object)
    y = np.asarray(labels)
    out = {"n_images": len(X), "grid": GRID, "cv": cv, "epochs": epochs,
           "n_workers": n_workers, "runs": {}}

    def record(name, search, wall, startup=None):
        out["runs"][name] = {
            "wall_s": wall,
            "startup_s": startup,
            "best_params": search.best_params_,
            "best_score": float(search.best_score_),
            "mean_test_score": [float(v) for v in
                                search.cv_results_["mean_test_score"]],
        }
        print(f"  {name}: {wall:.0f} s, best {search.best_params_} "
              f"({search.best_score_:.3f})", flush=True)

    search = _search(1, epochs, cv)
    start = time.perf_counter()
    search.fit(X, y)
    record("serial (n_jobs=1)", search, time.perf_counter() - start)

    search = _search(n_workers, epochs, cv)
    start = time.perf_counter()
    search.fit(X, y)
    record(f"loky (n_jobs={n_workers})", search, time.perf_counter() - start)

    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(_import_tf)
        startup = time.perf_counter() - start
        search = _search(-1, epochs, cv)
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
        record(f"dask LocalCluster ({n_workers} processes x 1 thread)", search,
               time.perf_counter() - start, startup)
    serial = out["runs"]["serial (n_jobs=1)"]["wall_s"]
    for r in out["runs"].values():
        r["speedup"] = serial / r["wall_s"]
    return out


def _import_tf():
    import skleuk.neural_network  # noqa: F401

    return True


def print_results(res):
    """Print the scale-out table."""
    print_table(
        ["backend", "wall (s)", "speed-up", "cluster start (s)", "best params"],
        [[name, f"{r['wall_s']:.0f}", f"{r['speedup']:.2f}",
          "-" if r["startup_s"] is None else f"{r['startup_s']:.0f}",
          str(r["best_params"])] for name, r in res["runs"].items()],
        title=f"Grid search, {len(res['runs'])} backends: {res['cv']}-fold CV x "
        f"4 settings, {res['epochs']} epochs, {res['n_images']} image files",
    )
