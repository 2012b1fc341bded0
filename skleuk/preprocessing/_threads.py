"""Run the independent tiles of a preprocessing step on a few threads.

The filters of :mod:`skleuk.preprocessing` work on cache-sized tiles of a
batch with numpy ufuncs, which release the GIL: the tiles can run on several
cores at once, as OpenCV's own thread pool does. Tiles write to disjoint
parts of a preallocated output and each thread has its own scratch
buffers, so the result does not depend on the number of threads
(bit-identical).

Threads are opt-in: ``SKLEUK_NUM_THREADS=k`` (capped at the CPUs this
process may use, and at 8) runs the tiles on ``k`` threads; the default is
one thread. On the shared 2-core development machine, busy with other work,
two threads measured no faster than one, so the default stays at what was
measured; set the variable on a machine with idle cores (and leave it unset
in joblib/Dask workers that already use every core).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["n_threads", "run_chunks"]

_MAX_THREADS = 8
_lock = threading.Lock()
_pool = None  # (pid, n_workers, executor)
_worker_prefix = "skleuk-tiles"


def n_threads():
    """Threads a preprocessing step may use (at least 1).

    Returns
    -------
    int
        ``SKLEUK_NUM_THREADS`` capped at the usable CPUs and at 8; 1 when
        the variable is unset or invalid.
    """
    value = os.environ.get("SKLEUK_NUM_THREADS", "").strip()
    try:
        n = max(1, int(value))
    except ValueError:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(n, cpus, _MAX_THREADS))


def _executor(k):
    global _pool
    with _lock:
        # A forked child inherits the object but not its threads: new pool.
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < k:
            _pool = (os.getpid(), k, ThreadPoolExecutor(k, _worker_prefix))
        return _pool[2]


def run_chunks(func, items):
    """Call ``func(chunk)`` on contiguous chunks of ``items``, in parallel.

    One chunk per thread (:func:`n_threads`); with one thread, or when
    called from one of these threads, ``func(items)`` runs here.

    Parameters
    ----------
    func : callable
        Called with a list of items; its return value is ignored.
    items : list
        The work items (tiles).
    """
    k = min(n_threads(), len(items))
    if k <= 1 or threading.current_thread().name.startswith(_worker_prefix):
        func(items)
        return
    bounds = [len(items) * i // k for i in range(k + 1)]
    futures = [
        _executor(k).submit(func, items[bounds[i] : bounds[i + 1]])
        for i in range(k)
    ]
    for future in futures:
        future.result()
