"""Memory: peak resident set size of training, and of ``skleuk predict``.

Every measurement runs in a fresh child process, whose peak RSS (``VmHWM``
in ``/proc/<pid>/status``, the high-water mark of its own memory) is polled
while it runs, so nothing of this process is counted.

* ``import``: a Python that imports skleuk's classifier (TensorFlow) and
  does nothing else -- the floor of every skleuk process.
* ``train``: fitting the pipeline on 260 synthetic 257x257 images (held in
  memory as uint8, as :func:`~skleuk.datasets.load_all_idb` returns them).
* ``predict``: the ``skleuk predict`` command over folders of 1,000 and
  10,000 PNG files (257 px; written once into a cache folder) with a small
  trained model saved as a file; the command reads and classifies
  ``--batch-size`` images at a time, so its peak must not grow with the
  number of files.
* ``large``: ``skleuk predict`` on one 10000x10000 PNG and one 20000x20000
  TIFF (written into a temporary folder and deleted afterwards), with the
  default pixel limit (both must be refused before decoding, at the import
  floor) and, for the PNG, with the limit raised; and ``read_images`` of a
  10000x10000 JPEG at full resolution against ``size=32`` (reduced-resolution
  decoding). Run it alone with ``python -m benchmarks.bench_memory --large``.
* ``screen``: ``skleuk screen`` (overlays on, progress bar on) over folders
  of 100 and 1,000 smear files (links to the 170 BCCD photographs, 640x480)
  and of 20 and 100 links to one 2592x1944 smear (4x4 BCCD photographs),
  with a screening model trained for one epoch (only memory and time
  matter); the command screens one smear at a time, so its peak must not
  grow with the number of files. ``python -m benchmarks.bench_memory
  --screen``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import REPO_ROOT, print_table

#: Distinct images written; file ``i`` holds image ``i % N_DISTINCT``.
N_DISTINCT = 500


def _peak_rss_mib(pid):
    """The process's peak RSS so far (``VmHWM``), in MiB; None once it is gone.

    ``VmHWM`` is the high-water mark of the process's own memory map, which
    ``exec`` resets. (``ru_maxrss`` is not usable here: a child inherits the
    high-water mark of the parent it was forked from, and this parent holds
    TensorFlow.)
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:  # gone, or no psutil
        return None


def _run_measured(cmd, env=None, stdout=subprocess.DEVNULL, interval=0.02,
                  check=True):
    """Run ``cmd``; return ``(exit code, wall s, peak RSS MiB, stdout text)``.

    The peak is polled every ``interval`` seconds from ``/proc`` while the
    child runs (a high-water mark, so only the last ``interval`` can be
    missed).
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    out_file = tempfile.TemporaryFile() if stdout is subprocess.PIPE else None
    err_file = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=out_file if out_file else stdout, stderr=err_file,
        env=env, cwd=REPO_ROOT,
    )
    peak = 0.0
    while proc.poll() is None:
        value = _peak_rss_mib(proc.pid)
        if value is not None:
            peak = max(peak, value)
        time.sleep(interval)
    wall = time.perf_counter() - start
    err_file.seek(0)
    stderr = err_file.read().decode(errors="replace")
    err_file.close()
    text = ""
    if out_file is not None:
        out_file.seek(0)
        text = out_file.read().decode()
        out_file.close()
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{stderr[-2000:]}"
        )
    if not check:
        return proc.returncode, wall, peak, text, stderr
    return proc.returncode, wall, peak, text


def _child(code):
    return [sys.executable, "-c", code]


IMPORT_CODE = "import skleuk.neural_network"

TRAIN_CODE = """
import json, sys
import numpy as np
from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
arch, size, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X, y = make_blood_smears(260, image_size=257, random_state=0, return_X_y=True)
def hwm():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM:"))
before = hwm()
pipe = make_pipeline(image_size=size, architecture=arch, cnn__epochs=epochs,
                     cnn__random_state=0)
# What Pipeline.fit does, in two parts to see where the peak is reached.
Xt = pipe[:-1].fit_transform(X)
after_pre = hwm()
pipe[-1].fit(Xt, y)
print(json.dumps({"peak_before_fit_mib": before,
                  "peak_after_preprocessing_mib": after_pre,
                  "peak_after_fit_mib": hwm(), "data_mib": X.nbytes / 2**20}))
"""


def write_image_files(folder, n, image_size=257, random_state=0):
    """Write ``n`` PNG files (two classes, in sub-folders) unless present.

    Returns the sorted list of paths and their labels.
    """
    from PIL import Image

    from skleuk.datasets import make_blood_smears

    folder = Path(folder)
    stamp = folder / f".complete-{n}-{image_size}"
    names = [f"{i:05d}.png" for i in range(n)]
    if not stamp.exists():
        images, labels = make_blood_smears(
            min(n, N_DISTINCT), image_size=image_size, random_state=random_state,
            return_X_y=True,
        )
        for cls in (0, 1):
            (folder / f"class{cls}").mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            k = i % len(images)
            Image.fromarray(images[k]).save(
                folder / f"class{labels[k]}" / name, compress_level=1
            )
        stamp.touch()
    paths, labels = [], []
    for cls in (0, 1):
        for p in sorted((folder / f"class{cls}").glob("*.png")):
            paths.append(str(p))
            labels.append(cls)
    return paths, np.array(labels)


def link_subset(paths, labels, folder, n):
    """Hard-link the first ``n`` files (by name) into ``folder``."""
    folder = Path(folder)
    order = np.argsort([Path(p).name for p in paths])[:n]
    for i in order:
        dst = folder / f"class{labels[i]}" / Path(paths[i]).name
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(paths[i], dst)
            except OSError:
                import shutil

                shutil.copyfile(paths[i], dst)
    return folder


def default_model_name():
    """File name of the predict model: the default recipe, hashed, so that a
    model cached under another recipe is never measured."""
    import hashlib

    from skleuk._pipeline import RECIPES

    key = hashlib.sha1(repr(RECIPES["default"]).encode()).hexdigest()[:10]
    return f"model-default-{key}.joblib"


def train_model_file(paths, labels, path):
    """Train the default file-path pipeline (2 epochs) for ``skleuk predict``."""
    from skleuk import make_pipeline
    from skleuk.cli import save_model

    rng = np.random.default_rng(0)
    idx = rng.permutation(len(paths))[:200]
    pipe = make_pipeline(reader=True, cnn__epochs=2, cnn__random_state=0)
    pipe.fit(np.asarray(paths, dtype=object)[idx], labels[idx])
    save_model(pipe, path, target_names=["healthy", "ALL"], input_kind="paths")
    return path


def run(cache_dir, counts=(1000, 10000), train_configs=(("paper", 48),),
        train_epochs=3, batch_size=32):
    """Measure the peaks; return the results dict."""
    cache_dir = Path(cache_dir)
    out = {"counts": list(counts), "batch_size": batch_size}

    _, wall, peak, _ = _run_measured(_child(IMPORT_CODE))
    out["import_peak_mib"] = peak
    print(f"  import skleuk.neural_network: {peak:.0f} MiB", flush=True)

    out["train"] = []
    for arch, size in train_configs:
        _, wall, peak, text = _run_measured(
            _child(TRAIN_CODE) + [arch, str(size), str(train_epochs)],
            stdout=subprocess.PIPE,
        )
        info = json.loads(text.strip().splitlines()[-1])
        out["train"].append({
            "architecture": arch, "size": size, "epochs": train_epochs,
            "n_images": 260, "peak_mib": peak, "wall_s": wall, **info,
        })
        print(f"  train {arch}@{size}: peak {peak:.0f} MiB", flush=True)

    files_dir = cache_dir / "files"
    start = time.perf_counter()
    paths, labels = write_image_files(files_dir / f"n{max(counts)}", max(counts))
    out["file_generation_s"] = time.perf_counter() - start
    model = cache_dir / default_model_name()
    if not model.exists():
        train_model_file(paths, labels, model)
    from skleuk._pipeline import RECIPES

    recipe = RECIPES["default"]
    tta = ", test-time augmentation" if recipe["params"].get("cnn__tta") else ""
    out["model"] = (
        f"make_pipeline(reader=True): the default recipe ({recipe['architecture']} "
        f"network at {recipe['image_size']} px{tta}), trained 2 epochs")
    out["predict"] = []
    for n in counts:
        folder = files_dir / f"n{n}"
        if n != max(counts):
            link_subset(paths, labels, folder, n)
        cmd = [sys.executable, "-m", "skleuk.cli", "predict", str(model),
               str(folder), "--quiet", "--format", "csv",
               "--batch-size", str(batch_size)]
        _, wall, peak, text = _run_measured(cmd, stdout=subprocess.PIPE)
        n_rows = len(text.strip().splitlines()) - 1
        if n_rows != n:
            raise RuntimeError(f"skleuk predict wrote {n_rows} rows for {n} files")
        out["predict"].append({"n_files": n, "peak_mib": peak, "wall_s": wall,
                               "images_per_s": n / wall})
        print(f"  skleuk predict {n} files: peak {peak:.0f} MiB, {wall:.0f} s",
              flush=True)
    return out


def print_results(res):
    """Print the memory table."""
    rows = [["python -c 'import skleuk.neural_network'", "-",
             f"{res['import_peak_mib']:.0f}", "-"]]
    for r in res["train"]:
        rows.append([f"fit make_pipeline({r['architecture']}@{r['size']}), "
                     f"{r['epochs']} epochs", str(r["n_images"]),
                     f"{r['peak_mib']:.0f}", f"{r['wall_s']:.0f}"])
    for r in res["predict"]:
        rows.append([f"skleuk predict (--batch-size {res['batch_size']})",
                     f"{r['n_files']:,}", f"{r['peak_mib']:.0f}",
                     f"{r['wall_s']:.0f}"])
    print_table(["process", "images", "peak RSS (MiB)", "wall (s)"], rows,
                title="Peak memory (resident set size) of a child process")


READ_CODE = """
import sys
from skleuk.datasets import read_image, read_images
path, size = sys.argv[1], sys.argv[2]
out = read_image(path) if size == "full" else read_images([path], int(size))
print(out.shape)
"""


def write_large_images(folder):
    """A 10000x10000 PNG and JPEG and a 20000x20000 tiled TIFF in ``folder``."""
    import tifffile
    from PIL import Image

    folder = Path(folder)
    side = 10000
    yy, xx = np.mgrid[0:side, 0:side // 10]  # a smooth picture, built in strips
    strip = np.stack([(xx * 7) % 256, (yy // 40) % 256, (xx + yy // 40) % 256],
                     -1).astype(np.uint8)
    big = np.tile(strip, (1, 10, 1))
    del yy, xx, strip
    png, jpg, tif = folder / "big.png", folder / "big.jpg", folder / "huge.tif"
    Image.fromarray(big).save(png, compress_level=1)
    Image.fromarray(big).save(jpg, quality=90)
    del big
    with tifffile.TiffWriter(tif) as tw:
        tw.write(shape=(20000, 20000), dtype=np.uint8, compression="zlib",
                 tile=(1024, 1024),
                 data=(np.zeros((1024, 1024), np.uint8) for _ in range(400)))
    return {"png": png, "jpg": jpg, "tif": tif}


def run_large(model, tmp_root=None):
    """Peak RSS of ``skleuk predict`` and ``read_images`` on huge images."""
    rows = []
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        files = write_large_images(tmp)
        sizes = {k: os.path.getsize(v) for k, v in files.items()}
        cases = [
            ("predict", "png", "10000x10000 PNG", {}),
            ("predict", "tif", "20000x20000 TIFF", {}),
            ("predict", "png", "10000x10000 PNG, limit raised to 200 MP",
             {"SKLEUK_MAX_IMAGE_PIXELS": "200000000"}),
            ("read", "jpg", "10000x10000 JPEG, read_image (full resolution)",
             {"SKLEUK_MAX_IMAGE_PIXELS": "200000000"}),
            ("read", "jpg", "10000x10000 JPEG, read_images(size=32)",
             {"SKLEUK_MAX_IMAGE_PIXELS": "200000000"}),
            ("read", "png", "10000x10000 PNG, read_images(size=32)",
             {"SKLEUK_MAX_IMAGE_PIXELS": "200000000"}),
        ]
        for kind, key, label, env in cases:
            if kind == "predict":
                cmd = [sys.executable, "-m", "skleuk.cli", "predict", str(model),
                       str(files[key]), "--quiet"]
            else:
                size = "full" if "full" in label else "32"
                cmd = _child(READ_CODE) + [str(files[key]), size]
            rc, wall, peak, text, err = _run_measured(
                cmd, env=env, stdout=subprocess.PIPE, check=False)
            outcome = (text.strip().splitlines() or [""])[-1] if rc == 0 else (
                (err.strip().splitlines() or [""])[-1])
            rows.append({"case": label, "command": kind, "exit_code": rc,
                         "file_mib": sizes[key] / 2**20, "peak_mib": peak,
                         "wall_s": wall, "outcome": outcome[:300]})
            print(f"  {label}: exit {rc}, peak {peak:.0f} MiB, {wall:.1f} s -- "
                  f"{outcome[:120]}", flush=True)
    return rows


def print_large(rows):
    """Print the large-image table."""
    print_table(
        ["case", "file (MiB)", "exit", "peak RSS (MiB)", "wall (s)"],
        [[r["case"], f"{r.get('file_mib', 0):.1f}", str(r["exit_code"]),
          f"{r['peak_mib']:.0f}", f"{r['wall_s']:.1f}"] for r in rows],
        title="Peak memory on huge images (child processes)",
    )


def train_screening_file(path, bccd):
    """A one-epoch SmearScreener on the BCCD photographs, saved for the CLI."""
    from skleuk import make_pipeline
    from skleuk.cli import save_model
    from skleuk.screening import SmearScreener

    files = sorted((Path(bccd) / "JPEGImages").glob("*.jpg"))[:40]
    y = np.arange(len(files)) % 2  # arbitrary labels: memory, not accuracy
    screener = SmearScreener(make_pipeline(cnn__epochs=1, cnn__random_state=0),
                             aggregation="mean", random_state=0)
    screener.fit([str(f) for f in files], y)
    save_model(screener, path, target_names=["healthy", "ALL"],
               input_kind="smears")
    return path


def run_screen(cache, counts=((100, 1000), (20, 100)), overlays=True):
    """Peak RSS and smears/s of ``skleuk screen`` on small and large smears."""
    from .bench_screening import BCCD, make_smear

    model = cache / "screener.joblib"
    if not model.exists():
        train_screening_file(model, BCCD)
    bccd = sorted((BCCD / "JPEGImages").glob("*.jpg"))
    big = cache / "smear_2592x1944.jpg"
    if not big.exists():
        from PIL import Image

        Image.fromarray(make_smear(BCCD)[0]).save(big, quality=92)
    rows = []
    for kind, sources, ns in (("640x480", bccd, counts[0]),
                              ("2592x1944", [big], counts[1])):
        for n in ns:
            folder = cache / f"smears_{kind}_{n}"
            if not folder.exists():
                folder.mkdir()
                for i in range(n):
                    src = sources[i % len(sources)]
                    os.symlink(src, folder / f"smear_{i:05d}{src.suffix}")
            out = cache / f"out_{kind}_{n}"
            extra = [] if overlays else ["--no-overlays"]
            code, wall, peak, _ = _run_measured(
                [sys.executable, "-m", "skleuk.cli", "screen", str(model),
                 str(folder), "--out", str(out), "--force", *extra])
            what = "" if overlays else ", no overlays"
            rows.append({"case": f"skleuk screen, {n} smears of {kind}{what}",
                         "n": n, "size": kind, "exit_code": code,
                         "peak_mib": peak, "wall_s": wall,
                         "smears_per_s": n / wall})
            print(f"  {rows[-1]['case']}: peak {peak:.0f} MiB, {wall:.0f} s "
                  f"({n / wall:.1f} smears/s)", flush=True)
    return rows


def _main_large(argv=None):  # pragma: no cover - a benchmark entry point
    import argparse

    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_memory")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--large", action="store_true",
                      help="measure only the huge-image cases")
    mode.add_argument("--screen", action="store_true",
                      help="measure only 'skleuk screen' on folders of smears")
    p.add_argument("--counts", default="100,1000;20,100", metavar="A,B;C,D",
                   help="--screen: smear counts, 640x480 then 2592x1944")
    p.add_argument("--no-overlays", action="store_true",
                   help="--screen: without the overlay figures")
    p.add_argument("--cache-dir",
                   default=str(Path(tempfile.gettempdir()) / "skleuk-bench"))
    args = p.parse_args(argv)
    if args.screen:
        cache = Path(args.cache_dir) / "screen"
        cache.mkdir(parents=True, exist_ok=True)
        counts = tuple(tuple(int(n) for n in part.split(",") if n)
                       for part in args.counts.split(";"))
        rows = run_screen(cache, counts, overlays=not args.no_overlays)
        print_large(rows)
        from ._common import load_average, write_json

        write_json("memory_screen", {"screen": rows, "overlays": not args.no_overlays,
                                     "load_average": load_average()})
        return rows
    cache = Path(args.cache_dir) / "large"
    cache.mkdir(parents=True, exist_ok=True)
    model = cache / default_model_name()
    if not model.exists():
        paths, labels = write_image_files(cache / "files", 60, image_size=64)
        train_model_file(paths, labels, model)
    rows = run_large(model)
    print_large(rows)
    from ._common import write_json

    write_json("memory_large", {"large_images": rows})


if __name__ == "__main__":  # pragma: no cover
    _main_large()
