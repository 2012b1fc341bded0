"""CNN throughput: training and inference images/s, FLOPs, share of CPU peak.

For each architecture and input size, :class:`LightweightCNNClassifier` is
trained (through its ``fit``, as in the pipeline, with ``random_state`` set,
hence TensorFlow's op determinism on) on synthetic preprocessed images; the
time of every epoch after the first (which traces the graph) gives the
training throughput. Inference is ``predict_proba`` on the same images.
Achieved GFLOP/s uses :func:`skleuk.neural_network.count_flops` (forward
FLOPs per image); a training step costs about three forward passes (the
forward pass, the gradient with respect to the activations and the one with
respect to the weights -- slightly less, since the first layer needs no
gradient with respect to its input).

Also measured here: the cost of seeding (op determinism) and
``dtype_policy="mixed_bfloat16"`` against float32 -- throughput ratio, and
test accuracy over a few seeds.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from ._common import compare, cpu_peak, print_table, quiet_tensorflow

quiet_tensorflow()

TRAIN_FLOP_FACTOR = 3


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall time of every training epoch."""

        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer()


def _images(n, size, random_state=0):
    """Standardised float32 images ``(n, size, size, 3)`` and balanced labels."""
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n, size, size, 3), dtype=np.float32)
    y = np.arange(n) % 2
    return X, y


def n_train_images(flops, budget_gflop=600.0, batch_size=64, max_images=256):
    """Images per timed epoch: whole batches, about ``budget_gflop`` of work."""
    per_image = TRAIN_FLOP_FACTOR * flops / 1e9
    n = int(budget_gflop / per_image) // batch_size * batch_size
    return int(min(max(n, batch_size), max_images))


def train_throughput(architecture, size, *, n_images=None, epochs=3,
                     dtype_policy=None, random_state=0, batch_size=64, X=None,
                     y=None):
    """Train the classifier; return images/s of the epochs after the first.

    Returns
    -------
    dict
        ``images_per_s`` (median over the timed epochs), ``epoch_times``,
        ``n_images``, ``flops`` (forward, per image), ``params``,
        ``first_epoch_s`` (includes tracing).
    """
    from skleuk.neural_network import LightweightCNNClassifier, count_flops

    clf = LightweightCNNClassifier(
        architecture, epochs=epochs, batch_size=batch_size,
        random_state=random_state, dtype_policy=dtype_policy,
    )
    flops = count_flops(clf.build_model((size, size, 3)))
    if X is None:
        if n_images is None:
            n_images = n_train_images(flops, batch_size=batch_size)
        X, y = _images(n_images, size)
    timer = _epoch_timer()
    clf.set_params(fit__callbacks=[timer])
    start = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - start
    timed = timer.times[1:] if len(timer.times) > 1 else timer.times
    epoch_s = statistics.median(timed)
    return {
        "architecture": architecture,
        "size": size,
        "dtype_policy": dtype_policy or "float32",
        "n_images": len(X),
        "epochs": epochs,
        "epoch_times": timer.times,
        "first_epoch_s": timer.times[0],
        "fit_s": fit_s,
        "images_per_s": len(X) / epoch_s,
        "flops": flops,
        "params": int(clf.model_.count_params()),
        "classifier": clf,
        "X": X,
    }


def predict_throughput(clf, X, repeat=3):
    """Images/s of ``predict_proba`` (median of ``repeat`` calls after one)."""
    t = compare({"predict": lambda: clf.predict_proba(X)}, repeat=repeat)["predict"]
    return len(X) / t["median"]


def run_throughput(architectures, sizes, epochs=3, peak=None, sgemm=None):
    """Training and inference throughput of every (architecture, size).

    ``peak`` is the theoretical fp32 peak and ``sgemm`` the measured SGEMM
    rate (GFLOP/s); the achieved rates are given as fractions of both.
    """
    peak = peak or cpu_peak()["fp32_peak_gflops"]
    rows = []
    for arch in architectures:
        for size in sizes[arch]:
            r = train_throughput(arch, size, epochs=epochs)
            clf, X = r.pop("classifier"), r.pop("X")
            r["predict_images_per_s"] = predict_throughput(clf, X)
            r["train_gflops"] = TRAIN_FLOP_FACTOR * r["flops"] * r["images_per_s"] / 1e9
            r["predict_gflops"] = r["flops"] * r["predict_images_per_s"] / 1e9
            r["train_peak_fraction"] = r["train_gflops"] / peak
            r["predict_peak_fraction"] = r["predict_gflops"] / peak
            if sgemm:
                r["train_sgemm_fraction"] = r["train_gflops"] / sgemm
                r["predict_sgemm_fraction"] = r["predict_gflops"] / sgemm
            rows.append(r)
            print(
                f"  {arch}@{size}: train {r['images_per_s']:.1f} img/s "
                f"({r['train_gflops']:.1f} GFLOP/s, "
                f"{100 * r['train_peak_fraction']:.0f}% of peak), predict "
                f"{r['predict_images_per_s']:.0f} img/s", flush=True,
            )
            del clf
    return rows


def run_determinism(architecture, size, epochs=3):
    """Training throughput with and without ``random_state`` (op determinism).

    Seeded and unseeded fits alternate (twice each); medians are compared.
    """
    from skleuk.neural_network import LightweightCNNClassifier, count_flops

    flops = count_flops(
        LightweightCNNClassifier(architecture).build_model((size, size, 3))
    )
    X, y = _images(n_train_images(flops), size)
    out = {"seeded": [], "unseeded": []}
    for rs in (0, None, 0, None):
        key = "seeded" if rs is not None else "unseeded"
        r = train_throughput(architecture, size, epochs=epochs, random_state=rs,
                             X=X, y=y)
        out[key].append(r["images_per_s"])
    res = {k: statistics.median(v) for k, v in out.items()}
    return {
        "architecture": architecture,
        "size": size,
        "seeded_images_per_s": res["seeded"],
        "unseeded_images_per_s": res["unseeded"],
        "unseeded_over_seeded": res["unseeded"] / res["seeded"],
        "runs": out,
    }


def run_bf16_speed(configs, epochs=3, rounds=2):
    """float32 vs mixed_bfloat16 training and inference throughput."""
    rows = []
    for arch, size in configs:
        acc = {"float32": [], "mixed_bfloat16": []}
        pred = {"float32": [], "mixed_bfloat16": []}
        for _ in range(rounds):
            for policy in ("float32", "mixed_bfloat16"):
                r = train_throughput(
                    arch, size, epochs=epochs,
                    dtype_policy=None if policy == "float32" else policy,
                )
                acc[policy].append(r["images_per_s"])
                pred[policy].append(predict_throughput(r["classifier"], r["X"]))
        f32 = statistics.median(acc["float32"])
        b16 = statistics.median(acc["mixed_bfloat16"])
        pf32 = statistics.median(pred["float32"])
        pb16 = statistics.median(pred["mixed_bfloat16"])
        rows.append({
            "architecture": arch,
            "size": size,
            "float32_train_images_per_s": f32,
            "bf16_train_images_per_s": b16,
            "train_speedup": b16 / f32,
            "float32_predict_images_per_s": pf32,
            "bf16_predict_images_per_s": pb16,
            "predict_speedup": pb16 / pf32,
            "runs": acc,
        })
        print(f"  bf16 {arch}@{size}: train x{b16 / f32:.2f}, predict "
              f"x{pb16 / pf32:.2f}", flush=True)
    return rows


def run_bf16_accuracy(architecture, size, seeds=(0, 1, 2), epochs=30,
                      n_samples=260, class_sep=1.0):
    """Hold-out accuracy of the full pipeline, float32 vs mixed_bfloat16.

    For every seed: a stratified 75/25 split of the synthetic set, the
    preprocessing fitted once on the training part, then the CNN trained
    with each policy from the same seed. ``class_sep`` < 1 makes the
    synthetic classes harder to tell apart (see ``make_blood_smears``).
    """
    from sklearn.model_selection import train_test_split

    from skleuk import make_pipeline

    from ._common import all_idb2_like

    X, y = all_idb2_like(n_samples, class_sep=class_sep)
    rows = []
    for seed in seeds:
        tr, te = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y,
                                  random_state=seed)
        pipe = make_pipeline(image_size=size, architecture=architecture)
        pre = pipe[:-1].fit(X[tr])
        Xtr, Xte = pre.transform(X[tr]), pre.transform(X[te])
        row = {"seed": seed}
        for policy in ("float32", "mixed_bfloat16"):
            cnn = pipe[-1].set_params(
                epochs=epochs, random_state=seed,
                dtype_policy=None if policy == "float32" else policy,
            )
            t, _ = _timed_fit(cnn, Xtr, y[tr])
            row[f"{policy}_accuracy"] = float(np.mean(cnn.predict(Xte) == y[te]))
            row[f"{policy}_fit_s"] = t
        rows.append(row)
        print(f"  bf16 accuracy seed {seed}: float32 "
              f"{row['float32_accuracy']:.3f}, bf16 "
              f"{row['mixed_bfloat16_accuracy']:.3f}", flush=True)
    f = [r["float32_accuracy"] for r in rows]
    b = [r["mixed_bfloat16_accuracy"] for r in rows]
    return {
        "architecture": architecture,
        "size": size,
        "epochs": epochs,
        "n_samples": n_samples,
        "class_sep": class_sep,
        "seeds": list(seeds),
        "per_seed": rows,
        "float32_mean": float(np.mean(f)),
        "float32_std": float(np.std(f)),
        "bf16_mean": float(np.mean(b)),
        "bf16_std": float(np.std(b)),
        "mean_difference": float(np.mean(b) - np.mean(f)),
    }


def _timed_fit(est, X, y):
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start, est


def print_throughput(rows, peak):
    """Print the throughput table."""
    print_table(
        ["network", "params", "GFLOP/img", "train img/s", "train GFLOP/s",
         "% peak", "% SGEMM", "predict img/s", "predict GFLOP/s", "% peak"],
        [[f"{r['architecture']}@{r['size']}", f"{r['params']:,}",
          f"{r['flops'] / 1e9:.3f}", f"{r['images_per_s']:.1f}",
          f"{r['train_gflops']:.1f}", f"{100 * r['train_peak_fraction']:.1f}",
          f"{100 * r.get('train_sgemm_fraction', float('nan')):.1f}",
          f"{r['predict_images_per_s']:.0f}", f"{r['predict_gflops']:.1f}",
          f"{100 * r['predict_peak_fraction']:.1f}"] for r in rows],
        title=f"CNN throughput (fp32 peak {peak:.0f} GFLOP/s; training FLOPs = "
        f"{TRAIN_FLOP_FACTOR} x forward)",
    )
