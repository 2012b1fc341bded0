import numpy as np
import pytest

from skleuk.neural_network import (
    LightweightCNNClassifier,
    _training,
    cpu_has_native_bf16,
)
from skleuk.neural_network._training import resolve_dtype_policy
from skleuk.neural_network.tests._data import make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny

CPUINFO = """processor\t: 0
vendor_id\t: {vendor}
model name\t: Some CPU
flags\t\t: fpu sse sse2 avx avx2 fma {extra}
bogomips\t: 5000.00

processor\t: 1
flags\t\t: fpu sse amx_bf16
"""


def _cpuinfo(tmp_path, extra, vendor="GenuineIntel"):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(vendor=vendor, extra=extra))
    return path


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("avx512f avx512bw", False),  # AVX-512 without BF16
        ("avx512f avx512_bf16", True),  # Cooper Lake, AMD Zen 4
        ("avx512f amx_tile amx_bf16 amx_int8", True),  # Sapphire Rapids
        ("avx512_bf16x", False),  # no partial matches
        ("", False),
    ],
)
def test_bf16_detected_from_the_first_flags_line(tmp_path, extra, expected):
    # The second processor block lists amx_bf16, but only the first flags
    # line is read (all cores of a CPU have the same flags).
    assert cpu_has_native_bf16(_cpuinfo(tmp_path, extra)) is expected


def test_no_cpuinfo_means_no_bf16(tmp_path):
    assert cpu_has_native_bf16(tmp_path / "missing") is False
    (tmp_path / "noflags").write_text("processor : 0\n")
    assert cpu_has_native_bf16(tmp_path / "noflags") is False


def test_auto_resolves_per_cpu(tmp_path):
    with_bf16 = _cpuinfo(tmp_path, "avx512_bf16")
    assert resolve_dtype_policy("auto", with_bf16) == "mixed_bfloat16"
    (tmp_path / "plain").write_text("flags : avx2 fma\n")
    assert resolve_dtype_policy("auto", tmp_path / "plain") == "float32"
    assert resolve_dtype_policy(None, with_bf16) == "float32"
    assert resolve_dtype_policy("mixed_float16", with_bf16) == "mixed_float16"


@pytest.mark.parametrize("native", [True, False])
def test_auto_policy_builds_the_detected_precision(monkeypatch, native):
    monkeypatch.setattr(_training, "cpu_has_native_bf16", lambda cpuinfo=None: native)
    X, y = make_images(n=16, size=16)
    params = tiny(epochs=1, dtype_policy="auto", random_state=0)
    clf = LightweightCNNClassifier(**params)
    clf.fit(X, y)
    expected = "mixed_bfloat16" if native else "float32"
    assert clf.dtype_policy_ == expected
    conv = clf.model_.get_layer("conv1")
    assert conv.dtype_policy.name == expected
    assert clf.model_.get_layer("probabilities").dtype_policy.name == "float32"
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_default_dtype_policy_stays_float32():
    assert LightweightCNNClassifier().get_params()["dtype_policy"] is None
