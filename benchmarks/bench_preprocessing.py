"""Preprocessing speed: every skleuk transformer against its OpenCV equivalent.

Both sides get the same float32 batch in ``[0, 1]`` (260 synthetic ALL-IDB2
crops of 257x257 pixels by default) in the same run, timed in interleaved
rounds so that load changes hit both alike; the figure of merit is the time
ratio skleuk / OpenCV (target: at most 1.5). OpenCV filters one image per call
(its functions have no batch form), so its side is a loop over the images,
as an OpenCV user would write it, timed with its thread pool at its default
(``cv2.getNumThreads()``) and with one thread (skleuk's numpy code runs on
one core). skleuk's side is the transformer's
``transform`` (input validation included), or ``fit_transform`` for steps
that learn, timed twice: in skleuk's default configuration
(``skleuk.set_config(opencv="auto")``: the steps that have an exact OpenCV
equivalent call OpenCV, which is installed here) and with ``opencv=False``
(numpy only), so that both backends stand side by side. The targets judge
the default configuration.

Each pair is also checked to compute the same thing: the largest absolute
difference of the outputs is recorded.
"""

from __future__ import annotations

import numpy as np

from ._common import compare, load_average, print_table, timed


def _cv2():
    import cv2

    return cv2


def opencv_laplacian_sharpen(X, strength=1.0):
    """``y - c * Laplacian(y)``, clipped, with ``cv2.Laplacian`` (4-neighbour)."""
    cv2 = _cv2()
    out = np.empty_like(X)
    for i, img in enumerate(X):
        lap = cv2.Laplacian(img, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
        cv2.scaleAdd(lap, -strength, img, dst=out[i])
    np.clip(out, 0.0, 1.0, out=out)
    return out


def opencv_box_mean(X, size=6):
    """``cv2.blur`` (normalised box filter) of every image."""
    cv2 = _cv2()
    out = np.empty_like(X)
    for i, img in enumerate(X):
        cv2.blur(img, (size, size), dst=out[i], borderType=cv2.BORDER_REFLECT)
    return out


def opencv_median(X, size=5):
    """``cv2.medianBlur`` of every image (float32 supports sizes 3 and 5).

    OpenCV replicates the border pixels (skleuk's ``mode="nearest"``).
    """
    cv2 = _cv2()
    out = np.empty_like(X)
    for i, img in enumerate(X):
        out[i] = cv2.medianBlur(img, size)
    return out


def opencv_resize_area(X, size):
    """``cv2.resize(..., interpolation=INTER_AREA)`` of every image."""
    cv2 = _cv2()
    out = np.empty((X.shape[0], size, size, X.shape[3]), dtype=X.dtype)
    for i, img in enumerate(X):
        out[i] = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return out


def opencv_rgb_to_lab(X):
    """``cv2.cvtColor(..., COLOR_RGB2Lab)`` (float32 input) of every image."""
    cv2 = _cv2()
    out = np.empty_like(X)
    for i, img in enumerate(X):
        out[i] = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
    return out


def opencv_reinhard(X, ref_mean, ref_std, min_std=1e-2):
    """Reinhard colour transfer with OpenCV, one image at a time.

    ``cvtColor`` to L*a*b*, ``meanStdDev``, an affine map per channel
    (``cv2.transform``),
    ``cvtColor`` back to RGB, clip -- what
    :class:`~skleuk.preprocessing.ColorNormalizer` computes.
    """
    cv2 = _cv2()
    out = np.empty_like(X)
    ref_mean = np.asarray(ref_mean, np.float64)
    ref_std = np.asarray(ref_std, np.float64)
    for i, img in enumerate(X):
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
        mean, std = cv2.meanStdDev(lab)
        mean, std = mean.ravel(), std.ravel()
        gain = np.where(std > min_std, ref_std / np.maximum(std, min_std), 1.0)
        shift = ref_mean - gain * mean
        affine = np.hstack([np.diag(gain), shift[:, None]]).astype(np.float32)
        lab = cv2.transform(lab, affine)
        rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        np.clip(rgb, 0.0, 1.0, out=out[i])
    return out


def run(X_uint8, image_size, repeat=5, extra_sizes=(64,), y=None):
    """Time every step against OpenCV, and the whole preprocessing chain.

    Parameters
    ----------
    X_uint8 : ndarray of shape (n, h, w, 3)
        The images, as loaded.
    image_size : int
        The pipeline's default CNN input size (``resize`` target).
    repeat : int, default=5
        Timed rounds.
    extra_sizes : tuple of int, default=(64,)
        Other ``Resizer`` targets to compare.
    y : array-like of shape (n,), default=None
        Labels of the images, to train the CNN on the chain's output
        (default: alternating 0 and 1; the speed does not depend on them).

    Returns
    -------
    dict
        ``steps``: one row per comparison; ``chain``: the full chain and
        the CNN's training throughput (:func:`run_chain`).
    """
    cv2 = _cv2()
    from skleuk import make_pipeline
    from skleuk.preprocessing import ImageScaler, Resizer
    from skleuk.preprocessing._segmentation import WhiteCellCropper

    X = (X_uint8 / np.float32(255)).astype(np.float32)
    n = len(X)
    rows = time_steps(X, image_size, repeat=repeat, extra_sizes=extra_sizes)

    # Steps without an OpenCV counterpart, and the whole chain.
    pipe = make_pipeline(image_size=image_size)
    pre = pipe[:-1]
    # The cropper's input in the default pipeline: whatever its steps
    # before the crop make of the raw images (nothing: it comes first).
    before = [name for name, _ in pre.steps].index("crop")
    crop_in = pre[:before].fit_transform(X_uint8) if before else X_uint8
    cropper = WhiteCellCropper()
    crop_out = cropper.fit_transform(crop_in)
    resized = Resizer(size=image_size).transform(crop_out)
    alone = compare({
        "crop": lambda: WhiteCellCropper().fit_transform(crop_in),
        "scale": lambda: ImageScaler().fit_transform(resized),
    }, repeat=max(2, repeat // 2))
    for key, label in (("crop", "WhiteCellCropper (fit_transform)"),
                       ("scale", "ImageScaler (fit_transform)")):
        rows.append({
            "step": label,
            "sub_row": False,
            "opencv": None,
            "skleuk_s": alone[key]["median"],
            "skleuk_min_s": alone[key]["min"],
            "skleuk_images_per_s": n / alone[key]["median"],
        })
    out = {
        "n_images": n,
        "input_size": int(X.shape[1]),
        "opencv_version": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "skleuk_config": skleuk_config(),
        "steps": rows,
    }
    if y is None:
        y = np.arange(n) % 2
    # The same steps in the paper's order (the default's order until 0.2):
    # whole images normalised before the crop.
    paper_order = make_pipeline(image_size=image_size)
    named = dict(paper_order.steps)
    paper_order.steps = [(k, named[k]) for k in PAPER_ORDER]
    out["chain"] = run_chain(X_uint8, y, pipe, repeat=repeat, reference=paper_order)
    out["chain"]["crop_size"] = int(cropper.crop_size_)
    out["load_average_end"] = load_average()
    return out


#: Filters whose settings here call OpenCV (when skleuk's configuration
#: allows it), by row name; the colour steps run numpy in every
#: configuration, and the resize depends on its sizes (the choices are tested
#: in skleuk/preprocessing/tests/test_opencv.py).
OPENCV_BACKED = ("LaplacianSharpener", "NeighborhoodAverager")


def _uses_opencv(name, input_hw, size):
    """Whether skleuk's step of this row calls OpenCV, if allowed to."""
    if name.startswith("Resizer"):
        from skleuk.preprocessing._opencv import resize_interpolation

        return resize_interpolation(input_hw, (size, size), True) is not None
    return name.startswith(OPENCV_BACKED)


def _pairs(X, image_size, extra_sizes):
    """(row name, OpenCV name, skleuk function, OpenCV function, size) per
    step (size: the Resizer target, else None)."""
    from skleuk.preprocessing import (
        ColorNormalizer,
        LaplacianSharpener,
        NeighborhoodAverager,
        Resizer,
    )
    from skleuk.preprocessing._lab import rgb_to_lab

    norm = ColorNormalizer().fit(X)
    pairs = [
        (
            "ColorNormalizer (Reinhard)",
            "cvtColor Lab + meanStdDev + cvtColor RGB",
            lambda: norm.transform(X),
            lambda: opencv_reinhard(X, norm.reference_mean_, norm.reference_std_),
            None,
        ),
        (
            "  RGB to L*a*b* only (rgb_to_lab)",
            "cvtColor(COLOR_RGB2Lab)",
            lambda: rgb_to_lab(X),
            lambda: opencv_rgb_to_lab(X),
            None,
        ),
        (
            "LaplacianSharpener",
            "Laplacian(ksize=1) + scaleAdd + clip",
            lambda: LaplacianSharpener().transform(X),
            lambda: opencv_laplacian_sharpen(X),
            None,
        ),
        (
            "NeighborhoodAverager(size=6)",
            "blur((6, 6))",
            lambda: NeighborhoodAverager(size=6).transform(X),
            lambda: opencv_box_mean(X, 6),
            None,
        ),
        (
            "NeighborhoodAverager(size=5, method='median')",
            "medianBlur(5)",
            lambda: NeighborhoodAverager(
                size=5, method="median", mode="nearest"
            ).transform(X),
            lambda: opencv_median(X, 5),
            None,
        ),
    ]
    for s in (image_size, *extra_sizes):
        pairs.append((
            f"Resizer(size={s}) from {X.shape[1]} px",
            "resize(INTER_AREA)",
            lambda s=s: Resizer(size=s).transform(X),
            lambda s=s: opencv_resize_area(X, s),
            s,
        ))
    return pairs


def time_steps(X, image_size, repeat=5, extra_sizes=(64,)):
    """Time every step against OpenCV, with skleuk's two backends.

    Per step, interleaved in the same rounds: skleuk in its default
    configuration (``opencv="auto"``) and with ``opencv=False`` (numpy),
    OpenCV with its default threads and with one thread, and skleuk's
    default configuration with OpenCV's pool at one thread too (what it
    calls of OpenCV then runs on one core, like its numpy code).

    Parameters
    ----------
    X : ndarray of shape (n, h, w, 3)
        float32 images in ``[0, 1]``.
    image_size : int
        The pipeline's default CNN input size (a ``Resizer`` target).
    repeat : int, default=5
        Timed rounds.
    extra_sizes : tuple of int, default=(64,)
        Other ``Resizer`` targets to compare.

    Returns
    -------
    list of dict
        One row per step: times (s), ratios to OpenCV of both backends
        (wall clock, and CPU time against 1-thread OpenCV), throughput and
        the largest output differences.
    """
    import skleuk

    cv2 = _cv2()
    n = len(X)
    default_threads = cv2.getNumThreads()
    config = skleuk.get_config()["opencv"]

    def one_thread(func):
        def run_single():
            cv2.setNumThreads(1)
            try:
                return func()
            finally:
                cv2.setNumThreads(default_threads)

        return run_single

    def numpy_only(func):
        def run_numpy():
            with skleuk.config_context(opencv=False):
                return func()

        return run_numpy

    rows = []
    for name, cv_name, ours, theirs, size in _pairs(X, image_size, extra_sizes):
        t, cpu = compare_with_cpu_time(
            {"skleuk": ours, "skleuk_1": one_thread(ours),
             "skleuk_numpy": numpy_only(ours), "opencv": theirs,
             "opencv_1": one_thread(theirs)},
            repeat=repeat,
        )
        a, a_numpy, b = ours(), numpy_only(ours)(), theirs()
        # L*a*b* units for rgb_to_lab.
        diff = float(np.max(np.abs(a - b)))
        diff_numpy = float(np.max(np.abs(a_numpy - b)))
        row = {
            "step": name.strip(),
            "sub_row": name.startswith(" "),
            "opencv": cv_name,
            "skleuk_config": config,
            "skleuk_uses_opencv":
                config is not False and _uses_opencv(name, X.shape[1:3], size),
            "skleuk_s": t["skleuk"]["median"],
            "opencv_s": t["opencv"]["median"],
            "skleuk_min_s": t["skleuk"]["min"],
            "opencv_min_s": t["opencv"]["min"],
            "ratio": t["skleuk"]["median"] / t["opencv"]["median"],
            "ratio_of_min": t["skleuk"]["min"] / t["opencv"]["min"],
            "opencv_1thread_s": t["opencv_1"]["median"],
            "skleuk_1thread_s": t["skleuk_1"]["median"],
            "ratio_1thread": t["skleuk_1"]["median"] / t["opencv_1"]["median"],
            "skleuk_cpu_s": cpu["skleuk_1"],
            "opencv_1thread_cpu_s": cpu["opencv_1"],
            "ratio_cpu_1thread": cpu["skleuk_1"] / cpu["opencv_1"],
            "skleuk_numpy_s": t["skleuk_numpy"]["median"],
            "ratio_numpy": t["skleuk_numpy"]["median"] / t["opencv"]["median"],
            "ratio_numpy_1thread":
                t["skleuk_numpy"]["median"] / t["opencv_1"]["median"],
            "skleuk_numpy_cpu_s": cpu["skleuk_numpy"],
            "ratio_numpy_cpu_1thread": cpu["skleuk_numpy"] / cpu["opencv_1"],
            "skleuk_images_per_s": n / t["skleuk"]["median"],
            "max_abs_difference": diff,
            "max_abs_difference_numpy": diff_numpy,
        }
        rows.append(row)
        print(f"  {row['step']}: {row['skleuk_s'] * 1e3:.0f} ms "
              f"(numpy {row['skleuk_numpy_s'] * 1e3:.0f} ms) vs OpenCV "
              f"{row['opencv_s'] * 1e3:.0f} ms (x{row['ratio']:.2f}, numpy "
              f"x{row['ratio_numpy']:.2f}; CPU, 1 thread: "
              f"x{row['ratio_cpu_1thread']:.2f}, numpy "
              f"x{row['ratio_numpy_cpu_1thread']:.2f})", flush=True)
    return rows


def skleuk_config():
    """skleuk's OpenCV setting during the run (``skleuk.get_config()``)."""
    import skleuk

    return skleuk.get_config()["opencv"]


def compare_with_cpu_time(funcs, repeat=5, warmup=1):
    """:func:`~benchmarks._common.compare`, also recording the CPU time.

    Every call is timed on the wall clock and on the process's CPU clock
    (``time.process_time``: user and system time of all its threads). On a
    machine shared with other work, the wall clock of a single-threaded
    function grows with the time the process waits for a core, its CPU time
    much less so: the CPU-time ratio of two single-threaded functions is the
    steadier figure under load.

    Returns
    -------
    wall : dict
        As :func:`~benchmarks._common.compare`.
    cpu : dict of str to float
        Median CPU seconds per function.
    """
    import statistics
    import time

    cpu = {k: [] for k in funcs}

    def with_cpu(key, func):
        def run_one():
            start = time.process_time()
            result = func()
            cpu[key].append(time.process_time() - start)
            return result

        return run_one

    wall = compare({k: with_cpu(k, f) for k, f in funcs.items()}, repeat=repeat,
                   warmup=warmup)
    # The warm-up calls come first in each list.
    return wall, {k: statistics.median(v[warmup:]) for k, v in cpu.items()}


def _assume_finite(func):
    def run_assuming_finite():
        from sklearn import config_context

        with config_context(assume_finite=True):
            return func()

    return run_assuming_finite


#: The steps of make_pipeline(recipe="paper"), in its order.
PAPER_ORDER = ("color", "sharpen", "average", "crop", "resize", "scale", "cnn")


def run_chain(X_uint8, y, pipe, repeat=5, reference=None):
    """The default preprocessing chain against the default CNN's training.

    The chain (every step of ``pipe`` but the classifier) is timed on the
    raw uint8 images, ``fit_transform`` and ``transform``, also under
    scikit-learn's ``assume_finite``, interleaved; then the classifier of
    ``pipe`` (its network, size and batch size) is trained on the chain's
    output, and its training throughput is taken from the epochs after the
    first (which traces the graph). Both in the same run, so under the
    same load: their ratio is the figure of merit (target: the chain at
    least 5 times the network's training throughput). ``reference``: the
    same steps in another order, whose ``fit_transform`` is timed in the
    same interleaved rounds.
    """
    from .bench_cnn import train_throughput

    n = len(X_uint8)
    pre = pipe[:-1]
    clf = pipe[-1]
    funcs = {
        "fit_transform": lambda: pre.fit_transform(X_uint8),
        "transform": lambda: pre.transform(X_uint8),
        "transform_assume_finite": _assume_finite(lambda: pre.transform(X_uint8)),
    }
    if reference is not None:
        funcs["reference_fit_transform"] = lambda: reference[:-1].fit_transform(X_uint8)
    chain = compare(funcs, repeat=max(2, repeat // 2))
    per_step = {}
    Z = X_uint8
    for name, step in pre.steps:
        t, Z = timed(step.transform, Z)
        per_step[name] = t
    size = int(Z.shape[1])
    cnn = train_throughput(
        clf.architecture, size, epochs=4, batch_size=clf.batch_size, X=Z,
        y=np.asarray(y), dtype_policy=clf.dtype_policy,
    )
    ft = n / chain["fit_transform"]["median"]
    steps = [
        name + (" (off)" if getattr(step, "_is_identity", lambda: False)() else "")
        for name, step in pre.steps
    ]
    return {
        "image_size": size,
        "steps": steps,
        "fit_transform_s": chain["fit_transform"]["median"],
        "transform_s": chain["transform"]["median"],
        "transform_assume_finite_s": chain["transform_assume_finite"]["median"],
        "fit_transform_images_per_s": ft,
        "transform_images_per_s": n / chain["transform"]["median"],
        "transform_assume_finite_images_per_s":
            n / chain["transform_assume_finite"]["median"],
        "transform_step_s": per_step,
        "cnn_architecture": cnn["architecture"],
        "cnn_dtype_policy": cnn["dtype_policy"],
        "cnn_batch_size": int(clf.batch_size),
        "cnn_train_images_per_s": cnn["images_per_s"],
        "cnn_epoch_times": cnn["epoch_times"],
        "chain_over_cnn_train": ft / cnn["images_per_s"],
        **({} if reference is None else {
            "reference_steps": [name for name, _ in reference.steps[:-1]],
            "reference_fit_transform_s": chain["reference_fit_transform"]["median"],
            "reference_fit_transform_images_per_s":
                n / chain["reference_fit_transform"]["median"],
        }),
    }


def print_results(res):
    """Print the comparison table (both skleuk backends against OpenCV)."""
    rows = []
    for r in res["steps"]:
        if r.get("opencv"):
            numpy_ms = (f"{r['skleuk_numpy_s'] * 1e3:.0f}"
                        if "skleuk_numpy_s" in r else "-")
            rows.append([
                r["step"] + (" [OpenCV]" if r.get("skleuk_uses_opencv") else ""),
                f"{r['skleuk_s'] * 1e3:.0f}", numpy_ms, r["opencv"],
                f"{r['opencv_s'] * 1e3:.0f}", f"{r['ratio']:.2f}",
                f"{r['ratio_1thread']:.2f}"
                + (f" (CPU {r['ratio_cpu_1thread']:.2f})"
                   if "ratio_cpu_1thread" in r else ""),
                (f"{r['ratio_numpy']:.2f} (CPU {r['ratio_numpy_cpu_1thread']:.2f})"
                 if "ratio_numpy" in r else "-"),
                f"{r['max_abs_difference']:.1e}",
            ])
        else:
            rows.append([r["step"], f"{r['skleuk_s'] * 1e3:.0f}"] + ["-"] * 7)
    c = res["chain"]
    rows.append([f"whole chain fit_transform (to {c['image_size']} px)",
                 f"{c['fit_transform_s'] * 1e3:.0f}"] + ["-"] * 7)
    rows.append(["whole chain transform", f"{c['transform_s'] * 1e3:.0f}"]
                + ["-"] * 7)
    if "cnn_train_images_per_s" in c:
        rows.append(["whole chain transform (assume_finite)",
                     f"{c['transform_assume_finite_s'] * 1e3:.0f}"] + ["-"] * 7)
        print(f"  chain fit_transform {c['fit_transform_images_per_s']:.0f} img/s, "
              f"CNN {c['cnn_architecture']}@{c['image_size']} training "
              f"{c['cnn_train_images_per_s']:.0f} img/s: ratio "
              f"{c['chain_over_cnn_train']:.2f}", flush=True)
    print_table(
        ["skleuk step", "ms", "numpy ms", "OpenCV equivalent", "ms", "ratio",
         "ratio (1 thread)", "ratio numpy (1 thread CPU)", "max |diff|"],
        rows,
        title=f"Preprocessing {res['n_images']} images of {res['input_size']} px "
        f"(OpenCV {res['opencv_version']}, {res['opencv_threads']} threads; "
        f"skleuk opencv={res.get('skleuk_config', 'auto')!r}, [OpenCV]: the "
        "step calls OpenCV)",
    )
