"""TensorFlow's start-up log lines: noise dropped, everything else kept."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import skleuk
from skleuk.neural_network import _tf_logs

ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are "
ABSL += b"written to STDERR\n"
INFO = b"I0000 00:00:1796683896.768929   28224 port.cc:153] oneDNN custom ops.\n"
CPU = (
    b"I0000 00:00:1796683896.953241   28224 cpu_feature_guard.cc:227] This "
    b"TensorFlow binary is optimized to use available CPU instructions.\n"
    b"To enable the following instructions: AVX2 FMA, in other operations, "
    b"rebuild TensorFlow with the appropriate compiler flags.\n"
)
CUINIT = (
    b"E0000 00:00:1796683907.654047   28224 cuda_platform.cc:52] failed call "
    b"to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR "
    b"(303)\n"
)
WARNING = b"W0123 12:34:56.789012   28224 some_file.cc:12] a real warning\n"
ERROR = b"E0123 12:34:56.789012   28224 other_file.cc:34] a real error\n"
PYTHON = b"/site-packages/x.py:3: DeprecationWarning: old\n  import y\n"


@pytest.mark.parametrize("driver", [False, True])
def test_only_the_known_noise_is_dropped(capfd, monkeypatch, driver):
    monkeypatch.setattr(_tf_logs, "_nvidia_driver_installed", lambda: driver)
    written = [ABSL, INFO, WARNING, CPU, PYTHON, CUINIT, ERROR, b"no newline"]
    with _tf_logs._filtered_stderr():
        for chunk in written:
            os.write(2, chunk)
    kept = [WARNING, PYTHON, ERROR, b"no newline"]
    if driver:  # with an NVIDIA driver, a failed cuInit is a real problem
        kept.insert(2, CUINIT)
    assert capfd.readouterr().err == b"".join(kept).decode()


def test_output_is_written_back_when_the_block_raises(capfd):
    with pytest.raises(ImportError), _tf_logs._filtered_stderr():
        os.write(2, INFO + ERROR)
        raise ImportError("no tensorflow")
    assert capfd.readouterr().err == ERROR.decode()


def test_a_continuation_line_is_dropped_only_with_its_info_line():
    other = b"To enable the following instructions is not a log line.\n"
    assert _tf_logs._records(WARNING + other) == [WARNING + other]
    assert _tf_logs._records(other + INFO) == [other, INFO]
    assert not any(_tf_logs.is_noise(r) for r in _tf_logs._records(other))


@pytest.mark.skipif(
    os.path.exists("/proc/driver/nvidia"), reason="a machine with an NVIDIA driver"
)
def test_importing_the_subpackage_prints_no_tensorflow_noise():
    # A fresh process, with TensorFlow's own log level at its most verbose:
    # neither the start-up lines nor the failed cuInit of a machine without
    # a GPU reach stderr, and a first TensorFlow operation adds none.
    root = str(Path(skleuk.__file__).parents[1])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", PYTHONPATH=root)
    code = (
        "import skleuk.neural_network, tensorflow as tf; "
        "print(float(tf.constant(1.0) + 1))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "2.0"
    assert "cuInit" not in result.stderr
    assert "I0000" not in result.stderr and "absl::InitializeLog" not in result.stderr
