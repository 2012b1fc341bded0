"""Speed a user waits for: the default fit against the machine, side by side.

One run, one process, so that the ratios share the load of the moment:

* the machine's **matrix-product rates**: numpy's float32 SGEMM and
  TensorFlow's float32 and bfloat16 ``matmul`` (oneDNN; AMX tiles where
  the CPU has them) on 2048x2048 matrices, before and after the rest;
* the **default fit**: the ``cnn`` step of :func:`skleuk.make_pipeline`
  (the default recipe: network, size, batch size, schedule, dtype policy)
  trained on synthetic standardised images of the default size, as many
  as one training fold of the 5-fold evaluation of 260 images (208);
  images/s from the epochs after the first (which traces the graph), and
  GFLOP/s counting a training step as three forward passes
  (:func:`skleuk.neural_network.count_flops`);
* the **bare Keras model**: the same network (``build_model``), optimizer,
  loss, batch size and op determinism, fitted by ``keras.Model.fit``,
  interleaved with the estimator's fits;
* **prediction**: ``predict_proba`` of the fitted classifier with and
  without test-time augmentation, and ``pipeline.predict`` on raw 257 px
  fields (the whole chain);
* a **profile** of one fit and one prediction: TensorFlow's profiler
  traces two epochs (and a few predictions); every op's time is summed per
  part of the network (convolutions forward and backward, their ReLU
  gradients, pooling, batch norm, augmentation layers, optimizer, dtype
  casts, head and loss), beside the wall time of a step;
* **screening** one 2592x1944 smear (a mosaic of synthetic fields, one
  white cell each) with the default cell pipeline, end to end;
* **memory** of ``skleuk predict`` on many files (fresh child processes;
  peak RSS from ``/proc``), which must not grow with the number of files.
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

from ._common import REPO_ROOT, list_table, load_average, timed

NEEDS = ()
#: Training images of one fold of the default 5-fold evaluation of 260.
N_FIT = 208
TRAIN_FLOP_FACTOR = 3
SMEAR_SHAPE = (1944, 2592)


# ---------------------------------------------------------------------------
# the machine
# ---------------------------------------------------------------------------
def matmul_rates(n=2048, repeat=5):
    """GFLOP/s of numpy float32 and TensorFlow float32/bfloat16 products."""
    import tensorflow as tf

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)

    out = {}

    def best(name, f):
        f()
        ts, cpu = [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            f()
            ts.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        out[name] = 2.0 * n**3 / min(ts) / 1e9
        out[name + "_per_cpu_s"] = 2.0 * n**3 / min(cpu) / 1e9

    best("numpy_float32", lambda: a @ a)
    mm = tf.function(lambda x: tf.cast(tf.matmul(x, x)[0, 0], tf.float32))
    for name, dtype in (("tf_float32", tf.float32), ("tf_bfloat16", tf.bfloat16)):
        x = tf.cast(tf.constant(a), dtype)
        best(name, lambda x=x: mm(x).numpy())
    return out


# ---------------------------------------------------------------------------
# fits
# ---------------------------------------------------------------------------
def _images(n, size, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, size, size, 3), dtype=np.float32), np.arange(n) % 2


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times, self.cpu_times = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start[0])
            self.cpu_times.append(time.process_time() - self._start[1])

    return EpochTimer()


def default_classifier(seed=0):
    """The ``cnn`` step of the default recipe."""
    from skleuk import make_pipeline

    return make_pipeline(cnn__random_state=seed)[-1]


def _rate(n, times):
    timed = times[1:] if len(times) > 1 else times
    return n / statistics.median(timed)


def estimator_rate(clf, X, y, epochs, cpu=None):
    """Images/s of ``clf.fit`` (epochs after the first); returns (rate, clf).

    ``cpu``: a list to which the images per CPU-second (of this process,
    all its threads) are appended.
    """
    timer = _epoch_timer()
    clf.set_params(epochs=epochs, fit__callbacks=[timer])
    clf.fit(X, y)
    if cpu is not None:
        cpu.append(_rate(len(X), timer.cpu_times))
    return _rate(len(X), timer.times), clf


def keras_rate(clf, X, y, epochs, seed=0, cpu=None):
    """Images/s of the same network fitted bare by ``keras.Model.fit``.

    Same network (``clf.build_model``), Adam at the recipe's learning rate,
    the label-smoothed cross-entropy, batch size and, as in a seeded fit,
    TensorFlow's op determinism.
    """
    import keras
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    try:
        model = clf.build_model(X.shape[1:], 2)
        model.compile(
            optimizer=keras.optimizers.Adam(clf.learning_rate or 0.001),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=clf.label_smoothing),
            metrics=["accuracy"],
        )
        timer = _epoch_timer()
        model.fit(X, np.eye(2, dtype=np.float32)[y], batch_size=clf.batch_size,
                  epochs=epochs, verbose=0, callbacks=[timer])
    finally:  # as after a seeded fit of the estimator
        tf_config.disable_op_determinism()
    if cpu is not None:
        cpu.append(_rate(len(X), timer.cpu_times))
    return _rate(len(X), timer.times)


def _seconds(func, repeat):
    """Wall seconds of ``repeat`` calls of ``func``."""
    return [timed(func)[0] for _ in range(repeat)]


def predict_rates(clf, X, repeat=3):
    """Images/s of ``predict_proba`` with and without test-time augmentation."""
    out = {}
    for tta in (True, False):
        clf.set_params(tta=tta)
        clf.predict_proba(X[:32])
        ts = _seconds(lambda: clf.predict_proba(X), repeat)
        out["tta" if tta else "no_tta"] = len(X) / statistics.median(ts)
    clf.set_params(tta=True)
    return out


# ---------------------------------------------------------------------------
# profile
# ---------------------------------------------------------------------------
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


def _part(name):
    for part, keys in PARTS:
        if any(k in name for k in keys):
            return part
    return "other ops"


def _trace(logdir):
    """Per-op total milliseconds of the TensorFlow ops of a profile."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    per_op = collections.Counter()
    for f in glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True):
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(f).read_bytes())
        for plane in space.planes:
            for line in plane.lines:
                if not line.name.startswith("tf_Compute"):
                    continue
                for ev in line.events:
                    name = plane.event_metadata[ev.metadata_id].name
                    if ":" in name and "::" not in name:  # "<op name>:<op type>"
                        per_op[name] += ev.duration_ps / 1e9
    return per_op


def _by_part(per_op, n):
    parts = collections.Counter()
    for name, ms in per_op.items():
        parts[_part(name)] += ms / n
    return {k: round(v, 3) for k, v in parts.most_common()}


def profile(clf, X, y, epochs=2):
    """Per-part op time of ``epochs`` training epochs and of predictions.

    Returns milliseconds per training step and per predicted batch, the
    wall time of each, and the op-time sum (which may exceed the wall time:
    TensorFlow runs independent ops on several threads).
    """
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        fit_dir, pred_dir = f"{tmp}/fit", f"{tmp}/predict"

        class Trace(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 1:
                    tf.profiler.experimental.start(fit_dir)
                    self.start = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                if epoch == epochs:
                    self.wall = time.perf_counter() - self.start[0]
                    self.cpu = time.process_time() - self.start[1]
                    tf.profiler.experimental.stop()

        trace = Trace()
        clf.set_params(epochs=epochs + 1, fit__callbacks=[trace])
        clf.fit(X, y)
        steps = epochs * -(-len(X) // clf.batch_size)
        fit_ops = _trace(fit_dir)
        clf.set_params(tta=True)
        clf.predict_proba(X)
        tf.profiler.experimental.start(pred_dir)
        reps = 3
        pred_wall = sum(_seconds(lambda: clf.predict_proba(X), reps))
        tf.profiler.experimental.stop()
        pred_ops = _trace(pred_dir)
    batches = reps * -(-len(X) // clf.batch_size)
    return {
        "train_steps": steps, "batch_size": clf.batch_size,
        "train_wall_ms_per_step": 1e3 * trace.wall / steps,
        "train_cpu_ms_per_step": 1e3 * trace.cpu / steps,
        "train_ops_ms_per_step": sum(fit_ops.values()) / steps,
        "train_parts_ms_per_step": _by_part(fit_ops, steps),
        "train_top_ops": {k: round(v / steps, 3) for k, v in fit_ops.most_common(12)},
        "predict_batches": batches,
        "predict_wall_ms_per_batch": 1e3 * pred_wall / batches,
        "predict_ops_ms_per_batch": sum(pred_ops.values()) / batches,
        "predict_parts_ms_per_batch": _by_part(pred_ops, batches),
    }


# ---------------------------------------------------------------------------
# prediction of the whole pipeline, screening, memory
# ---------------------------------------------------------------------------
def pipeline_predict_rate(n=260, epochs=1, repeat=3, seed=0):
    """Images/s of the default ``pipeline.predict`` on raw 257 px fields."""
    from skleuk import make_pipeline
    from skleuk.datasets import make_blood_smears

    X, y = make_blood_smears(n, image_size=257, random_state=seed, return_X_y=True)
    pipe = make_pipeline(cnn__epochs=epochs, cnn__random_state=seed).fit(X, y)
    pipe.predict(X[:16])
    return n / statistics.median(_seconds(lambda: pipe.predict(X), repeat))


def make_smear(seed=0, tile=324):
    """A 2592x1944 RGB smear: a mosaic of synthetic fields (one white cell each)."""
    from skleuk.datasets import make_blood_smears

    rows, cols = SMEAR_SHAPE[0] // tile, SMEAR_SHAPE[1] // tile
    fields = make_blood_smears(rows * cols, image_size=tile, random_state=seed,
                               return_X_y=True)[0]
    return fields.reshape(rows, cols, tile, tile, 3).swapaxes(1, 2).reshape(
        rows * tile, cols * tile, 3)


def screen_time(repeat=3, seed=0):
    """Seconds to screen one 2592x1944 smear file with the default cell pipeline."""
    import warnings

    from PIL import Image

    from skleuk import make_pipeline
    from skleuk.screening import SmearScreener, locate_white_cells

    smear = make_smear(seed)
    train = [make_smear(seed + 1 + i)[:648, :972] for i in range(4)]
    screener = SmearScreener(make_pipeline(cnn__epochs=1, cnn__random_state=seed),
                             aggregation="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screener.fit(train, [0, 1, 0, 1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "smear.jpg"
        Image.fromarray(smear).save(path, quality=95)
        res = screener.screen([path])[0]
        ts = _seconds(lambda: screener.screen([path]), repeat)
    locate_s, located = timed(locate_white_cells, smear)
    return {"seconds": min(ts), "seconds_all": ts, "n_cells": int(len(res.centres)),
            "locate_seconds": locate_s, "n_located": int(len(located.centres))}


def _peak_run(cmd):
    """Run ``cmd``; return (wall s, peak RSS MiB from /proc VmHWM, stdout)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env,
                                cwd=REPO_ROOT)
        peak = 0.0
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    peak = max(peak, next(int(s.split()[1]) / 1024 for s in f
                                          if s.startswith("VmHWM:")))
            except (OSError, StopIteration):
                pass
            time.sleep(0.02)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode})")
    return wall, peak, text


def cli_memory(counts, seed=0, distinct=200, checks=(True, False)):
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
        src = []
        for i, img in enumerate(X):
            src.append(tmp / f"src{i:04d}.png")
            Image.fromarray(img).save(src[-1], compress_level=1)
        model = tmp / "model.joblib"
        pipe = make_pipeline(reader=True, cnn__epochs=1, cnn__random_state=seed)
        pipe.fit(np.asarray([str(p) for p in src], dtype=object), y)
        save_model(pipe, model, target_names=["healthy", "ALL"], input_kind="paths")
        for n in counts:
            folder = tmp / f"n{n}"
            folder.mkdir()
            for i in range(n):
                os.link(src[i % distinct], folder / f"{i:05d}.png")
        for check in checks:
            for n in counts:
                cmd = [sys.executable, "-m", "skleuk.cli", "predict", str(model),
                       str(tmp / f"n{n}"), "--quiet", "--format", "csv"]
                wall, peak, text = _peak_run(cmd + ([] if check else
                                                    ["--no-image-check"]))
                if len(text.strip().splitlines()) - 1 != n:
                    raise RuntimeError(f"skleuk predict did not answer for {n} files")
                rows.append({"n_files": n, "image_check": check, "peak_mib": peak,
                             "wall_s": wall})
                print(f"  skleuk predict {n} files (image check {check}): "
                      f"{wall:.1f} s, peak {peak:.0f} MiB", flush=True)
            a, b = rows[-len(counts)], rows[-1]  # after start-up: the difference
            b["images_per_s_after_start"] = (b["n_files"] - a["n_files"]) / max(
                b["wall_s"] - a["wall_s"], 1e-9)
    return rows


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------
def ratios(res):
    """The figures of merit of a run's results.

    Against the better of the two matrix-product measurements (the
    machine's rate when other jobs left it the most): the conservative
    ratio.
    """
    best = {k: max(r[k] for r in res["matmul_gflops"]) for k in res["matmul_gflops"][0]}
    est, bare = res["estimator_images_per_s"], res["keras_images_per_s"]
    est_cpu, bare_cpu = res["estimator_images_per_cpu_s"], res["keras_images_per_cpu_s"]
    flops = TRAIN_FLOP_FACTOR * res["flops_per_image"] / 1e9
    train = flops * statistics.median(est)
    train_cpu = flops * statistics.median(est_cpu)
    return {
        "train_gflops": train,
        "train_over_sgemm": train / best["numpy_float32"],
        "train_gflop_per_cpu_s": train_cpu,
        "train_over_sgemm_per_cpu_s": train_cpu / best["numpy_float32_per_cpu_s"],
        "train_over_bf16_matmul": train / best["tf_bfloat16"],
        "estimator_over_keras": statistics.median(est) / statistics.median(bare),
        "estimator_over_keras_per_cpu_s": statistics.median(est_cpu)
        / statistics.median(bare_cpu),
        "bf16_over_f32_matmul": best["tf_bfloat16"] / best["tf_float32"],
    }


def run(data, *, quick=False, seed=0):
    """Everything above, in one process; ratios against the same run's rates."""
    from skleuk import DEFAULT_IMAGE_SIZE as size
    from skleuk.neural_network import count_flops

    epochs, rounds = (3, 1) if quick else (6, 2)
    res = {"load_average_start": load_average(), "cpu_count": os.cpu_count(),
           "quick": quick, "n_fit_images": N_FIT, "size": size,
           "epochs_timed": epochs - 1}
    rates = [matmul_rates()]
    print(f"  matmul GFLOP/s: {rates[0]}", flush=True)
    X, y = _images(N_FIT, size, seed)
    est, bare, est_cpu, bare_cpu = [], [], [], []
    for _ in range(rounds):
        r, clf = estimator_rate(default_classifier(seed), X, y, epochs, est_cpu)
        est.append(r)
        bare.append(keras_rate(clf, X, y, epochs, seed, bare_cpu))
        print(f"  fit: estimator {est[-1]:.0f} img/s, bare Keras {bare[-1]:.0f} img/s",
              flush=True)
    flops = count_flops(clf.model_)
    res.update(flops_per_image=flops, batch_size=clf.batch_size,
               dtype_policy=clf.dtype_policy_, architecture=clf.architecture,
               estimator_images_per_s=est, keras_images_per_s=bare,
               estimator_images_per_cpu_s=est_cpu, keras_images_per_cpu_s=bare_cpu)
    res["predict_images_per_s"] = predict_rates(clf, X)
    print(f"  predict_proba img/s: {res['predict_images_per_s']}", flush=True)
    res["default_epochs"] = int(default_classifier(seed).epochs)
    res["profile"] = profile(clf, X, y)
    print(f"  profile: {res['profile']['train_parts_ms_per_step']}", flush=True)
    res["pipeline_predict_images_per_s"] = pipeline_predict_rate(
        repeat=2 if quick else 3)
    res["screen"] = screen_time(repeat=2 if quick else 3, seed=seed)
    print(f"  screen one smear: {res['screen']['seconds']:.2f} s", flush=True)
    res["cli_predict"] = cli_memory((100, 400) if quick else (500, 2000), seed=seed)
    rates.append(matmul_rates())
    res["matmul_gflops"] = rates
    res["load_average_end"] = load_average()
    res["ratios"] = ratios(res)
    print("  ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in res["ratios"].items()),
          flush=True)
    return res


# ---------------------------------------------------------------------------
# docs
# ---------------------------------------------------------------------------
def _f(x, d=0):
    return f"{x:,.{d}f}"


def _targets(r):
    """The targets of the speed issue against this run (a table)."""
    q = r["ratios"]
    checked = [c for c in r["cli_predict"] if c.get("image_check", True)]
    cli = checked[-1]
    rate = statistics.median(r["estimator_images_per_s"])
    epochs = r.get("default_epochs", 120)
    five_fold = 5 * epochs * N_FIT / rate / 60
    cli_rate = cli.get("images_per_s_after_start", cli["n_files"] / cli["wall_s"])
    flat = max(c["peak_mib"] for c in checked) / min(c["peak_mib"] for c in checked)
    unchecked = [c for c in r["cli_predict"] if not c.get("image_check", True)]
    cli_rate_unchecked = (unchecked[-1].get("images_per_s_after_start")
                          if unchecked else None)

    def met(ok):
        return "met" if ok else "**not met**"

    rows = [
        ["training GFLOP/s / SGEMM", ">= 1.2", f"{q['train_over_sgemm']:.2f} "
         f"(per CPU-second: {q['train_over_sgemm_per_cpu_s']:.2f})",
         met(q["train_over_sgemm"] >= 1.2)],
        ["default 5-fold evaluation, 260 images", "<= 2.5 min",
         f"{five_fold:.1f} min (training only, from the fit rate: 5 x {epochs} "
         f"epochs x {N_FIT} images)", met(five_fold <= 2.5)],
        ["``skleuk predict`` with TTA", ">= 400 images/s", f"{cli_rate:.0f} images/s"
         + (f" ({cli_rate_unchecked:.0f} with ``--no-image-check``)"
            if cli_rate_unchecked else ""), met(cli_rate >= 400)],
        [f"``skleuk predict`` memory, {checked[0]['n_files']:,} to "
         f"{cli['n_files']:,} files", "flat", f"peak x {flat:.2f}", met(flat < 1.1)],
        ["screening one 2592x1944 smear", "<= 0.3 s", f"{r['screen']['seconds']:.2f} s",
         met(r["screen"]["seconds"] <= 0.3)],
    ]
    return "Targets (issue 31), this run:\n\n" + list_table(
        ["target", "wanted", "measured", ""], rows)


def render(results, out):
    """``performance_speed.rst`` and ``performance_profile.rst`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    r, q = results, results["ratios"]
    rates = r["matmul_gflops"]
    load = r.get("load_average_start") or [float("nan")] * 3
    end = r.get("load_average_end") or [float("nan")] * 3
    stamp = " ".join(str(r[k]) for k in ("version", "commit", "date") if k in r)
    size = f"{r['n_fit_images']} synthetic images of {r['size']} px"
    cli = r["cli_predict"]
    def all_of(values, d=0):
        return " / ".join(_f(v, d) for v in values)

    pred = r["predict_images_per_s"]
    rows = [
        ["matrix product, numpy float32 (SGEMM)",
         all_of(x["numpy_float32"] for x in rates), "GFLOP/s", "1"],
        ["matrix product, TensorFlow float32",
         all_of(x["tf_float32"] for x in rates), "GFLOP/s", ""],
        ["matrix product, TensorFlow bfloat16",
         all_of(x["tf_bfloat16"] for x in rates), "GFLOP/s",
         f"{q['bf16_over_f32_matmul']:.2f} x TF float32"],
        [f"default fit ({r['architecture']}, batch {r['batch_size']}, "
         f"{r['dtype_policy']})", _f(q["train_gflops"]), "GFLOP/s",
         f"**{q['train_over_sgemm']:.2f}** x SGEMM, "
         f"{q['train_over_bf16_matmul']:.2f} x bf16 matmul"],
        ["default fit, per CPU-second (all threads)", _f(q["train_gflop_per_cpu_s"]),
         "GFLOP/CPU-s", f"**{q['train_over_sgemm_per_cpu_s']:.2f}** x SGEMM per "
         "CPU-s ("
         + all_of(x["numpy_float32_per_cpu_s"] for x in rates) + ")"],
        ["default fit, estimator", all_of(r["estimator_images_per_s"]), "images/s",
         f"**{q['estimator_over_keras']:.2f}** x bare Keras (per CPU-s: "
         f"{q['estimator_over_keras_per_cpu_s']:.2f})"],
        ["default fit, bare Keras", all_of(r["keras_images_per_s"]), "images/s", ""],
        ["``predict_proba``, test-time augmentation", _f(pred["tta"]), "images/s", ""],
        ["``predict_proba``, no test-time augmentation", _f(pred["no_tta"]),
         "images/s", ""],
        ["``pipeline.predict`` on raw 257 px fields",
         _f(r["pipeline_predict_images_per_s"]), "images/s", ""],
        [f"screening one 2592x1944 smear ({r['screen']['n_cells']} cells)",
         _f(r["screen"]["seconds"], 2), "s",
         f"locating the cells: {r['screen']['locate_seconds']:.2f} s"],
    ]
    rows += [[f"``skleuk predict``, {c['n_files']:,} files"
              + ("" if c.get("image_check", True) else ", ``--no-image-check``"),
              _f(c["wall_s"], 1), "s",
              f"peak {_f(c['peak_mib'])} MiB"
              + (f"; {_f(c['images_per_s_after_start'])} images/s after start-up"
                 if "images_per_s_after_start" in c else "")] for c in cli]
    text = (
        "One run of ``python -m benchmarks.run --only speed`` "
        f"({'quick, ' if r['quick'] else ''}{r.get('cpu_count')} CPUs; 1/5/15-minute "
        f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the start, "
        f"{end[0]:.1f}/{end[1]:.1f}/{end[2]:.1f} at the end"
        f"{'; ' + stamp if stamp else ''}). Fits: {size}, the median of "
        f"{r['epochs_timed']} epochs after the first per fit, each fit shown; a "
        f"training step counted as {TRAIN_FLOP_FACTOR} forward passes of "
        f"{r['flops_per_image'] / 1e6:.1f} MFLOP. Matrix products before / after "
        "the rest; ratios against the higher of the two.\n\n"
        + list_table(["measure", "value", "unit", "ratio"], rows)
    )
    text += "\n" + _targets(r)
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
        "predicted batches with test-time augmentation (8 views of each image in "
        "one batch), same run as the table above; milliseconds of op time per "
        "step (per batch), summed over TensorFlow's threads. An op's time is "
        "the wall-clock span it ran on its thread, which other jobs' "
        "preemption stretches: on a loaded machine the sum can exceed both "
        "the wall time and the process's CPU time. Compare the parts with "
        "each other.\n\n"
        + list_table(["part", "training, ms/step", "prediction, ms/batch"], prow)
    )
    return [speed, prof]
