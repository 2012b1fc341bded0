"""Preprocessing speed: every skleuk filter against its OpenCV equivalent.

Both sides get the same float32 batch in ``[0, 1]`` (synthetic smears of
257x257 pixels, the size of ALL-IDB2's crops), timed in interleaved rounds
so that load changes hit both alike (median of the rounds). OpenCV filters
one image per call, so its side is a loop over the images, as an OpenCV user
would write it. skleuk's side is the transformer's ``transform`` in its
default configuration (``skleuk.set_config(opencv="auto")``: steps with an
exact OpenCV equivalent call it) and with ``opencv=False`` (numpy only).
The ratio skleuk / OpenCV is the figure of merit (target: at most 1.5); the
largest output difference checks that both compute the same thing. Then
the whole preprocessing chain of :func:`skleuk.make_pipeline`.
"""

from __future__ import annotations

import numpy as np

from ._common import compare, list_table

NEEDS = ()


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


def opencv_reinhard(X, ref_mean, ref_std, min_std=1e-2):
    """Reinhard colour transfer with OpenCV, one image at a time.

    ``cvtColor`` to L*a*b*, ``meanStdDev``, an affine map per channel
    (``cv2.transform``), ``cvtColor`` back to RGB, clip -- what
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


def _pairs(X, image_size):
    """(skleuk step, OpenCV equivalent, skleuk function, OpenCV function)."""
    from skleuk.preprocessing import (
        ColorNormalizer,
        LaplacianSharpener,
        NeighborhoodAverager,
        Resizer,
    )

    norm = ColorNormalizer().fit(X)
    median = NeighborhoodAverager(size=5, method="median", mode="nearest")
    pairs = [
        ("ColorNormalizer (Reinhard)", "cvtColor Lab + meanStdDev + cvtColor RGB",
         lambda: norm.transform(X),
         lambda: opencv_reinhard(X, norm.reference_mean_, norm.reference_std_)),
        ("LaplacianSharpener", "Laplacian(ksize=1) + scaleAdd + clip",
         lambda: LaplacianSharpener().transform(X),
         lambda: opencv_laplacian_sharpen(X)),
        ("NeighborhoodAverager(size=6)", "blur((6, 6))",
         lambda: NeighborhoodAverager(size=6).transform(X),
         lambda: opencv_box_mean(X, 6)),
        ("NeighborhoodAverager(size=5, method='median')", "medianBlur(5)",
         lambda: median.transform(X), lambda: opencv_median(X, 5)),
    ]
    for s in sorted({image_size, 64}):
        pairs.append((f"Resizer(size={s})", "resize(INTER_AREA)",
                      lambda s=s: Resizer(size=s).transform(X),
                      lambda s=s: opencv_resize_area(X, s)))
    return pairs


def run(data, *, quick=False, seed=0):
    """Time every pair and the whole chain."""
    import skleuk
    from skleuk import make_pipeline
    from skleuk.datasets import make_blood_smears

    cv2 = _cv2()
    n, repeat = (40, 2) if quick else (260, 5)
    X8, _ = make_blood_smears(n, image_size=257, random_state=seed, return_X_y=True)
    X = (X8 / np.float32(255)).astype(np.float32)

    def numpy_only(func):
        def run_numpy():
            with skleuk.config_context(opencv=False):
                return func()
        return run_numpy

    rows = []
    for name, cv_name, ours, theirs in _pairs(X, skleuk.DEFAULT_IMAGE_SIZE):
        t = compare({"skleuk": ours, "numpy": numpy_only(ours), "opencv": theirs},
                    repeat=repeat)
        rows.append({"step": name, "opencv": cv_name,
                     **{f"{k}_s": v["median"] for k, v in t.items()},
                     "max_abs_difference": float(np.max(np.abs(ours() - theirs())))})
        print(f"  {name}: x{rows[-1]['skleuk_s'] / rows[-1]['opencv_s']:.2f}",
              flush=True)
    pre = make_pipeline()[:-1]
    chain = compare({"fit_transform": lambda: pre.fit_transform(X8),
                     "transform": lambda: pre.transform(X8)}, repeat=repeat)
    return {"n_images": n, "input_size": 257, "opencv_version": cv2.__version__,
            "opencv_threads": cv2.getNumThreads(), "steps": rows,
            "chain": {k: v["median"] for k, v in chain.items()},
            "chain_steps": [name for name, _ in pre.steps]}


def render(results, out):
    """``performance_preprocessing.rst``: the table and the chain's throughput."""
    r, n = results, results["n_images"]
    lines = [
        f"{n} synthetic images of {r['input_size']}x{r['input_size']} pixels, "
        f"float32, the same batch for both sides, medians of interleaved rounds; "
        f"OpenCV {r['opencv_version']} with {r['opencv_threads']} threads, one "
        "image per call. *ratio*: skleuk (default configuration) / OpenCV, lower "
        "is better (target 1.5); *numpy*: skleuk with ``opencv=False``. "
        f"On 2 CPU cores shared with other jobs (load average "
        f"{r['load_average'][0]:.1f}; {r['date']}).",
        "",
        list_table(["skleuk step", "ms", "numpy ms", "OpenCV equivalent", "ms", "ratio",
                    "max abs diff"],
                   [[s["step"], f"{s['skleuk_s'] * 1e3:.0f}",
                     f"{s['numpy_s'] * 1e3:.0f}", f"``{s['opencv']}``",
                     f"{s['opencv_s'] * 1e3:.0f}",
                     f"{s['skleuk_s'] / s['opencv_s']:.2f}",
                     f"{s['max_abs_difference']:.1e}"] for s in r["steps"]]),
    ]
    c = r["chain"]
    lines += [
        f"The whole preprocessing chain of ``make_pipeline()`` "
        f"({', '.join(r['chain_steps'])}) on the {n} raw uint8 images: "
        f"``fit_transform`` {n / c['fit_transform']:.0f} images/s, ``transform`` "
        f"{n / c['transform']:.0f} images/s.", ""]
    path = out / "performance_preprocessing.rst"
    path.write_text("\n".join(lines))
    return [path]
