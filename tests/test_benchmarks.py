"""The benchmarks' runner and contract (benchmarks/run.py), on synthetic data."""

import json
import types

import numpy as np
import pytest

run = pytest.importorskip("benchmarks.run", reason="run from the repository root")
stamp = pytest.importorskip("benchmarks.stamp")

#: The benchmarks that follow the contract (NEEDS, run, render).
CONTRACT = ("accuracy", "dask", "preprocessing", "screening", "trust")


@pytest.mark.parametrize("name", CONTRACT)
def test_benchmark_follows_the_contract(name):
    module = run.load(run.discover()[name])
    assert not isinstance(module, str), module
    assert isinstance(module.NEEDS, tuple)
    assert all(isinstance(s, str) for s in module.NEEDS)


def test_data_paths_from_the_environment_and_the_command_line(tmp_path):
    env = {"SKLEUK_ARIA_DATA": "/env/aria", "SKLEUK_PBC_DATA": "/env/pbc", "HOME": "/"}
    paths = run.data_paths([f"aria={tmp_path}"], environ=env)
    assert paths == {"aria": tmp_path, "pbc": run.Path("/env/pbc")}
    assert run.missing_data(("aria",), paths) == ""
    message = run.missing_data(("aria", "pbc", "bccd"), paths)
    assert "pbc" in message and "does not exist" in message
    assert "SKLEUK_BCCD_DATA" in message
    with pytest.raises(SystemExit, match="SOURCE=PATH"):
        run.data_paths(["aria"], environ={})


def test_an_unknown_benchmark_is_refused():
    with pytest.raises(SystemExit, match="no benchmark nope"):
        run.main(["--only", "nope"])


def _fake_benchmark():
    def run_(data, *, quick=False, seed=0, save=None):
        X = np.random.default_rng(seed).random((20, 2))
        save({"rows": []})  # a long benchmark saves as it goes
        return {"n": len(X), "mean": float(X.mean()), "source": str(data["toy"])}

    def render(results, out):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rst = out / "toy.rst"
        rst.write_text(f"Mean {results['mean']:.3f} of {results['n']}.\n")
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        png = out / "toy.png"
        fig.savefig(png)
        plt.close(fig)
        return [rst, png]

    return types.SimpleNamespace(NEEDS=("toy",), run=run_, render=render)


def test_run_one_writes_stamped_results_and_fragments(tmp_path):
    module = _fake_benchmark()
    path = run.run_one("toy", module, {"toy": tmp_path}, results_dir=tmp_path,
                       docs_dir=tmp_path / "docs")
    results = json.loads(path.read_text())
    assert path == tmp_path / "toy.json"
    assert results["n"] == 20 and results["source"] == str(tmp_path)
    assert "partial" not in results  # the final file replaces the saved one
    expected = stamp.stamp()
    assert results["stamp"] == expected
    for fragment in ("toy.rst", "toy.png"):
        assert stamp.read_stamp(tmp_path / "docs" / fragment) == expected
    text = (tmp_path / "docs" / "toy.rst").read_text()
    assert text.startswith(".. stamp: ") and "\n\nMean " in text
    # Re-rendering keeps one stamp: the results', not today's.
    results["stamp"] = {**expected, "commit": "0000000"}
    run.render(module, results, tmp_path / "docs")
    text = (tmp_path / "docs" / "toy.rst").read_text()
    assert text.count(".. stamp:") == 1 and "commit 0000000" in text
    # a blank line ends the comment, so docutils does not swallow the text
    assert text.split("\n")[1] == "" and text.split("\n")[2] != ""
    assert stamp.read_stamp(tmp_path / "docs" / "toy.png")["commit"] == "0000000"


def test_quick_runs_go_to_their_own_folder(tmp_path):
    path = run.run_one("toy", _fake_benchmark(), {"toy": tmp_path}, quick=True,
                       results_dir=tmp_path)
    assert path == tmp_path / "quick" / "toy.json"
    assert (tmp_path / "quick" / "docs" / "toy.rst").exists()


def test_the_recipe_hash_follows_the_default_recipe(monkeypatch):
    import skleuk

    today = stamp.recipe_hash()
    assert today == stamp.recipe_hash() and len(today) == 12
    monkeypatch.setitem(skleuk.RECIPES["default"]["params"], "cnn__epochs", 7)
    assert stamp.recipe_hash() != today


def test_the_aria_module_reads_class_folders_and_cuts_cells(tmp_path):
    from PIL import Image

    from benchmarks.data import aria
    from skleuk.datasets import make_blood_smears

    X, _ = make_blood_smears(12, image_size=96, random_state=0, return_X_y=True)
    for k, name in enumerate((*aria.CLASSES, "Normal")):
        (tmp_path / name).mkdir()
        for i in range(2):
            Image.fromarray(X[2 * k + i]).save(tmp_path / name / f"{i}.jpg")
    paths, y = aria.files(tmp_path, per_class=1)
    assert list(y) == list(aria.CLASSES)  # Normal is not part of the data set
    images, y, groups = aria.load(tmp_path)
    assert images.shape == (8, 96, 96, 3) and len(groups) == 8
    assert list(aria.binary(y)).count("Benign") == 2
    cells, source = aria.cut_cells(images, max_cells=2)
    assert cells.shape[1:] == (aria.CELL_WINDOW, aria.CELL_WINDOW, 3)
    assert len(cells) == len(source) and set(source) <= set(range(8))
    with pytest.raises(FileNotFoundError, match="Benign"):
        aria.files(tmp_path / "Normal")


def test_the_accuracy_table_names_rows_run_later_and_rows_not_run(tmp_path):
    from benchmarks import bench_accuracy

    row = {"task": "cell-binary", "model": "default", "seed": 0, "n": 10,
           "accuracy": 0.9, "accuracy_std": 0.01, "seconds": 60.0}
    results = {
        "data": {"n_fields": 4, "per_class": 1, "duplicates_grouped": 0,
                 "n_cells": 10, "max_cells": 3, "folds": 2},
        "seed": 0, "date": "today", "partial": True,
        "shortcut": {"raw": {"accuracy": 0.8}, "normalised": {"accuracy": 0.5}},
        "rows": [row, {**row, "task": "field-4class", "commit": "abc1234"}],
    }
    text = bench_accuracy.render(results, tmp_path)[0].read_text()
    assert "at commit abc1234" in text and "default on field-4class" in text
    assert "Not run (time): " in text and "paper on cell-4class" in text
    assert "at commit" not in bench_accuracy.render(
        {**results, "rows": [row]}, tmp_path)[0].read_text()


def test_results_without_a_stamp_are_not_rendered(tmp_path):
    with pytest.raises(ValueError, match="no stamp"):
        run.render(_fake_benchmark(), {"n": 1}, tmp_path)
    assert not list(tmp_path.iterdir())
