"""Model files: save_model/load_model and the allow-list that runs no code."""

import io
import os
import pickle
import sys

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skleuk
from skleuk.exceptions import UntrustedModelError
from skleuk.utils import _safe_pickle
from skleuk.utils._model_file import MODEL_FORMAT


def _fitted():
    X = np.random.RandomState(0).rand(20, 3)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X, [0, 1] * 10), X


class _RunsCode:
    """Unpickling it runs a shell command that leaves a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Harmless:
    """A class of this (test) module: not on the allow-list."""

    def __init__(self, value=1):
        self.value = value


def _envelope(estimator):
    return {"format": MODEL_FORMAT, "format_version": 1, "estimator": estimator,
            "classes": [0, 1], "target_names": ["a", "b"], "input": "images",
            "extra": {}}


def test_save_and_load_round_trip(tmp_path):
    pipe, X = _fitted()
    path = skleuk.save_model(pipe, tmp_path / "m.joblib", target_names=["no", "yes"],
                             input_kind="images", extra={"note": "x"})
    model = skleuk.load_model(path)
    assert model.target_names == ["no", "yes"] == model["target_names"]
    assert model.input == "images" and model.extra == {"note": "x"}
    assert model.skleuk_version == skleuk.__version__
    np.testing.assert_array_equal(model.estimator.predict_proba(X),
                                  pipe.predict_proba(X))
    # The CLI's names are the library's.
    from skleuk import cli

    assert cli.load_model is skleuk.load_model and cli.save_model is skleuk.save_model


def test_save_never_overwrites_unless_asked(tmp_path, monkeypatch):
    pipe, _ = _fitted()
    path = tmp_path / "m.joblib"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        skleuk.save_model(pipe, path, input_kind="images")
    assert path.read_bytes() == b"mine"

    # A failed write (a full disk) leaves the old file and no partial one.
    def full(*args, **kwargs):
        with open(args[1], "wb") as f:
            f.write(b"par")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(joblib, "dump", full)
    with pytest.raises(OSError, match="No space"):
        skleuk.save_model(pipe, path, input_kind="images", overwrite=True)
    assert path.read_bytes() == b"mine"
    assert os.listdir(tmp_path) == ["m.joblib"]
    monkeypatch.undo()
    skleuk.save_model(pipe, path, input_kind="images", overwrite=True)
    assert skleuk.load_model(path).input == "images"


def test_a_pickle_that_runs_a_command_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.joblib"
    joblib.dump(_envelope(_RunsCode(marker)), path)
    with pytest.raises(UntrustedModelError) as info:
        skleuk.load_model(path)
    assert not marker.exists()
    system = f"{os.system.__module__}.system"
    assert info.value.types == [system]
    assert isinstance(info.value, ValueError)
    assert system in str(info.value) and "trusted=" in str(info.value)
    assert "evil.joblib" in str(info.value)
    # Hidden in an array of Python objects (a nested pickle): refused too.
    nested = tmp_path / "nested.joblib"
    joblib.dump(_envelope(np.array([_RunsCode(marker), 1], dtype=object)), nested)
    with pytest.raises(UntrustedModelError):
        skleuk.load_model(nested)
    assert not marker.exists()
    # Trusted explicitly, it is plain joblib.load: the command runs.
    with pytest.raises(ValueError, match="holds no classifier"):
        skleuk.load_model(path, trusted=True)
    assert marker.exists()


def test_other_types_are_named_and_can_be_trusted_by_name(tmp_path):
    path = tmp_path / "own.joblib"
    pipe, _ = _fitted()
    pipe.steps.insert(0, ("mine", Harmless()))
    joblib.dump(_envelope(pipe), path)
    name = f"{Harmless.__module__}.Harmless"
    with pytest.raises(UntrustedModelError, match=name):
        skleuk.load_model(path)
    # Trusting another name is not enough; this one is.
    with pytest.raises(UntrustedModelError):
        skleuk.load_model(path, trusted=["os.system"])
    model = skleuk.load_model(path, trusted=[name])
    assert isinstance(model.estimator.steps[0][1], Harmless)


def _global_pickle(module, name, proto=2):
    """A pickle calling ``module.name()``, written opcode by opcode."""
    body = b"c" + module.encode() + b"\n" + name.encode() + b"\n" + b")R."
    return (b"\x80" + bytes([proto]) if proto >= 2 else b"") + body


@pytest.mark.parametrize("module, name", [
    ("builtins", "eval"),
    ("builtins", "getattr"),
    ("builtins", "__import__"),
    ("subprocess", "Popen"),
    ("numpy", "memmap"),          # creates files
    ("numpy", "save"),
    ("skleuk.cli", "main"),       # skleuk's own, but a function
    ("sklearn.base", "os.system"),  # a dotted name through an allowed module
    ("skleuk.cli.__main__", "sys"),  # importing it would run the command
    ("sklearn.utils._testing", "TempMemmap"),
    ("joblib", "load"),
])
def test_refused_names(module, name, tmp_path):
    before = set(sys.modules)
    path = tmp_path / "x.joblib"
    path.write_bytes(_global_pickle(module, name))
    with pytest.raises(_safe_pickle.UntrustedTypeError):
        _safe_pickle.load_joblib(path)
    assert "skleuk.cli.__main__" not in set(sys.modules) - before


def test_a_module_outside_the_allowed_packages_is_never_imported(tmp_path,
                                                                  monkeypatch):
    module = tmp_path / "side_effect_on_import.py"
    marker = tmp_path / "imported"
    module.write_text(f"open({str(marker)!r}, 'w').close()\nclass X: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "x.joblib"
    path.write_bytes(_global_pickle("side_effect_on_import", "X"))
    with pytest.raises(_safe_pickle.UntrustedTypeError):
        _safe_pickle.load_joblib(path)
    assert not marker.exists()


def test_allowed_types_cover_scikit_learn_and_numpy(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X = np.random.RandomState(0).rand(30, 3)
    y = np.array([0, 1, 2] * 10)
    for est in (HistGradientBoostingClassifier(max_iter=3), KNeighborsClassifier()):
        est.fit(X, y)
        path = skleuk.save_model(est, tmp_path / "m.joblib", input_kind="images",
                                 overwrite=True)
        np.testing.assert_array_equal(skleuk.load_model(path).estimator.predict(X),
                                      est.predict(X))
    # Arrays of every layout come back as written (joblib stores them apart).
    arrays = {"f": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
              "be": np.arange(5, dtype=">i4"), "empty": np.zeros((0, 3)),
              "obj": np.array(["a", 1, None], dtype=object),
              "scalar": np.float32(2.5), "rng": np.random.default_rng(3)}
    joblib.dump(arrays, tmp_path / "a.joblib", compress=3)
    back = _safe_pickle.load_joblib(tmp_path / "a.joblib")
    for key in ("f", "be", "empty"):
        np.testing.assert_array_equal(back[key], arrays[key])
    assert back["be"].dtype.isnative and back["f"].flags.f_contiguous
    assert list(back["obj"]) == ["a", 1, None] and back["scalar"] == 2.5
    assert back["rng"].random() == np.random.default_rng(3).random()


def test_untrusted_types_lists_every_name(tmp_path):
    path = tmp_path / "two.joblib"
    joblib.dump([Harmless(), _RunsCode(tmp_path / "m")], path)
    names = _safe_pickle.untrusted_types(path)
    assert names == [f"{Harmless.__module__}.Harmless",
                     f"{os.system.__module__}.system"]
    assert not (tmp_path / "m").exists()


def test_unreadable_and_missing_files(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        skleuk.load_model(tmp_path / "none.joblib")
    pipe, _ = _fitted()
    path = skleuk.save_model(pipe, tmp_path / "m.joblib", input_kind="images")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    # As root permissions are not enforced: simulate the open() refusal.
    monkeypatch.setattr(_safe_pickle, "open", denied, raising=False)
    with pytest.raises(PermissionError, match="permission denied"):
        skleuk.load_model(path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads mode-000 files")
def test_mode_000_model_file(tmp_path):
    pipe, _ = _fitted()
    path = skleuk.save_model(pipe, tmp_path / "m.joblib", input_kind="images")
    os.chmod(path, 0)
    try:
        with pytest.raises(PermissionError, match="permission denied"):
            skleuk.load_model(path)
    finally:
        os.chmod(path, 0o600)


def test_protocol_and_corrupt_streams(tmp_path):
    pipe, X = _fitted()
    for proto in (2, 3, 4, 5):
        buf = io.BytesIO()
        pickle.dump(_envelope(pipe), buf, protocol=proto)
        path = tmp_path / f"p{proto}.joblib"
        path.write_bytes(buf.getvalue())
        assert skleuk.load_model(path).estimator.predict(X).shape == (20,)
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"\x80\x05garbage")
    with pytest.raises(ValueError, match="not a skleuk model"):
        skleuk.load_model(bad)
