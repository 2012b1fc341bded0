"""Shared helpers of the benchmarks: load, timing, rST tables."""

from __future__ import annotations

import os
import statistics
import time


def load_average():
    """The 1-, 5- and 15-minute load averages."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def timed(func, *args, **kwargs):
    """Run ``func`` once; return ``(seconds, result)``."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def compare(funcs, repeat=5, warmup=1):
    """Time several functions interleaved, so that load changes hit them alike.

    Parameters
    ----------
    funcs : dict of str to callable
        Functions without arguments.
    repeat : int, default=5
        Timed rounds; each round runs every function once, in an order
        rotated from round to round.
    warmup : int, default=1
        Untimed rounds first.

    Returns
    -------
    dict of str to dict
        Per function: ``median`` and ``min`` seconds and all ``times``.
    """
    for _ in range(warmup):
        for f in funcs.values():
            f()
    times = {k: [] for k in funcs}
    keys = list(funcs)
    for i in range(repeat):
        # Rotate the order, so that no function always runs first (after
        # the previous round's garbage) or last.
        for k in keys[i % len(keys):] + keys[: i % len(keys)]:
            times[k].append(timed(funcs[k])[0])
    return {
        k: {"median": statistics.median(t), "min": min(t), "times": t}
        for k, t in times.items()
    }


def list_table(header, rows, widths=None, title="", empty="--"):
    """An rST ``list-table`` of ``rows`` under ``header``.

    ``title``: the table's caption; ``empty``: what None and "" cells show.
    """
    lines = [f".. list-table::{' ' + title if title else ''}", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {' '.join(str(w) for w in widths)}")
    lines.append("")
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            cell = str(cell) if cell not in (None, "") else empty
            lines.append(f"   {'* -' if i == 0 else '  -'} {cell}")
    return "\n".join(lines) + "\n"
