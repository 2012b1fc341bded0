"""TensorFlow's log noise: its start-up lines and its retracing warnings.

TensorFlow writes to the process's standard error (file descriptor 2, below
Python) when it is imported and when it first looks for devices. On a
machine without an NVIDIA driver that includes an error line, ``E0000 ...
cuda_platform.cc ... failed call to cuInit``, printed at the first
TensorFlow operation -- in the middle of a progress bar -- and read as a
failure by anyone who does not know it is expected. ``TF_CPP_MIN_LOG_LEVEL``
does not help: the informational lines written before TensorFlow sets up
its logging ignore it, and hiding errors with level 3 hides real ones too.

:func:`import_tensorflow` is called once, where skleuk first imports
TensorFlow (``skleuk/neural_network/__init__.py``): it imports TensorFlow
and lists its devices (which runs the CUDA initialisation) with file
descriptor 2 captured, then writes back everything except the lines known
to be noise -- TensorFlow's informational (``I``) lines and the notice that
precedes them, and the failed ``cuInit`` when no NVIDIA driver is installed.
Warnings, errors and anything else come through unchanged; the failed
``cuInit`` on a machine *with* an NVIDIA driver is a real problem and comes
through too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile

__all__ = ["import_tensorflow", "is_noise", "quiet_retracing"]

# A TensorFlow (absl) log line: severity, date, time, thread, file:line].
_LOG_LINE = re.compile(rb"^[IWEF]\d{4} [\d:.]+ +\d+ [^ \]]+:\d+\] ")
_ABSL_NOTICE = b"WARNING: All log messages before absl::InitializeLog() is called"
_CUINIT = b"failed call to cuInit"
# The second line of TensorFlow's informational CPU-instructions message.
_CONTINUATION = b"To enable the following instructions"

_done = False


def _nvidia_driver_installed():
    """Whether an NVIDIA kernel driver is loaded (Linux: /proc/driver/nvidia)."""
    return os.path.exists("/proc/driver/nvidia")


def is_noise(record, nvidia_driver=False):
    """Whether a captured stderr record is known TensorFlow start-up noise.

    Parameters
    ----------
    record : bytes
        One log record: a line and the continuation lines that follow it.
    nvidia_driver : bool, default=False
        Whether an NVIDIA driver is installed; then a failed ``cuInit`` is
        a real error, not noise.

    Returns
    -------
    bool
    """
    if record.startswith(_ABSL_NOTICE):
        return True
    if not _LOG_LINE.match(record):
        return False
    if record[:1] == b"I":
        return True
    return record[:1] == b"E" and _CUINIT in record and not nvidia_driver


def _records(data):
    """Split captured output into records: lines, a log line's known
    continuation joined to it."""
    records = []
    for line in data.splitlines(keepends=True):
        continued = records and _LOG_LINE.match(records[-1])
        if continued and line.startswith(_CONTINUATION):
            records[-1] += line
        else:
            records.append(line)
    return records


@contextlib.contextmanager
def _filtered_stderr():
    """Capture file descriptor 2; on exit, write back all but the noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            driver = _nvidia_driver_installed()
            kept = [r for r in _records(capture.read()) if not is_noise(r, driver)]
            if kept:
                os.write(2, b"".join(kept))


def import_tensorflow():
    """Import TensorFlow and find its devices, without the start-up noise.

    Idempotent: only the first call in a process captures anything (if
    TensorFlow was imported before, only the device search is captured).
    """
    global _done
    if _done:
        return
    _done = True
    with _filtered_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()


class _DropRetracingWarnings(logging.Filter):
    """Drop TensorFlow's "tf.function retracing" warnings.

    Every fit builds a new network on purpose (cross-validation, grid
    search), which TensorFlow reports as excessive retracing.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing():
    """Silence TensorFlow's retracing warnings inside the block."""
    logger = logging.getLogger("tensorflow")
    log_filter = _DropRetracingWarnings()
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)
