"""White-cell localisation on the real BCCD smear photographs.

Measures :class:`skleuk.preprocessing.WhiteCellCropper` (and
:func:`~skleuk.preprocessing.find_white_cells`) against the annotated
white-blood-cell boxes of the BCCD images (Shenggan/BCCD_Dataset, MIT
licence; 640x480 JPEG + Pascal VOC XML)::

    python -m benchmarks.bench_localisation [BCCD_DIR] [--plot PNG]
    python benchmarks/bench_localisation.py [BCCD_DIR]

``BCCD_DIR`` holds ``JPEGImages/`` and ``Annotations/`` (default:
``../shared/data/bccd`` relative to the repository root). Figures are
printed and written to ``benchmarks/results/localisation.json``.

Reported:

* images with exactly one annotated white cell: fraction whose located
  centre is inside the box (the headline figure), fraction whose box centre
  and whole box fall inside the crop, number of fallbacks;
* images with two or more white cells: centre inside any box;
* candidates of :func:`find_white_cells` against the boxes (a box is
  *detected* when a candidate centroid lies in it; a candidate is *correct*
  when it lies in some box), per photograph and on 2560x1920 mosaics of 4x4
  photographs (a stand-in for whole ALL-IDB1 smears, which cannot be
  shipped). Unannotated white cells cut by the photograph border count as
  wrong candidates, so precision is a lower bound;
* on random 200x200 crops: how often a cell is found in crops holding at
  least half a white cell, and (falsely) in crops holding none;
* the same headline figure under stain, exposure, blur, noise and scale
  perturbations, and for a global threshold learnt on the clean images
  instead of the per-image one (why the cropper learns no threshold);
* time per image (locate on 640x480; transform of 260 crops of 257x257);
* **every white cell** (``--multi``, also part of a full run):
  :func:`skleuk.screening.locate_white_cells` on all 170 photographs against
  all WBC boxes with :func:`skleuk.screening.localisation_report` (a
  detection counts when its centre lies within half the longer box side of
  the box centre, one-to-one), with and without the cells it flags as cut
  by the border, and on the 2560x1920 mosaics (time per mosaic). Written to
  ``benchmarks/results/localisation_multi.json`` and
  ``docs/_generated/localisation_multi.rst``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from unittest import mock

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # python benchmarks/bench_localisation.py
    sys.path.insert(0, str(REPO_ROOT))

from skleuk.datasets import read_image  # noqa: E402
from skleuk.preprocessing import _detection as seg  # noqa: E402
from skleuk.preprocessing._detection import find_white_cells  # noqa: E402
from skleuk.preprocessing._segmentation import WhiteCellCropper  # noqa: E402

DEFAULT_DIR = REPO_ROOT.parent / "shared" / "data" / "bccd"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "localisation.json"
DOCS_FRAGMENT = REPO_ROOT / "docs" / "_generated" / "localisation.rst"
RESULTS_MULTI = REPO_ROOT / "benchmarks" / "results" / "localisation_multi.json"
DOCS_MULTI = REPO_ROOT / "docs" / "_generated" / "localisation_multi.rst"
# A lower nucleus contrast floor, to show the trade-off on faded stains.
LOW_CONTRAST = 0.05


def read_wbc_boxes(xml_path):
    """WBC boxes ``(xmin, ymin, xmax, ymax)`` of a Pascal VOC file."""
    root = ET.parse(xml_path).getroot()
    boxes = []
    for obj in root.iter("object"):
        if obj.findtext("name", "").strip() != "WBC":
            continue
        bb = obj.find("bndbox")
        boxes.append(
            tuple(float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        )
    return boxes


def load_bccd(folder):
    """Images (uint8, one array) and WBC boxes of every annotated image."""
    folder = Path(folder)
    jpg_dir, xml_dir = folder / "JPEGImages", folder / "Annotations"
    if not jpg_dir.is_dir() or not xml_dir.is_dir():
        raise SystemExit(
            f"{folder} does not look like a BCCD folder: expected "
            "JPEGImages/ and Annotations/ inside it."
        )
    names, images, boxes = [], [], []
    for jpg in sorted(jpg_dir.glob("*.jpg")):
        xml = xml_dir / (jpg.stem + ".xml")
        if not xml.exists():
            continue
        names.append(jpg.name)
        images.append(read_image(jpg))
        boxes.append(read_wbc_boxes(xml))
    if not images:
        raise SystemExit(f"No annotated JPEG images found in {folder}.")
    return names, np.stack(images), boxes


def inside(point, box, margin=0.0):
    """Whether ``point`` (row, col) lies in ``box`` (xmin, ymin, xmax, ymax)."""
    r, c = point
    x0, y0, x1, y1 = box
    return x0 - margin <= c <= x1 + margin and y0 - margin <= r <= y1 + margin


def evaluate_centres(centers, boxes):
    """Hit figures of one set of centres against the WBC boxes."""
    one = [i for i, b in enumerate(boxes) if len(b) == 1]
    many = [i for i, b in enumerate(boxes) if len(b) >= 2]
    hit_one = [inside(centers[i], boxes[i][0]) for i in one]
    hit_many = [any(inside(centers[i], b) for b in boxes[i]) for i in many]
    return {
        "n_one_wbc": len(one),
        "hit_rate_one_wbc": float(np.mean(hit_one)) if one else float("nan"),
        "misses_one_wbc": [i for i, h in zip(one, hit_one, strict=True) if not h],
        "n_multi_wbc": len(many),
        "hit_rate_multi_wbc": float(np.mean(hit_many)) if many else float("nan"),
    }


def crop_figures(centers, boxes, crop_size, shape):
    """Box centre / whole box inside the square crop around each centre."""
    h, w = shape
    one = [i for i, b in enumerate(boxes) if len(b) == 1]
    centre_in, box_in = [], []
    for i in one:
        start = np.floor(centers[i] - (crop_size - 1) / 2.0 + 0.5)
        r0, c0 = start
        r1, c1 = r0 + crop_size - 1, c0 + crop_size - 1
        x0, y0, x1, y1 = boxes[i][0]
        # Box coordinates are 1-based inclusive pixel indices in VOC.
        bc = ((y0 + y1) / 2 - 1, (x0 + x1) / 2 - 1)
        centre_in.append(r0 <= bc[0] <= r1 and c0 <= bc[1] <= c1)
        box_in.append(r0 <= y0 - 1 and y1 - 1 <= r1 and c0 <= x0 - 1 and x1 - 1 <= c1)
    return float(np.mean(centre_in)), float(np.mean(box_in))


def candidate_figures(images, boxes):
    """Detection figures of find_white_cells against all WBC boxes."""
    n_boxes = n_detected = n_cand = n_correct = n_exact = 0
    for image, bxs in zip(images, boxes, strict=True):
        if not bxs:
            continue
        cents, _ = find_white_cells(image)
        n_boxes += len(bxs)
        n_detected += sum(any(inside(c, b) for c in cents) for b in bxs)
        n_cand += len(cents)
        n_correct += sum(any(inside(c, b) for b in bxs) for c in cents)
        n_exact += len(cents) == len(bxs)
    n_img = sum(1 for b in boxes if b)
    return {
        "box_recall": n_detected / n_boxes,
        "candidate_precision": n_correct / max(n_cand, 1),
        "count_exact_rate": n_exact / n_img,
        "n_boxes": n_boxes,
        "n_candidates": n_cand,
    }


def mosaic_figures(images, boxes, grid=4):
    """find_white_cells on whole-smear-sized mosaics of the photographs.

    ``grid x grid`` photographs (only those with annotated white cells) are
    tiled into one 2560x1920 field -- the size and magnification of an
    ALL-IDB1 smear -- and every white cell is searched with the defaults.
    """
    keep = [i for i, b in enumerate(boxes) if b]
    n_mosaics = len(keep) // (grid * grid)
    if n_mosaics == 0:
        return None
    h, w = images.shape[1:3]
    n_boxes = n_detected = n_cand = n_correct = 0
    seconds = 0.0
    for m in range(n_mosaics):
        ids = keep[m * grid * grid : (m + 1) * grid * grid]
        mosaic = np.zeros((grid * h, grid * w, 3), dtype=images.dtype)
        mboxes = []
        for k, i in enumerate(ids):
            r, c = divmod(k, grid)
            mosaic[r * h : (r + 1) * h, c * w : (c + 1) * w] = images[i]
            mboxes += [
                (x0 + c * w, y0 + r * h, x1 + c * w, y1 + r * h)
                for x0, y0, x1, y1 in boxes[i]
            ]
        t0 = time.perf_counter()
        cents, _ = find_white_cells(mosaic)
        seconds += time.perf_counter() - t0
        n_boxes += len(mboxes)
        n_detected += sum(any(inside(c, b) for c in cents) for b in mboxes)
        n_cand += len(cents)
        n_correct += sum(any(inside(c, b) for b in mboxes) for c in cents)
    return {
        "n_mosaics": n_mosaics,
        "mosaic_shape": [grid * h, grid * w],
        "box_recall": n_detected / n_boxes,
        "candidate_precision": n_correct / max(n_cand, 1),
        "n_boxes": n_boxes,
        "n_candidates": n_cand,
        "seconds_per_mosaic": seconds / max(n_mosaics, 1),
    }


def crop_detection_figures(images, boxes, size=200, n=600, seed=0):
    """Found rates on random crops with no white cell / half a white cell.

    Crops are drawn from the photographs with annotated white cells. A crop
    overlapping no box measures false detections (a found cell where there
    is none); one containing at least half of a box measures detections.
    """
    rng = np.random.default_rng(seed)
    keep = [i for i, b in enumerate(boxes) if b]
    h, w = images.shape[1:3]
    idx = rng.choice(keep, n)
    r0 = rng.integers(0, h - size + 1, n)
    c0 = rng.integers(0, w - size + 1, n)
    crops = np.stack(
        [
            images[i, r : r + size, c : c + size]
            for i, r, c in zip(idx, r0, c0, strict=True)
        ]
    )
    empty, whole = [], []
    for i, r, c in zip(idx, r0, c0, strict=True):
        overlap = [
            min(x1, c + size) > max(x0, c) and min(y1, r + size) > max(y0, r)
            for x0, y0, x1, y1 in boxes[i]
        ]
        contains = [
            max(0, min(x1, c + size) - max(x0, c))
            * max(0, min(y1, r + size) - max(y0, r))
            >= 0.5 * (x1 - x0) * (y1 - y0)
            for x0, y0, x1, y1 in boxes[i]
        ]
        empty.append(not any(overlap))
        whole.append(any(contains))
    empty, whole = np.array(empty), np.array(whole)
    out = {
        "crop_size": size,
        "n_crops_without_wbc": int(empty.sum()),
        "n_crops_with_half_a_wbc": int(whole.sum()),
    }
    for name, contrast in (
        ("default", 0.1),
        (f"min_contrast_{LOW_CONTRAST}", LOW_CONTRAST),
    ):
        _, found = WhiteCellCropper(min_contrast=contrast).locate(crops)
        out[f"false_detection_rate_{name}"] = float(found[empty].mean())
        out[f"detection_rate_{name}"] = float(found[whole].mean())
    return out


def perturbations(X):
    """Named stain/exposure/optics perturbations of a uint8 batch (as float)."""
    from scipy import ndimage

    F = X.astype(np.float32) / 255.0
    gray = F.mean(axis=-1, keepdims=True)

    def clip(a):
        return np.clip(a, 0.0, 1.0).astype(np.float32)

    yield "clean", F
    yield "warm stain (gains 1.10/0.95/0.80)", clip(F * [1.10, 0.95, 0.80])
    yield "cool stain (gains 0.85/0.95/1.10)", clip(F * [0.85, 0.95, 1.10])
    yield "faded stain (50% desaturated)", clip(0.5 * F + 0.5 * gray)
    yield "strongly faded (70% desaturated)", clip(0.3 * F + 0.7 * gray)
    yield "dark (gamma 1.8)", clip(F**1.8)
    yield "bright (gamma 0.55)", clip(F**0.55)
    yield "blur (sigma 3 px)", clip(ndimage.gaussian_filter(F, (0, 3, 3, 0)))
    rng = np.random.default_rng(0)
    yield "noise (sigma 0.05)", clip(F + rng.normal(0, 0.05, F.shape))
    small = F.reshape(F.shape[0], F.shape[1] // 2, 2, F.shape[2] // 2, 2, 3)
    yield "half scale (320x240)", small.mean(axis=(2, 4))


def learn_global_threshold(X_clean):
    """One threshold for all images: the median per-image one on clean data."""
    F, _ = seg._stain_feature(
        X_clean, seg._downscale_factor(*X_clean.shape[1:3], 128, 1000.0)
    )
    otsu, median = seg._otsu_and_median(F)
    return float(np.median(np.maximum(otsu, median + 0.1)))


def locate_with_global_threshold(X, threshold):
    """``WhiteCellCropper().locate`` with a fixed threshold on the feature."""

    def fixed(F):
        n = F.shape[0]
        return np.full(n, threshold), np.full(n, -10.0)

    with mock.patch.object(seg, "_otsu_and_median", fixed):
        return WhiteCellCropper().locate(X)


def timing(X):
    """Seconds per image: locate on the full images; transform of 257x257 crops."""
    cropper = WhiteCellCropper()
    t0 = time.perf_counter()
    cropper.locate(X)
    t_locate = (time.perf_counter() - t0) / len(X)
    # 260 crops of 257x257 (the ALL-IDB2 shape) cut from the photographs.
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(X), 260)
    r = rng.integers(0, X.shape[1] - 257, 260)
    c = rng.integers(0, X.shape[2] - 257, 260)
    crops = np.stack(
        [X[i, a : a + 257, b : b + 257] for i, a, b in zip(idx, r, c, strict=True)]
    )
    best = np.inf
    with warnings.catch_warnings():
        # Random crops: many hold no white cell (fallback warnings).
        warnings.simplefilter("ignore", UserWarning)
        cropper = WhiteCellCropper().fit(crops)
        for _ in range(3):
            t0 = time.perf_counter()
            cropper.transform(crops)
            best = min(best, time.perf_counter() - t0)
    return t_locate, best


def plot_check(names, X, boxes, centers, found, path, n=24):
    """Grid of images with annotated boxes (green) and located centres."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    idx = np.linspace(0, len(X) - 1, n).astype(int)
    cols = 6
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows))
    for ax, i in zip(axes.ravel(), idx, strict=False):
        ax.imshow(X[i])
        for x0, y0, x1, y1 in boxes[i]:
            ax.add_patch(
                Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=1.5)
            )
        r, c = centers[i]
        ax.plot(c, r, "+" if found[i] else "x", color="yellow", ms=14, mew=2.5)
        ax.set_title(f"{names[i]} ({len(boxes[i])} WBC)", fontsize=8)
        ax.axis("off")
    for ax in axes.ravel()[len(idx) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=60)
    plt.close(fig)


def _rowcol(boxes):
    """VOC ``(xmin, ymin, xmax, ymax)`` tuples to skleuk's 0-based row/col."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return b[:, [1, 0, 3, 2]] - 1.0


def multi_cell_figures(names, images, boxes, grid=4):
    """locate_white_cells against every WBC box (photographs and mosaics)."""
    from skleuk.screening import localisation_report, locate_white_cells

    truth = [_rowcol(b) for b in boxes]
    t0 = time.perf_counter()
    cells = [locate_white_cells(x) for x in images]
    seconds = (time.perf_counter() - t0) / len(images)
    rep = localisation_report(truth, [c.centres for c in cells])
    inner = localisation_report(truth, [c.centres[~c.border] for c in cells])
    no_split = localisation_report(
        truth, [locate_white_cells(x, split=False).centres for x in images]
    )
    keys = ("precision", "recall", "f1", "n_true", "n_pred", "n_matched")
    out = {
        "criterion": "detection centre within half the longer side of an "
        "annotated WBC box from its centre; one-to-one (Hungarian) matching",
        "all_detections": {k: rep[k] for k in keys},
        "without_border_flagged": {k: inner[k] for k in keys},
        "split_false": {k: no_split[k] for k in keys},
        "n_border_flagged": int(sum(c.border.sum() for c in cells)),
        "n_overlap_split": int(sum(c.overlap.sum() for c in cells)),
        "n_images": len(images),
        "n_images_without_box": int(sum(1 for b in boxes if not b)),
        "seconds_per_640x480": seconds,
        "false_detections": [
            [names[i], int(len(p["false"]))]
            for i, p in enumerate(rep["per_image"])
            if len(p["false"])
        ],
        "missed_boxes": [
            [names[i], int(len(p["missed"]))]
            for i, p in enumerate(rep["per_image"])
            if len(p["missed"])
        ],
    }
    keep = [i for i, b in enumerate(boxes) if b]
    n_mosaics = len(keep) // (grid * grid)
    h, w = images.shape[1:3]
    mtruth, mfound, mseconds = [], [], 0.0
    for m in range(n_mosaics):
        ids = keep[m * grid * grid : (m + 1) * grid * grid]
        mosaic = np.zeros((grid * h, grid * w, 3), dtype=images.dtype)
        mb = []
        for k, i in enumerate(ids):
            r, c = divmod(k, grid)
            mosaic[r * h : (r + 1) * h, c * w : (c + 1) * w] = images[i]
            mb.append(truth[i] + [r * h, c * w, r * h, c * w])
        t0 = time.perf_counter()
        mfound.append(locate_white_cells(mosaic).centres)
        mseconds += time.perf_counter() - t0
        mtruth.append(np.concatenate(mb))
    if n_mosaics:
        mrep = localisation_report(mtruth, mfound)
        out["mosaics"] = {
            **{k: mrep[k] for k in keys},
            "n_mosaics": n_mosaics,
            "mosaic_shape": [grid * h, grid * w],
            "seconds_per_mosaic": mseconds / n_mosaics,
        }
    return out


def write_multi_fragment(res, path):
    """The docs fragment of the every-cell localisation (no titles)."""
    a, b = res["all_detections"], res["without_border_flagged"]
    lines = [
        "Measured by ``python benchmarks/bench_localisation.py --multi`` with "
        "``skleuk.screening.locate_white_cells()`` (defaults) on all "
        f"{res['n_images']} BCCD photographs against all {a['n_true']} "
        "annotated white-cell boxes (a detection counts when its centre lies "
        "within half the longer box side of the box centre; one-to-one "
        "matching):",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - detections",
        "     - recall",
        "     - precision",
        "     - F1",
        "   * - all",
        f"     - {100 * a['recall']:.1f} % ({a['n_matched']} / {a['n_true']})",
        f"     - {100 * a['precision']:.1f} % ({a['n_matched']} / {a['n_pred']})",
        f"     - {a['f1']:.3f}",
        "   * - without those flagged ``border``",
        f"     - {100 * b['recall']:.1f} % ({b['n_matched']} / {b['n_true']})",
        f"     - {100 * b['precision']:.1f} % ({b['n_matched']} / {b['n_pred']})",
        f"     - {b['f1']:.3f}",
    ]
    mos = res.get("mosaics")
    if mos:
        lines += [
            f"   * - {mos['n_mosaics']} mosaics of 4x4 photographs "
            f"({mos['mosaic_shape'][1]}x{mos['mosaic_shape'][0]})",
            f"     - {100 * mos['recall']:.1f} %",
            f"     - {100 * mos['precision']:.1f} %",
            f"     - {mos['f1']:.3f}",
        ]
    lines += [
        "",
        "Inspected by eye, most \"false\" detections are real white cells "
        "that BCCD leaves unannotated: cells cut by the photograph border "
        f"({res['n_border_flagged']} detections are flagged ``border``), and "
        f"whole cells in {res['n_images_without_box']} photographs that have "
        "no WBC box at all. "
        f"Time: {1000 * res['seconds_per_640x480']:.0f} ms per 640x480 "
        "photograph"
        + (
            f", {mos['seconds_per_mosaic']:.2f} s per "
            f"{mos['mosaic_shape'][1]}x{mos['mosaic_shape'][0]} mosaic"
            if mos
            else ""
        )
        + " (one core of a shared 2-core machine).",
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def run_multi(names, X, boxes):
    """Every-cell localisation: print, write JSON and the docs fragment."""
    res = multi_cell_figures(names, X, boxes)
    res["machine"] = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }
    a, b = res["all_detections"], res["without_border_flagged"]
    print(
        f"locate_white_cells, every WBC box of {res['n_images']} photographs: "
        f"recall {a['recall']:.1%}, precision {a['precision']:.1%} "
        f"({a['n_matched']} matched / {a['n_true']} boxes / {a['n_pred']} "
        f"detections); without border-flagged: recall {b['recall']:.1%}, "
        f"precision {b['precision']:.1%}"
    )
    if "mosaics" in res:
        m = res["mosaics"]
        print(
            f"  mosaics: recall {m['recall']:.1%}, precision {m['precision']:.1%}, "
            f"{m['seconds_per_mosaic']:.2f} s per mosaic"
        )
    RESULTS_MULTI.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_MULTI.write_text(json.dumps(res, indent=2) + "\n")
    print(f"results written to {RESULTS_MULTI}")
    print(f"docs fragment written to {write_multi_fragment(res, DOCS_MULTI)}")
    return res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bccd_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--output", default=str(RESULTS), help="JSON results path")
    parser.add_argument("--plot", default=None, help="save a visual check PNG here")
    parser.add_argument(
        "--quick", action="store_true", help="skip perturbations and timing"
    )
    parser.add_argument(
        "--multi",
        action="store_true",
        help="only the every-cell localisation (locate_white_cells)",
    )
    args = parser.parse_args(argv)

    names, X, boxes = load_bccd(args.bccd_dir)
    if args.multi:
        return run_multi(names, X, boxes)
    n_counts = {
        k: sum(len(b) == k for b in boxes) for k in sorted({len(b) for b in boxes})
    }
    print(
        f"BCCD: {len(X)} annotated images {X.shape[1:3]}; WBC boxes per image: "
        f"{n_counts}"
    )

    cropper = WhiteCellCropper().fit(X)
    results = {"n_images": len(X), "wbc_boxes_per_image": n_counts}
    for selection in ("central", "largest"):
        cropper.set_params(selection=selection)
        centers, found = cropper.locate(X)
        fig = evaluate_centres(centers, boxes)
        one = [i for i, b in enumerate(boxes) if len(b) == 1]
        fig["n_fallback_all"] = int((~found).sum())
        fig["n_fallback_one_wbc"] = int((~found[one]).sum())
        fig["crop_size"] = cropper.crop_size_
        fig["box_centre_in_crop"], fig["whole_box_in_crop"] = crop_figures(
            centers, boxes, cropper.crop_size_, X.shape[1:3]
        )
        fig["misses_one_wbc"] = [names[i] for i in fig["misses_one_wbc"]]
        results[f"selection={selection}"] = fig
        print(
            f"selection={selection!r}: centre inside the WBC box for "
            f"{fig['hit_rate_one_wbc']:.1%} of {fig['n_one_wbc']} one-WBC images "
            f"(misses: {fig['misses_one_wbc'] or 'none'}); box centre in the "
            f"{fig['crop_size']} px crop {fig['box_centre_in_crop']:.1%}, whole box "
            f"{fig['whole_box_in_crop']:.1%}; fallbacks {fig['n_fallback_all']}/"
            f"{len(X)}; >=2 WBC: centre in a box {fig['hit_rate_multi_wbc']:.1%} "
            f"of {fig['n_multi_wbc']}"
        )
        if selection == "central":  # the default
            best_centers, best_found = centers, found

    cand = candidate_figures(X, boxes)
    results["find_white_cells"] = cand
    print(
        f"find_white_cells: {cand['box_recall']:.1%} of {cand['n_boxes']} WBC boxes "
        f"hold a candidate; {cand['candidate_precision']:.1%} of "
        f"{cand['n_candidates']} candidates lie in a box; candidate count = box "
        f"count in {cand['count_exact_rate']:.1%} of images"
    )

    mos = mosaic_figures(X, boxes)
    results["find_white_cells_whole_smear_mosaics"] = mos
    if mos is None:
        print("whole-smear proxy skipped: fewer than 16 annotated photographs")
    else:
        print(
            f"whole-smear proxy ({mos['n_mosaics']} mosaics of 4x4 photographs, "
            f"{mos['mosaic_shape'][1]}x{mos['mosaic_shape'][0]}): "
            f"{mos['box_recall']:.1%} of {mos['n_boxes']} WBC boxes hold a candidate; "
            f"{mos['candidate_precision']:.1%} of {mos['n_candidates']} candidates lie "
            f"in a box; {mos['seconds_per_mosaic']:.2f} s per mosaic"
        )

    cd = crop_detection_figures(X, boxes)
    results["random_crops"] = cd
    print(
        f"random {cd['crop_size']}x{cd['crop_size']} crops: a cell is found in "
        f"{cd['detection_rate_default']:.1%} of {cd['n_crops_with_half_a_wbc']} crops "
        f"holding at least half a white cell, and (wrongly) in "
        f"{cd['false_detection_rate_default']:.1%} of {cd['n_crops_without_wbc']} "
        f"crops without any (min_contrast={LOW_CONTRAST}: "
        f"{cd[f'detection_rate_min_contrast_{LOW_CONTRAST}']:.1%} / "
        f"{cd[f'false_detection_rate_min_contrast_{LOW_CONTRAST}']:.1%})"
    )

    if args.plot:
        plot_check(names, X, boxes, best_centers, best_found, args.plot)
        print(f"visual check written to {args.plot}")

    if not args.quick:
        robust = {}
        learnt = None
        for name, Xp in perturbations(X):
            if learnt is None:  # the first set is the clean one
                learnt = learn_global_threshold(Xp)
            scale = Xp.shape[1] / X.shape[1]
            scaled = [[tuple(v * scale for v in b) for b in bx] for bx in boxes]
            hits = {}
            for key, (centers, found) in {
                "default": WhiteCellCropper().locate(Xp),
                "low": WhiteCellCropper(min_contrast=LOW_CONTRAST).locate(Xp),
                "global": locate_with_global_threshold(Xp, learnt),
            }.items():
                hits[key] = evaluate_centres(centers, scaled)["hit_rate_one_wbc"]
                if key == "default":
                    n_fallback = int((~found).sum())
            robust[name] = {
                "hit_rate_one_wbc": hits["default"],
                "n_fallback": n_fallback,
                f"hit_rate_min_contrast_{LOW_CONTRAST}": hits["low"],
                "hit_rate_global_threshold": hits["global"],
            }
            del Xp
        results["robustness"] = robust
        results["global_threshold_value"] = learnt
        print(
            "\nhit rate on one-WBC images under perturbations: default | "
            f"min_contrast={LOW_CONTRAST} | one global threshold ({learnt:.3f}) "
            "learnt on the clean images"
        )
        for name, fig in robust.items():
            print(
                f"  {name:36s} {fig['hit_rate_one_wbc']:7.1%} "
                f"(fallbacks {fig['n_fallback']:3d}) | "
                f"{fig[f'hit_rate_min_contrast_{LOW_CONTRAST}']:7.1%} | "
                f"{fig['hit_rate_global_threshold']:7.1%}"
            )
        t_locate, t_260 = timing(X)
        results["seconds_per_image_locate_640x480"] = t_locate
        results["seconds_transform_260_images_257x257"] = t_260
        print(
            f"\ntime: locate {1000 * t_locate:.1f} ms per 640x480 image; transform "
            f"of 260 images 257x257: {t_260:.2f} s ({1000 * t_260 / 260:.1f} ms each)"
        )

    run_multi(names, X, boxes)

    results["machine"] = {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {out}")
    if not args.quick:
        fragment = write_docs_fragment(results, DOCS_FRAGMENT)
        print(f"docs fragment written to {fragment}")
    return results


def write_docs_fragment(results, path):
    """Write the reStructuredText fragment the docs include (no titles)."""
    central = results["selection=central"]
    fwc = results["find_white_cells"]
    mosaic = results.get("find_white_cells_whole_smear_mosaics")
    lines = [
        "Measured by ``python benchmarks/bench_localisation.py`` on the "
        f"{results['n_images']} annotated BCCD photographs (640x480, "
        "Shenggan/BCCD_Dataset, MIT licence) with the default "
        "``WhiteCellCropper()``:",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - measure",
        "     - result",
        "   * - images with exactly one annotated white cell whose crop centre "
        "falls inside the annotated box",
        f"     - {round(central['hit_rate_one_wbc'] * central['n_one_wbc'])}"
        f" / {central['n_one_wbc']} ({100 * central['hit_rate_one_wbc']:.1f} %)",
        "   * - images with two or more white cells: centre inside one of the boxes",
        f"     - {100 * central['hit_rate_multi_wbc']:.1f} % of "
        f"{central['n_multi_wbc']}",
        f"   * - whole annotated box inside the {central['crop_size']} px crop",
        f"     - {100 * central['whole_box_in_crop']:.1f} %",
        "   * - images with no white cell found (centre-crop fallback)",
        f"     - {central['n_fallback_all']} of {results['n_images']}",
        "   * - ``find_white_cells``: annotated boxes holding a candidate / "
        "candidates inside a box",
        f"     - {100 * fwc['box_recall']:.1f} % of {fwc['n_boxes']} / "
        f"{100 * fwc['candidate_precision']:.1f} % of {fwc['n_candidates']}",
    ]
    if mosaic:
        lines += [
            "   * - the same on whole-smear stand-ins "
            f"({mosaic['n_mosaics']} mosaics of "
            f"{mosaic['mosaic_shape'][1]}x{mosaic['mosaic_shape'][0]} px)",
            f"     - {100 * mosaic['box_recall']:.1f} % / "
            f"{100 * mosaic['candidate_precision']:.1f} %, "
            f"{mosaic['seconds_per_mosaic']:.2f} s per mosaic",
        ]
    faded = results.get("robustness", {}).get("strongly faded (70% desaturated)")
    if faded:
        lines += [
            "",
            "Stain shifts, gamma 0.55-1.8, blur, noise and half scale leave the "
            "hit rate at or near 100 %; a 70 % desaturated stain drops it to "
            f"{100 * faded['hit_rate_one_wbc']:.1f} % ({faded['n_fallback']} "
            "centre-crop fallbacks): normalise colour first or lower "
            "``min_contrast``.",
        ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    main()
