"""Scale-out: grid search and cross-validation in worker processes.

The skleuk pipeline, with an ImageReader first, is fitted in other
processes -- by scikit-learn's cross_validate on Dask workers through
joblib's ``dask`` backend, and by GridSearchCV in joblib's default ``loky``
processes -- with only file paths sent to them: every worker reads its own
images and runs its own TensorFlow. (``benchmarks/bench_dask.py`` runs a
grid search on a Dask cluster.)
"""

import os

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from skleuk import make_pipeline
from skleuk.neural_network.tests._data import tiny_cnn

distributed = pytest.importorskip("distributed")

N_IMAGES = 16
GRID = {"cnn__optimizer": ["adam", "sgd"]}


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    """16 PNG files of 32 px (two classes) and their labels."""
    from skleuk.datasets import make_blood_smears

    X, y = make_blood_smears(
        n_samples=N_IMAGES, image_size=32, random_state=0, return_X_y=True
    )
    folder = tmp_path_factory.mktemp("smears")
    paths = []
    for i, img in enumerate(X):
        path = folder / f"{i:02d}.png"
        Image.fromarray(img).save(path)
        paths.append(str(path))
    return np.array(paths), y


@pytest.fixture(scope="module")
def dask_client():
    """A local cluster of 2 worker processes of 1 thread, on free ports."""
    from dask.distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        scheduler_port=0,
        host="127.0.0.1",
    ) as cluster, Client(cluster) as client:
        yield client


def _pipeline():
    params = {f"cnn__{k}": v for k, v in tiny_cnn(epochs=1).items()}
    return make_pipeline(reader=True, image_size=16, cnn__random_state=0, **params)


def _cv():
    return StratifiedKFold(2, shuffle=True, random_state=0)


def _check_search(search, paths, y):
    results = search.cv_results_
    assert [p["cnn__optimizer"] for p in results["params"]] == ["adam", "sgd"]
    for split in ("split0_test_score", "split1_test_score"):
        assert np.all((results[split] >= 0) & (results[split] <= 1))
    # The refitted best pipeline reads files too.
    pred = search.best_estimator_.predict(paths[:4])
    assert pred.shape == (4,)
    assert set(pred) <= set(y)


def test_cross_validate_on_dask_workers_equals_serial(image_files, dask_client):
    # cross_validate with skleuk's scorers runs as Dask tasks in the worker
    # processes (not in this one), and seeded fits are deterministic on CPU
    # and take every layer's seed from random_state (not from Python's
    # global ``random``, which the worker's event loop shares): a fold
    # fitted on a Dask worker gives the same network as the same fold
    # fitted here. GridSearchCV reaches the workers through the same joblib
    # backend (its fits are the loky test's below); one remote
    # cross-validation checks all this, as every worker process has to
    # import TensorFlow, which is most of the cost.
    from dask.distributed import get_task_stream

    from skleuk.metrics import get_scorers

    paths, y = image_files
    with get_task_stream(dask_client) as stream, joblib.parallel_config(
        backend="dask"
    ):
        remote = cross_validate(
            _pipeline(), paths, y, cv=_cv(), scoring=get_scorers(), n_jobs=-1,
            return_estimator=True, error_score="raise",
        )
    workers = set(dask_client.scheduler_info()["workers"])
    assert stream.data, "no task ran on the Dask cluster"
    assert {task["worker"] for task in stream.data} <= workers
    pids = dask_client.run(os.getpid)
    assert set(pids) == workers
    assert os.getpid() not in pids.values()

    assert remote["test_accuracy"].shape == (2,)
    assert np.all((remote["test_accuracy"] >= 0) & (remote["test_accuracy"] <= 1))
    assert np.all(np.isfinite(remote["fit_time"]))
    local = cross_validate(_pipeline(), paths, y, cv=_cv(), return_estimator=True)
    for a, b in zip(remote["estimator"], local["estimator"], strict=True):
        # Bit-identical, not merely close.
        np.testing.assert_array_equal(a.predict_proba(paths), b.predict_proba(paths))


def test_grid_search_loky_processes(image_files):
    # joblib's default backend: TensorFlow runs in 2 loky worker processes.
    paths, y = image_files
    search = GridSearchCV(_pipeline(), GRID, cv=_cv(), n_jobs=2, error_score="raise")
    search.fit(paths, y)
    _check_search(search, paths, y)
