import skleuk
from skleuk import show_versions


def test_show_versions_dict():
    info = show_versions(as_dict=True)
    assert info["dependencies"]["skleuk"] == skleuk.__version__
    for name in ("tensorflow", "keras", "scikeras", "scikit-learn", "numpy"):
        assert name in info["dependencies"]
    assert "python" in info["system"]


def test_show_versions_prints(capsys):
    assert show_versions() is None
    out = capsys.readouterr().out
    assert "scikit-learn" in out and "keras" in out and "python" in out
