"""Touching white cells: is every cell of a cluster found, one by one?

Real white cells (PBC normal-cell crops, DeepAPL leukemia cell crops) are cut
as feathered discs around their nucleus (radius 1.45 times its equivalent
radius or its farthest pixel + 4, whichever is larger), scaled so that their
median nucleus matches the median BCCD nucleus, and pasted in clusters of
2-10 cells, touching and overlapping by up to a third of their diameter,
beside a few single cells, at one magnification per image (0.6-1.6x), on
BCCD photographs tiled to 1280x960 (their own white cells are avoided;
detections on them, unless on a pasted cell, ignored). The true centres are known.
:func:`skleuk.preprocessing.locate_white_cells` (defaults) is scored by
one-to-one matching within half a cell diameter
(:func:`skleuk.screening.localisation_report`), the count error per image and
its time on a 2592x1944 smear; also on the 170 annotated BCCD photographs and
ten 2560x1920 mosaics of 4x4 of them (white-cell boxes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ._common import list_table
from .data import bccd

NEEDS = ("bccd", "pbc", "deepapl")
#: The opt-in measured beside the defaults: lobed nuclei grouped by density.
OPTION = {"lobed": True}
CANVAS = (960, 1280)
SMEAR = (1944, 2592)
#: Cell types with one round or oval nucleus (blasts and their like).
ROUND_NUCLEUS = ("blast", "lymphocyte", "promyelocyte", "plasma", "promonocyte")
#: PBC and DeepAPL folders that hold no white cell.
NOT_WHITE = ("erythroblast", "unidentified", "arifact", "platelet", "thrombocyte",
             "smudge", "artefact", "artifact", "unknown")
#: The figures of a localisation report that the results keep.
KEYS = ("recall", "precision", "f1", "n_true", "n_pred", "n_matched")


def _bccd(path):
    """The annotated BCCD photographs and their white-cell boxes (rows first)."""
    from skleuk.screening import read_voc_boxes

    names, images, _ = bccd.load(path)
    xml = Path(path) / "Annotations"
    return names, images, [read_voc_boxes(xml / f"{Path(n).stem}.xml") for n in names]


def _crop_files(data, rng, per_source):
    files = []
    if "pbc" in data:
        pbc = [p for d in sorted(Path(data["pbc"]).iterdir())
               if d.is_dir() and not any(k in d.name.lower() for k in NOT_WHITE)
               for p in sorted(d.glob("*.jpg"))]
        files += [("pbc", p) for p in rng.permutation(pbc)[:per_source]]
    if "deepapl" in data:
        apl = [p for p in sorted(Path(data["deepapl"]).glob("*/Signed slides/*/*.jpg"))
               if not any(k in p.parent.name.lower() for k in NOT_WHITE)]
        files += [("deepapl", p) for p in rng.permutation(apl)[:per_source]]
    return files


def cut_cell(crop):
    """RGBA float cell cut around the crop's central nucleus, or None."""
    from skleuk.preprocessing import locate_white_cells

    found = locate_white_cells(crop, split=False, return_labels=True)
    if not len(found.centres):
        return None
    h, w = crop.shape[:2]
    k = int(np.argmin(np.linalg.norm(found.centres - [h / 2, w / 2], axis=1)))
    rr, cc = np.nonzero(found.labels == k + 1)
    cy, cx = found.centres[k]
    far = np.sqrt(((rr - cy) ** 2 + (cc - cx) ** 2).max())
    radius = max(1.45 * np.sqrt(found.nucleus_areas[k] / np.pi), far + 4)
    if min(cy, cx, h - 1 - cy, w - 1 - cx) < radius:
        radius = min(cy, cx, h - 1 - cy, w - 1 - cx)
    yy, xx = np.mgrid[:h, :w]
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    alpha = np.clip((radius - d) / 3.0, 0, 1)
    r0, r1 = int(cy - radius), int(np.ceil(cy + radius)) + 1
    c0, c1 = int(cx - radius), int(np.ceil(cx + radius)) + 1
    rgba = np.dstack([crop / 255.0, alpha])[max(r0, 0) : r1, max(c0, 0) : c1]
    return {"rgba": rgba.astype(np.float32), "radius": float(radius),
            "centre": (cy - max(r0, 0), cx - max(c0, 0)),
            "nucleus_r": float(np.sqrt(found.nucleus_areas[k] / np.pi))}


def _read(path):
    """The image, or None for an unreadable file (a few DeepAPL crops)."""
    from skleuk.datasets import read_image
    from skleuk.exceptions import ImageReadError

    try:
        return read_image(path)
    except ImageReadError:
        return None


def _resize(a, f):
    from skimage.transform import rescale

    out = rescale(a, f, channel_axis=-1, order=1, anti_aliasing=f < 1)
    return out.astype(np.float32)


def _background(tiles, m, shape, rng):
    """Tiled BCCD photographs scaled by ``m``; mask of their white cells."""
    h, w = shape
    bg = np.zeros((h, w, 3), np.float32)
    avoid = np.zeros((h, w), bool)
    th, tw = int(480 * m), int(640 * m)
    for r in range(0, h, th):
        for c in range(0, w, tw):
            image, boxes = tiles[rng.integers(len(tiles))]
            t = _resize(image / 255.0, m)[: h - r, : w - c]
            bg[r : r + t.shape[0], c : c + t.shape[1]] = t
            for r0, c0, r1, c1 in boxes * m:
                avoid[int(r + r0) : int(r + r1) + 1, int(c + c0) : int(c + c1) + 1] = 1
    return bg, avoid


def _paste(canvas, cell, f, at):
    rgba = _resize(cell["rgba"], f)
    cy, cx = np.asarray(cell["centre"]) * f
    r0, c0 = int(round(at[0] - cy)), int(round(at[1] - cx))
    h, w = canvas.shape[:2]
    rs, cs = max(0, -r0), max(0, -c0)
    re, ce = min(rgba.shape[0], h - r0), min(rgba.shape[1], w - c0)
    if re <= rs or ce <= cs:
        return
    a = rgba[rs:re, cs:ce, 3:]
    view = canvas[r0 + rs : r0 + re, c0 + cs : c0 + ce]
    view[:] = a * rgba[rs:re, cs:ce, :3] + (1 - a) * view


def compose(cells, tiles, rng, *, shape=CANVAS, m=1.0, scale=1.0, n_clusters=(1, 3),
            n_singles=(2, 5)):
    """One image: clusters of 2-10 cells and single cells; true centres, radii."""
    canvas, avoid = _background(tiles, m, shape, rng)
    h, w = shape
    placed = []  # (row, col, radius)
    groups = [int(rng.integers(2, 11)) for _ in range(rng.integers(*n_clusters) + 1)]
    groups += [1] * int(rng.integers(*n_singles) + 1)
    f = scale * m
    for size in groups:
        members = [cells[i] for i in rng.choice(len(cells), size)]
        radii = [c["radius"] * f for c in members]
        for _ in range(50):  # a free spot for the cluster
            span = min(max(radii) * (1 + 1.5 * np.sqrt(size)), h / 2 - 1)
            centre = rng.uniform([span, span], [h - span, w - span])
            if not avoid[int(centre[0]), int(centre[1])] and all(
                np.hypot(*(centre - p[:2])) > span + p[2] * 2 for p in placed
            ):
                break
        else:
            continue
        group = [(centre[0], centre[1], radii[0])]
        for r in radii[1:]:
            for _ in range(100):
                pr, pc, prad = group[rng.integers(len(group))]
                d = (prad + r) * (1 - rng.uniform(0, 1 / 3))
                a = rng.uniform(0, 2 * np.pi)
                q = np.array([pr + d * np.sin(a), pc + d * np.cos(a)])
                ok = all(np.hypot(*(q - g[:2])) >= (g[2] + r) * 2 / 3 for g in group)
                inside = r <= q[0] < h - r and r <= q[1] < w - r
                if ok and inside and not avoid[int(q[0]), int(q[1])]:
                    group.append((q[0], q[1], r))
                    break
        for (r, c, _), cell in zip(group, members, strict=False):
            _paste(canvas, cell, f, (r, c))
        placed += group
    image = np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)
    return image, np.array(placed).reshape(-1, 3), avoid


def _score(truth, found, avoid):
    """True boxes (centre +- radius); detections off avoided cells or on a true one."""
    c = found.centres
    near = (np.hypot(*(c[:, None] - truth[None, :, :2]).T) <= truth[:, 2:]).any(0)
    keep = near | ~avoid[c[:, 0].astype(int), c[:, 1].astype(int)]
    return np.c_[truth[:, :2] - truth[:, 2:], truth[:, :2] + truth[:, 2:]], c[keep]


def run(data, *, quick=False, seed=0):
    from skleuk.preprocessing import locate_white_cells
    from skleuk.screening import localisation_report

    rng = np.random.default_rng(seed)
    names, photos, photo_boxes = _bccd(data["bccd"])
    out = {}

    # --- BCCD: photographs and 4x4 mosaics
    t0 = time.perf_counter()
    found = [locate_white_cells(p).centres for p in photos]
    per_photo = (time.perf_counter() - t0) / len(photos)
    rep = localisation_report(photo_boxes, found)
    rep_opt = localisation_report(photo_boxes, [locate_white_cells(p, **OPTION).centres
                                                for p in photos])
    n_mos = 2 if quick else 10
    mos_true, mos_pred, mos_time, mos_opt = [], [], [], []
    for k in range(n_mos):
        idx = range(16 * k, 16 * k + 16)
        mosaic = np.concatenate(
            [np.concatenate([photos[i] for i in idx[r * 4 : r * 4 + 4]], 1)
             for r in range(4)])  # fmt: skip
        boxes = [photo_boxes[i] + np.tile([480 * (j // 4), 640 * (j % 4)], 2)
                 for j, i in enumerate(idx)]
        t0 = time.perf_counter()
        mos_pred.append(locate_white_cells(mosaic).centres)
        mos_time.append(time.perf_counter() - t0)
        mos_opt.append(locate_white_cells(mosaic, **OPTION).centres)
        mos_true.append(np.concatenate(boxes))
    mrep = localisation_report(mos_true, mos_pred)
    out["bccd"] = {"photos": {**_pick(rep), "n_images": len(photos),
                              "seconds_per_640x480": per_photo},
                   "mosaics": {**_pick(mrep), "n_mosaics": n_mos,
                               "seconds_per_2560x1920": float(np.median(mos_time))},
                   "option": {"photos": _pick(rep_opt),
                              "mosaics": _pick(localisation_report(mos_true, mos_opt))}}

    # --- touching cells
    tiles = [(p, np.asarray(b, float).reshape(-1, 4))
             for p, b in zip(photos, photo_boxes, strict=True)]
    bccd_r = np.median([np.sqrt(a / np.pi) for p in photos[:60]
                        for a in locate_white_cells(p, split=False).nucleus_areas])
    files = _crop_files(data, rng, 60 if quick else 300)
    cut = []
    for src, f in files:
        if (im := _read(f)) is not None and (cell := cut_cell(im)) is not None:
            cell["round"] = any(k in f.parent.name.lower() for k in ROUND_NUCLEUS)
            cut.append((src, cell))
    cells = [c for _, c in cut]
    # The docs' overlays show PBC cells (CC BY) on BCCD (MIT) only.
    open_cells = [c for src, c in cut if src == "pbc"] or cells
    scale = bccd_r / np.median([c["nucleus_r"] for c in cells])
    print(f"[touching] {len(cells)} cells, scale {scale:.2f}")
    n_images = 8 if quick else 60
    round_cells = [c for c in cells if c["round"]]
    sets = {"touching": _touching(cells, tiles, rng, scale, n_images)}
    if len(round_cells) >= 20:
        sets["touching_round"] = _touching(round_cells, tiles, rng, scale, n_images)
    examples = []
    for m in (0.7, 1.0, 1.4):
        image, truth, avoid = compose(open_cells, tiles, rng, m=m, scale=scale,
                                      n_clusters=(0, 1), n_singles=(0, 1))
        _, pred = _score(truth, locate_white_cells(image), avoid)
        examples.append(_example(image, truth, pred))
    # time on a 2592x1944 smear (magnification 1)
    smear, _, _ = compose(cells, tiles, rng, shape=SMEAR, m=1.0, scale=scale,
                          n_clusters=(4, 8), n_singles=(6, 12))
    locate_white_cells(smear)
    # Wall time and CPU time (what a loaded, shared machine distorts least).
    times, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        n_smear = len(locate_white_cells(smear).centres)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out.update(sets)
    out["touching"].update(
        n_cells_cut=len(cells), n_round_cells_cut=len(round_cells),
        sources=sorted({s for s, _ in files}), canvas=list(CANVAS),
        seconds_per_2592x1944=float(np.min(times)),
        cpu_seconds_per_2592x1944=float(np.median(cpu)),
        load_average=list(os.getloadavg()), cpu_count=os.cpu_count(),
        cells_in_2592x1944=n_smear)
    out["examples"] = examples
    return out


def _touching(cells, tiles, rng, scale, n_images):
    """Score locate_white_cells on ``n_images`` composed images."""
    from skleuk.preprocessing import locate_white_cells
    from skleuk.screening import localisation_report

    truths, preds, whole, opt = [], [], [], []
    for _ in range(n_images):
        m = float(rng.uniform(0.6, 1.6))
        image, truth, avoid = compose(cells, tiles, rng, m=m, scale=scale)
        boxes, pred = _score(truth, locate_white_cells(image), avoid)
        truths.append(boxes)
        preds.append(pred)
        whole.append(_score(truth, locate_white_cells(image, split=False), avoid)[1])
        opt.append(_score(truth, locate_white_cells(image, **OPTION), avoid)[1])
    counts = ("count_error_median_abs", "count_error_mean", "count_exact")

    def report(found):
        return _pick(localisation_report(truths, found), KEYS + counts)

    out = {**report(preds), "n_images": n_images}
    # The same images without the separation: one detection per candidate.
    out["split_false"], out["option"] = report(whole), report(opt)
    return out


def _pick(report, keys=KEYS):
    return {k: report[k] for k in keys}


def _example(image, truth, pred, size=320):
    """A JPEG (base64) of the first cluster with its true and found centres."""
    import base64
    import io

    from PIL import Image

    first = truth[: max(2, len(truth) - 2)]
    margin = first[:, 2].max() * 1.3
    lo = np.maximum(first[:, :2].min(0) - margin, 0).astype(int)
    hi = np.minimum(first[:, :2].max(0) + margin, image.shape[:2]).astype(int)
    crop = image[lo[0] : hi[0], lo[1] : hi[1]]
    f = size / max(crop.shape[:2])
    h, w = crop.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(crop).resize((int(w * f), int(h * f))).save(buf, format="JPEG",
                                                                 quality=80)

    def points(a):
        a = a[:, :2] - lo
        a = a[(a >= 0).all(1) & (a < hi - lo).all(1)]
        return (a * f).round(1).tolist()

    return {"jpeg": base64.b64encode(buf.getvalue()).decode(), "truth": points(truth),
            "found": points(pred)}


def render(results, out):
    """``touching.rst`` (recall and precision, counts, time) and the overlays."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t, b = results["touching"], results["bccd"]
    variants = (("split_false", "the same images without separation (``split=False``)"),
                ("option", "with ``lobed=True``"))
    rows = []
    for key, what in (("touching", "touching white cells, all kinds"),
                      ("touching_round", "touching blasts, lymphocytes, promyelocytes"),
                      ):
        if (r := results.get(key)) is not None:
            rows += [(f"{what} ({r['n_images']} images, {r['n_true']} cells)", r)]
            rows += [(f"... {label}", r[k]) for k, label in variants if k in r]
    for name, part, shape in (("photographs", "photos", "640x480"),
                              ("4x4 mosaics", "mosaics", "2560x1920")):
        n = b[part].get("n_images", b[part].get("n_mosaics"))
        rows.append((f"BCCD {name} ({n}, {shape})", b[part]))
        rows += [(f"... {label}", b[k][part]) for k, label in variants if k in b]
    lines = [
        "Measured by ``python -m benchmarks.run --only touching`` with "
        ":func:`skleuk.preprocessing.locate_white_cells` (defaults); one-to-one "
        "matching within half a cell diameter (boxes: half the longer side).",
        "",
        list_table(["images", "recall", "precision"],
                   [[name, f"{r['recall']:.3f}", f"{r['precision']:.3f}"]
                    for name, r in rows]),
    ]
    for key, what in (("touching", "all kinds"), ("touching_round", "round nuclei")):
        if key in results:
            r = results[key]
            lines += [f"Count error per image ({what}): median absolute "
                      f"{r['count_error_median_abs']:.1f}, mean "
                      f"{r['count_error_mean']:+.2f} (exact count in "
                      f"{r['count_exact']:.0%} of the images).", ""]
    load = t.get("load_average", [float("nan")])[0]
    lines += [f"Time per 2592x1944 smear ({t['cells_in_2592x1944']} cells): "
              f"{t['seconds_per_2592x1944']:.2f} s wall (best of 5) and "
              f"{t.get('cpu_seconds_per_2592x1944', float('nan')):.2f} s of CPU, on a "
              f"{t.get('cpu_count')}-core machine shared with other jobs (load "
              f"{load:.1f}).", ""]
    written = [out / "touching.rst"]
    written[0].write_text("\n".join(lines))
    if examples := results.get("examples"):
        import base64
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(examples), figsize=(4 * len(examples), 3.4))
        for ax, ex in zip(np.atleast_1d(axes), examples, strict=True):
            image = plt.imread(io.BytesIO(base64.b64decode(ex["jpeg"])), format="jpeg")
            truth = np.asarray(ex["truth"]).reshape(-1, 2)
            pred = np.asarray(ex["found"]).reshape(-1, 2)
            ax.imshow(image)
            ax.scatter(truth[:, 1], truth[:, 0], s=60, facecolors="none",
                       edgecolors="yellow", linewidths=1.2, label="true centre")
            if len(pred):
                ax.scatter(pred[:, 1], pred[:, 0], s=14, c="cyan", marker="x",
                           label="found")
            ax.set_title(f"{len(truth)} true centres, {len(pred)} found", fontsize=9)
            ax.axis("off")
        np.atleast_1d(axes)[0].legend(loc="lower left", fontsize=7)
        fig.tight_layout()
        written.append(out / "touching_overlay.png")
        fig.savefig(written[-1], dpi=90)
        plt.close(fig)
    return written
