"""Speed a user waits for: the default fit against the machine, side by side.

One run, one process, so that the ratios share the load of the moment; rates
per CPU-second (the process's, all threads) beside the wall-clock ones:
matrix products (numpy float32 SGEMM, TensorFlow float32 and bfloat16, before
and after the rest); the default recipe's ``cnn`` step fitted on as many
synthetic images as one training fold of the 5-fold evaluation of 260 (208),
GFLOP/s counting a step as three forward passes; ``predict_proba`` with and
without test-time augmentation; a TensorFlow-profiler profile of a fit and of
predictions, per part of the network; screening one 2592x1944 smear file
(``bench_screening``'s BCCD mosaic) end to end and locating its cells alone;
``skleuk predict`` on many files in fresh processes, with and without its
image check (images/s and CPU-ms per image after start-up, peak memory).
"""

from __future__ import annotations

import collections
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import list_table, load_average, timed
from .bench_screening import make_smear
from .stamp import REPO_ROOT

NEEDS = ("bccd",)
#: Training images of one fold of the default 5-fold evaluation of 260.
N_FIT = 208
TRAIN_FLOP_FACTOR = 3


def matmul_rates(n=2048, repeat=5):
    """GFLOP/s (best of ``repeat``, per wall and per CPU second) of numpy
    float32 and TensorFlow float32/bfloat16 products."""
    import tensorflow as tf

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    mm = tf.function(lambda x: tf.cast(tf.matmul(x, x)[0, 0], tf.float32))
    funcs = {"numpy_float32": lambda: a @ a}
    for name, dtype in (("tf_float32", tf.float32), ("tf_bfloat16", tf.bfloat16)):
        funcs[name] = lambda x=tf.cast(tf.constant(a), dtype): mm(x).numpy()
    out = {}
    for name, f in funcs.items():
        f()
        runs = [_wall_cpu(f, 1) for _ in range(repeat)]
        out[name], out[name + "_per_cpu_s"] = (2.0 * n**3 / min(t) / 1e9
                                               for t in zip(*runs, strict=True))
    return out


def default_fit_rates(X, y, epochs, seed=0, trace_dir=None):
    """Images/s and per CPU-second of the default recipe's ``cnn`` step
    fitted on ``X`` (the median epoch after the first); and the fitted step.
    ``trace_dir``: TensorFlow's profiler traces the epochs after the first."""
    import keras
    import tensorflow as tf

    from skleuk import make_pipeline

    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1 and trace_dir:
                tf.profiler.experimental.start(trace_dir)
            self.start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            if epoch:
                times.append((time.perf_counter() - self.start[0],
                              time.process_time() - self.start[1]))
            if epoch == epochs - 1 and trace_dir:
                tf.profiler.experimental.stop()

    clf = make_pipeline(cnn__random_state=seed)[-1]
    clf.set_params(epochs=epochs, fit__callbacks=[Timer()])
    clf.fit(X, y)
    wall, cpu = (statistics.median(t) for t in zip(*times, strict=True))
    return len(X) / wall, len(X) / cpu, clf


def _wall_cpu(func, repeat):
    """Median wall and CPU seconds of ``repeat`` calls of ``func``."""
    wall, cpu = [], []
    for _ in range(repeat):
        c = time.process_time()
        wall.append(timed(func)[0])
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def predict_rates(clf, X, repeat=3):
    """Images/s and per CPU-second of ``predict_proba``, with and without
    test-time augmentation."""
    out = {}
    for key, tta in (("no_tta", False), ("tta", True)):  # ends as it was: tta=True
        clf.set_params(tta=tta).predict_proba(X[:32])
        wall, cpu = _wall_cpu(lambda: clf.predict_proba(X), repeat)
        out[key], out[key + "_per_cpu_s"] = len(X) / wall, len(X) / cpu
    return out


#: Parts of the network, first match of the op's name wins.
PARTS = (
    ("augmentation layers", ("augment_",)),
    ("convolutions, backward", ("Conv2DBackprop",)),
    ("ReLU gradients", ("ReluGrad",)),
    ("convolutions, forward", ("FusedConv2D", "Conv2D")),
    ("pooling", ("pool",)),
    ("batch norm", ("batch_norm", "FusedBatchNorm")),
    ("optimizer", ("adam", "Adam", "AssignSub", "AssignAdd")),
    ("dtype casts", ("Cast",)),
    ("dense head and loss", ("dense", "probabilities", "dropout", "softmax", "loss",
                             "Softmax", "crossentropy")),
    ("test-time views", ("Reverse", "transpose", "concat", "Mean", "Reshape")),
)


def _trace(logdir):
    """Per-op total milliseconds of the TensorFlow ops of a profile."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    per_op = collections.Counter()
    for f in glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True):
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(f).read_bytes())
        for plane in space.planes:
            for ev in (e for line in plane.lines if line.name.startswith("tf_Compute")
                       for e in line.events):
                name = plane.event_metadata[ev.metadata_id].name
                if ":" in name and "::" not in name:  # "<op name>:<op type>"
                    per_op[name] += ev.duration_ps / 1e9
    return per_op


def _by_part(per_op, n):
    """Milliseconds per step of each part (the first of ``PARTS`` whose key
    is in the op's name)."""
    parts = collections.Counter()
    for name, ms in per_op.items():
        part = next((p for p, keys in PARTS if any(k in name for k in keys)),
                    "other ops")
        parts[part] += ms / n
    return {k: round(v, 3) for k, v in parts.most_common()}


def profile(X, y, epochs=2, seed=0):
    """Op time per part of ``epochs`` epochs of a default fit on ``X`` (after
    the first) and of its predictions with test-time augmentation, per step
    (batch), beside the wall and CPU time (ops run on several threads)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu, clf = default_fit_rates(X, y, epochs + 1, seed, f"{tmp}/fit")
        per_epoch = -(-len(X) // clf.batch_size)
        steps = epochs * per_epoch
        fit_ops = _trace(f"{tmp}/fit")
        clf.predict_proba(X)
        tf.profiler.experimental.start(f"{tmp}/predict")
        reps = 3
        pred_wall = reps * _wall_cpu(lambda: clf.predict_proba(X), reps)[0]
        tf.profiler.experimental.stop()
        pred_ops = _trace(f"{tmp}/predict")
    batches = reps * per_epoch
    return {
        "train_steps": steps, "batch_size": clf.batch_size,
        "train_wall_ms_per_step": 1e3 * len(X) / wall / per_epoch,
        "train_cpu_ms_per_step": 1e3 * len(X) / cpu / per_epoch,
        "train_ops_ms_per_step": sum(fit_ops.values()) / steps,
        "train_parts_ms_per_step": _by_part(fit_ops, steps),
        "train_top_ops": {k: round(v / steps, 3) for k, v in fit_ops.most_common(12)},
        "predict_batches": batches,
        "predict_wall_ms_per_batch": 1e3 * pred_wall / batches,
        "predict_ops_ms_per_batch": sum(pred_ops.values()) / batches,
        "predict_parts_ms_per_batch": _by_part(pred_ops, batches),
    }


def screen_time(bccd, repeat=3, seed=0):
    """Seconds (wall, CPU) to screen ``bench_screening``'s 2592x1944 smear
    file with the default cell pipeline, and to locate its cells alone."""
    import warnings

    from PIL import Image

    from skleuk import make_pipeline
    from skleuk.datasets import read_image
    from skleuk.screening import SmearScreener, locate_white_cells

    smear, files = make_smear(bccd)
    screener = SmearScreener(make_pipeline(cnn__epochs=1, cnn__random_state=seed),
                             aggregation="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screener.fit([read_image(f) for f in files[:8]], [0, 1] * 4)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "smear.jpg"
        Image.fromarray(smear).save(path, quality=95)
        res = screener.screen([path])[0]
        wall, cpu = _wall_cpu(lambda: screener.screen([path]), repeat)
    loc_wall, loc_cpu = _wall_cpu(lambda: locate_white_cells(smear), repeat)
    return {"seconds": wall, "cpu_seconds": cpu, "n_cells": int(len(res.centres)),
            "locate_seconds": loc_wall, "locate_cpu_seconds": loc_cpu}


def _peak_run(cmd):
    """Run ``cmd``; return (wall s, CPU s, peak RSS MiB, stdout): the child's
    CPU time from wait4, its peak from /proc (VmHWM; wait4's maxrss would
    count the parent's memory copied at fork)."""
    start, peak, flags = time.perf_counter(), 0.0, os.WEXITED | os.WNOHANG | os.WNOWAIT
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL,
                                cwd=REPO_ROOT,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        while os.waitid(os.P_PID, proc.pid, flags) is None:  # until it exits
            with open(f"/proc/{proc.pid}/status") as f:
                peak = max([peak] + [int(s.split()[1]) / 1024 for s in f
                                     if s.startswith("VmHWM:")])
            time.sleep(0.02)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(cmd)} failed ({status})")
    return wall, usage.ru_utime + usage.ru_stime, peak, text


def cli_memory(counts, seed=0, distinct=200):
    """Peak RSS and images/s of ``skleuk predict`` on ``counts`` PNG files,
    with its image check (the default) and with ``--no-image-check``."""
    from PIL import Image

    from skleuk import make_pipeline
    from skleuk.cli import save_model
    from skleuk.datasets import make_blood_smears

    X, y = make_blood_smears(distinct, image_size=257, random_state=seed,
                             return_X_y=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = [tmp / f"src{i:04d}.png" for i in range(distinct)]
        for path, img in zip(src, X, strict=True):
            Image.fromarray(img).save(path, compress_level=1)
        model = tmp / "model.joblib"
        pipe = make_pipeline(reader=True, cnn__epochs=1, cnn__random_state=seed)
        pipe.fit(np.asarray([str(p) for p in src], dtype=object), y)
        save_model(pipe, model, target_names=["healthy", "ALL"], input_kind="paths")
        for n in counts:
            (tmp / f"n{n}").mkdir()
            for i in range(n):
                os.link(src[i % distinct], tmp / f"n{n}" / f"{i:05d}.png")
            for check in (True, False):
                cmd = [sys.executable, "-m", "skleuk.cli", "predict", str(model),
                       str(tmp / f"n{n}"), "--quiet", "--format", "csv"]
                wall, cpu, peak, text = _peak_run(cmd + ([] if check else
                                                         ["--no-image-check"]))
                if len(text.strip().splitlines()) - 1 != n:
                    raise RuntimeError(f"skleuk predict did not answer for {n} files")
                rows.append({"n_files": n, "image_check": check, "peak_mib": peak,
                             "wall_s": wall, "cpu_s": cpu})
    for check in (True, False):  # after start-up: the difference of the two counts
        same = [r for r in rows if r["image_check"] == check]
        a, b = same[0], same[-1]
        n = b["n_files"] - a["n_files"]
        b["images_per_s_after_start"] = n / max(b["wall_s"] - a["wall_s"], 1e-9)
        b["cpu_ms_per_image_after_start"] = 1e3 * (b["cpu_s"] - a["cpu_s"]) / n
    return rows


def ratios(res):
    """The figures of merit of a run, against the better of the two matrix
    products (the machine when other jobs left it the most): conservative."""
    best = {k: max(r[k] for r in res["matmul_gflops"]) for k in res["matmul_gflops"][0]}
    flops = TRAIN_FLOP_FACTOR * res["flops_per_image"] / 1e9
    train = flops * statistics.median(res["estimator_images_per_s"])
    train_cpu = flops * statistics.median(res["estimator_images_per_cpu_s"])
    return {
        "train_gflops": train,
        "train_over_sgemm": train / best["numpy_float32"],
        "train_gflop_per_cpu_s": train_cpu,
        "train_over_sgemm_per_cpu_s": train_cpu / best["numpy_float32_per_cpu_s"],
        "train_over_bf16_matmul": train / best["tf_bfloat16"],
        "bf16_over_f32_matmul": best["tf_bfloat16"] / best["tf_float32"],
    }


def run(data, *, quick=False, seed=0):
    """Everything above, in one process; ratios against the same run's rates."""
    from skleuk import DEFAULT_IMAGE_SIZE, make_pipeline
    from skleuk.neural_network import count_flops

    epochs, fits = (3, 1) if quick else (6, 2)
    size = DEFAULT_IMAGE_SIZE
    res = {"load_average_start": load_average(), "cpu_count": os.cpu_count(),
           "quick": quick, "n_fit_images": N_FIT, "size": size, "epochs_timed":
           epochs - 1, "default_epochs": int(make_pipeline()[-1].epochs)}
    rates = [matmul_rates()]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_FIT, size, size, 3), dtype=np.float32)
    y = np.arange(N_FIT) % 2
    *fit, clf = zip(*[default_fit_rates(X, y, epochs, seed) for _ in range(fits)],
                    strict=True)
    clf = clf[-1]
    res.update(flops_per_image=count_flops(clf.model_), batch_size=clf.batch_size,
               dtype_policy=clf.dtype_policy_, architecture=clf.architecture,
               estimator_images_per_s=list(fit[0]),
               estimator_images_per_cpu_s=list(fit[1]),
               predict_images_per_s=predict_rates(clf, X),
               profile=profile(X, y, seed=seed),
               screen=screen_time(data["bccd"], repeat=2 if quick else 5, seed=seed))
    print(f"  fits {fit}, screen {res['screen']}", flush=True)
    res["cli_predict"] = cli_memory((100, 400) if quick else (500, 2000), seed=seed)
    rates.append(matmul_rates())
    res["matmul_gflops"] = rates
    res["load_average_end"] = load_average()
    res["ratios"] = ratios(res)
    print("  ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in res["ratios"].items()),
          flush=True)
    return res


def _f(x, d=0):
    return f"{x:,.{d}f}"


def _met(ok):
    return "met" if ok else "**not met**"


def _cli_rate(c):
    return (f"{_f(c['images_per_s_after_start'])} images/s, "
            f"{c['cpu_ms_per_image_after_start']:.1f} CPU-ms/image")


def _targets(r):
    """The targets of the speed issue against this run (a table)."""
    q, s = r["ratios"], r["screen"]
    checked, unchecked = ([c for c in r["cli_predict"] if c["image_check"] is k]
                          for k in (True, False))
    cli = checked[-1]
    epochs = r["default_epochs"]
    five_fold = 5 * epochs * N_FIT / statistics.median(r["estimator_images_per_s"]) / 60
    flat = max(c["peak_mib"] for c in checked) / min(c["peak_mib"] for c in checked)
    rows = [
        ["training GFLOP/s / SGEMM", ">= 1.2", f"{q['train_over_sgemm']:.2f} "
         f"(per CPU-second: {q['train_over_sgemm_per_cpu_s']:.2f})",
         _met(q["train_over_sgemm"] >= 1.2)],
        ["default 5-fold evaluation, 260 images", "<= 2.5 min",
         f"{five_fold:.1f} min (training only, from the fit rate: 5 x {epochs} "
         f"epochs x {N_FIT} images)", _met(five_fold <= 2.5)],
        ["``skleuk predict`` with TTA", ">= 400 images/s", f"{_cli_rate(cli)} "
         f"({_cli_rate(unchecked[-1])} with ``--no-image-check``)",
         _met(cli["images_per_s_after_start"] >= 400)],
        [f"``skleuk predict`` memory, {checked[0]['n_files']:,} to "
         f"{cli['n_files']:,} files", "flat", f"peak x {flat:.2f}", _met(flat < 1.1)],
        ["screening one 2592x1944 smear", "<= 0.3 s", f"{s['seconds']:.2f} s "
         f"({s['cpu_seconds']:.2f} CPU-s)", _met(s["seconds"] <= 0.3)],
    ]
    return "The speed targets, this run:\n\n" + list_table(
        ["target", "wanted", "measured", ""], rows)


def render(results, out):
    """``performance_speed.rst`` and ``performance_profile.rst`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    r, q, s = results, results["ratios"], results["screen"]
    rates, pred = r["matmul_gflops"], r["predict_images_per_s"]
    load, end = r["load_average_start"], r["load_average_end"]
    stamp = " ".join(str(r[k]) for k in ("version", "commit", "date") if k in r)

    def all_of(values, d=0):
        return " / ".join(_f(v, d) for v in values)

    rows = [[f"matrix product, {name}", all_of(x[k] for x in rates), "GFLOP/s", ratio]
            for k, name, ratio in (
                ("numpy_float32", "numpy float32 (SGEMM)", "1"),
                ("tf_float32", "TensorFlow float32", ""),
                ("tf_bfloat16", "TensorFlow bfloat16",
                 f"{q['bf16_over_f32_matmul']:.2f} x TF float32"))]
    rows += [
        [f"default fit ({r['architecture']}, batch {r['batch_size']}, "
         f"{r['dtype_policy']})", _f(q["train_gflops"]), "GFLOP/s",
         f"**{q['train_over_sgemm']:.2f}** x SGEMM, "
         f"{q['train_over_bf16_matmul']:.2f} x bf16 matmul"],
        ["default fit, per CPU-second (all threads)", _f(q["train_gflop_per_cpu_s"]),
         "GFLOP/CPU-s", f"**{q['train_over_sgemm_per_cpu_s']:.2f}** x SGEMM per "
         "CPU-s (" + all_of(x["numpy_float32_per_cpu_s"] for x in rates) + ")"],
        ["default fit", all_of(r["estimator_images_per_s"]), "images/s",
         all_of(r["estimator_images_per_cpu_s"]) + " per CPU-s"],
    ]
    rows += [[f"``predict_proba``, {'' if k == 'tta' else 'no '}test-time augmentation",
              _f(pred[k]), "images/s", f"{_f(pred[k + '_per_cpu_s'])} per CPU-s"]
             for k in ("tta", "no_tta")]
    rows.append([f"screening one 2592x1944 smear ({s['n_cells']} cells)",
                 _f(s["seconds"], 2), "s", f"{s['cpu_seconds']:.2f} CPU-s; locating "
                 f"the cells: {s['locate_seconds']:.2f} s "
                 f"({s['locate_cpu_seconds']:.2f} CPU-s)"])
    for check in (True, False):
        runs = [c for c in r["cli_predict"] if c["image_check"] == check]
        rows.append([f"``skleuk predict``{'' if check else ', --no-image-check'}",
                     _f(runs[-1]["images_per_s_after_start"]), "images/s",
                     f"{runs[-1]['cpu_ms_per_image_after_start']:.1f} CPU-ms/image; "
                     f"peak {' / '.join(_f(c['peak_mib']) for c in runs)} MiB"])
    text = (
        "One run of ``python -m benchmarks.run --only speed`` "
        f"({'quick, ' if r['quick'] else ''}{r['cpu_count']} CPUs; 1/5/15-minute "
        f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the start, "
        f"{end[0]:.1f}/{end[1]:.1f}/{end[2]:.1f} at the end"
        f"{'; ' + stamp if stamp else ''}). Fits: {r['n_fit_images']} synthetic "
        f"images of {r['size']} px, the median of {r['epochs_timed']} epochs after "
        f"the first per fit, each fit shown; a training step counted as "
        f"{TRAIN_FLOP_FACTOR} forward passes of {r['flops_per_image'] / 1e6:.1f} "
        "MFLOP. Matrix products before / after the rest; ratios against the "
        "higher of the two. Screening: the median of the runs after a warm-up.\n\n"
        + list_table(["measure", "value", "unit", "ratio"], rows) + "\n" + _targets(r))
    speed = out / "performance_speed.rst"
    speed.write_text(text)
    p = r["profile"]
    train, pred = p["train_parts_ms_per_step"], p["predict_parts_ms_per_batch"]
    parts = [k for k, _ in PARTS] + ["other ops"]
    prow = [[k, f"{train.get(k, 0):.2f}", f"{pred.get(k, 0):.2f}"] for k in parts
            if train.get(k) or pred.get(k)]
    prow += [["**sum of op times**", f"{p['train_ops_ms_per_step']:.2f}",
              f"{p['predict_ops_ms_per_batch']:.2f}"],
             ["**CPU time of the process** (all threads)",
              f"{p['train_cpu_ms_per_step']:.2f}", "--"],
             ["**wall time**", f"{p['train_wall_ms_per_step']:.2f}",
              f"{p['predict_wall_ms_per_batch']:.2f}"]]
    prof = out / "performance_profile.rst"
    prof.write_text(
        f"TensorFlow's profiler over {p['train_steps']} training steps of the "
        f"default fit (batches of {p['batch_size']}) and {p['predict_batches']} "
        "predicted batches with test-time augmentation, same run as the table "
        "above; milliseconds of op time per step (per batch), summed over "
        "TensorFlow's threads (an op's wall-clock span on its thread, which "
        "other jobs' preemption stretches: compare the parts with each other)."
        "\n\n"
        + list_table(["part", "training, ms/step", "prediction, ms/batch"], prow))
    return [speed, prof]
