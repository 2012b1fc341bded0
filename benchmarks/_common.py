"""Shared helpers of the benchmarks: the machine, timing, results files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DOCS_GENERATED = REPO_ROOT / "docs" / "_generated"

#: ALL-IDB2 shape: 260 RGB crops of 257x257 pixels.
N_IMAGES = 260
IMAGE_SIZE = 257


def quiet_tensorflow():
    """Silence TensorFlow's start-up logging (before it is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def all_idb2_like(n_samples=N_IMAGES, image_size=IMAGE_SIZE, random_state=0,
                  class_sep=1.0):
    """Synthetic images shaped like ALL-IDB2 (uint8 ``(n, s, s, 3)``, labels)."""
    from skleuk.datasets import make_blood_smears

    return make_blood_smears(
        n_samples, image_size=image_size, random_state=random_state,
        class_sep=class_sep, return_X_y=True,
    )


# ---------------------------------------------------------------------------
# the machine
# ---------------------------------------------------------------------------
def _cpuinfo():
    """First processor block of ``/proc/cpuinfo`` as a dict (empty if absent)."""
    info = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.split("\n\n")[0].splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


def _max_freq_mhz():
    path = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    try:
        return int(path.read_text()) / 1000.0
    except (OSError, ValueError):
        return None


def cpu_peak(info=None, n_cores=None):
    """Theoretical fp32 (and bf16) peak of the CPU cores this process may use.

    ``peak = cores x clock x FMA units x fp32 lanes per unit x 2`` (an FMA is
    a multiply and an add). The lanes per unit are those of the *datapath*,
    which is not always the instruction width: AMD Zen 4 (family 25 with
    AVX-512) executes each 512-bit instruction as two 256-bit halves on its
    two 256-bit FMA pipes, so it has 2 x 8 fp32 lanes per cycle, not 2 x 16.
    ``avx512_bf16`` (``VDPBF16PS``) does two bf16 products per fp32 lane, so
    its peak is twice the fp32 one; AMX would be far higher.

    Parameters
    ----------
    info : dict, default=None
        ``/proc/cpuinfo`` fields (default: read them).
    n_cores : int, default=None
        Cores (default: ``len(os.sched_getaffinity(0))``).

    Returns
    -------
    dict
        Model, clock, flags, the factors and the peaks (GFLOP/s), and
        ``formula``, a sentence saying how the peak was computed.
    """
    info = _cpuinfo() if info is None else info
    if n_cores is None:
        try:
            n_cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            n_cores = os.cpu_count() or 1
    flags = set(info.get("flags", "").split())
    mhz = float(info.get("cpu MHz", 0.0) or 0.0)
    max_mhz = _max_freq_mhz()
    vendor = info.get("vendor_id", "")
    family = int(info.get("cpu family", 0) or 0)
    model = int(info.get("model", 0) or 0)
    if "avx512f" in flags:
        isa = "AVX-512"
        width = 512
    elif "avx2" in flags or "avx" in flags:
        isa = "AVX2" if "avx2" in flags else "AVX"
        width = 256
    else:
        isa = "SSE"
        width = 128
    datapath = width
    note = ""
    if vendor == "AuthenticAMD" and family == 25 and width == 512:
        datapath = 256
        note = (
            "AMD Zen 4 splits every 512-bit instruction into two 256-bit "
            "halves, so its datapath is 256 bits wide"
        )
    fma_units = 2 if ("fma" in flags or width == 512) else 1
    flops_per_fma = 2 if ("fma" in flags or width == 512) else 1
    lanes = datapath // 32
    ghz = mhz / 1000.0
    peak = n_cores * ghz * fma_units * lanes * flops_per_fma
    bf16 = "avx512_bf16" in flags
    amx = sorted(f for f in flags if f.startswith("amx"))
    formula = (
        f"{n_cores} cores x {ghz:.2f} GHz x {fma_units} FMA units x {lanes} fp32 "
        f"lanes ({datapath}-bit datapath, {isa}) x {flops_per_fma} flops per FMA "
        f"= {peak:.0f} GFLOP/s"
    )
    return {
        "model_name": info.get("model name", platform.processor() or "unknown"),
        "vendor": vendor,
        "family": family,
        "model": model,
        "cores": n_cores,
        "cpu_mhz": mhz,
        "max_mhz": max_mhz,
        "isa": isa,
        "instruction_bits": width,
        "datapath_bits": datapath,
        "fma_units": fma_units,
        "fp32_lanes": lanes,
        "flops_per_fma": flops_per_fma,
        "fp32_peak_gflops": peak,
        "avx512_bf16": bf16,
        "amx": amx,
        "bf16_peak_gflops": 2 * peak if bf16 else None,
        "vector_flags": sorted(
            f for f in flags if f.startswith(("avx", "fma", "amx"))
        ),
        "note": note,
        "formula": formula,
    }


def sgemm_gflops(n=2048, repeat=5):
    """Achieved GFLOP/s of a float32 matrix product (numpy's BLAS, all cores).

    A practical ceiling to set against the theoretical peak: a well-tuned
    SGEMM reaches most of what the cores can really do, including any clock
    boost above the nominal frequency that ``/proc/cpuinfo`` reports.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(timed(np.matmul, a, b)[0] for _ in range(repeat))
    return 2.0 * n**3 / best / 1e9


def machine():
    """Everything worth recording about the machine and the software."""
    import numpy as np

    out = {"cpu": cpu_peak()}
    out["sgemm_gflops"] = sgemm_gflops()
    try:
        import psutil

        out["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        out["memory_gib"] = None
    try:
        hv = "hypervisor" in _cpuinfo().get("flags", "").split()
    except OSError:  # pragma: no cover
        hv = None
    out["virtual_machine"] = hv
    out["os"] = f"{platform.system()} {platform.release()}"
    out["python"] = sys.version.split()[0]
    versions = {"numpy": np.__version__}
    for name in ("scipy", "sklearn", "skimage", "cv2", "keras", "tensorflow",
                 "scikeras", "dask", "distributed", "joblib"):
        mod = sys.modules.get(name)
        if mod is None:
            try:
                mod = __import__(name)
            except ImportError:
                continue
        versions[name] = getattr(mod, "__version__", "?")
    import skleuk

    versions["skleuk"] = skleuk.__version__
    out["versions"] = versions
    out["git_commit"] = _git_commit()
    return out


def _git_commit():
    """The repository's commit (with ``+dirty`` for uncommitted changes)."""
    import subprocess

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True,
                               check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return rev.strip() + ("+dirty" if dirty.strip() else "")


def load_average():
    """The 1-, 5- and 15-minute load averages."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
def write_json(name, data):
    """Write ``benchmarks/results/<name>.json``; return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=_jsonable) + "\n")
    return path


def _jsonable(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def print_table(header, rows, title=None):
    """Print rows as an aligned plain-text table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    if title:
        print(f"\n{title}")
    line = "  ".join("-" * w for w in widths)
    print(line)
    for i, r in enumerate(cells):
        print("  ".join(c.rjust(w) if j else c.ljust(w)
                        for j, (c, w) in enumerate(zip(r, widths, strict=True))))
        if i == 0:
            print(line)
    print(line, flush=True)
