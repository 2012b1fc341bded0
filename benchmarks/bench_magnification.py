"""Magnification normalisation on real smears: the red-cell ruler.

Usage::

    python -m benchmarks.bench_magnification --data /path/to/images          # full
    python -m benchmarks.bench_magnification --data /path/to/images --quick
    python -m benchmarks.bench_magnification --render magnification.json \
        magnification.rst
    SKLEUK_ARIA_DATA=/path/to/images python -m benchmarks.run --only magnification

Measures :func:`skleuk.preprocessing.estimate_rbc_diameter` and
:class:`skleuk.preprocessing.MagnificationNormalizer` on the Aria B-ALL
fields (``--data``, see ``benchmarks/bench_accuracy.py``; the same
colour normalisation onto the BCCD reference and border cut, the shortcut
control) and on the BCCD sample beside the project:

* **the estimate** -- its spread (coefficient of variation) over the Aria
  fields (one microscope: it should be tight) and over BCCD, where it is
  compared with the annotated red-cell boxes; and the ratio it recovers when
  the fields are zoomed about their centre by 0.8, 1.25 and 1.5 (it should
  track the zoom);
* **the task** -- the cell-level binary task of ``bench_accuracy`` (64x64
  windows around the white cells found by
  :func:`~skleuk.preprocessing.find_white_cells`, labelled with their
  field's class, Benign vs malignant, folds grouped by field and
  near-duplicates). The default pipeline is trained on fields at zoom 1.0
  and tested on the held-out fields zoomed by 0.8, 1.0, 1.25 and 1.5,
  without the step, and with the step applied to the fields before the
  windows are cut (``MagnificationNormalizer`` fitted on the training
  fields; a second network trained on the normalised training fields). The
  fits are reused across zoom levels: only the prediction changes.

The zooms of the test fields use :func:`skleuk.utils._image_ops.resize_images`
(a centre crop enlarged, or the field shrunk and reflect-padded), not the
step's own resampler. Writes ``benchmarks/results/magnification.json``
(incrementally) and, for full runs, ``docs/_generated/magnification.rst``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np

from ._common import DOCS_GENERATED, RESULTS_DIR, load_average, machine
from .bench_accuracy import (
    BCCD_DIR,
    _scores,
    bccd_reference,
    binary,
    cut_cells,
    load_fields,
    make_model,
    normalise,
)

ZOOMS = (0.8, 1.0, 1.25, 1.5)
BCCD_ROOT = BCCD_DIR.parent


def zoom_fields(X, z):
    """Zoom uint8 fields about their centre by ``z``, keeping their size."""
    from skleuk.utils._image_ops import resize_images

    n, h, w, _ = X.shape
    Xf = X.astype(np.float32) / 255.0
    if z == 1.0:
        out = Xf
    elif z > 1.0:
        sh, sw = int(round(h / z)), int(round(w / z))
        r0, c0 = (h - sh) // 2, (w - sw) // 2
        out = resize_images(Xf[:, r0 : r0 + sh, c0 : c0 + sw], (h, w))
    else:
        sh, sw = int(round(h * z)), int(round(w * z))
        Y = resize_images(Xf, (sh, sw))
        t, left = (h - sh) // 2, (w - sw) // 2
        out = np.pad(Y, ((0, 0), (t, h - sh - t), (left, w - sw - left), (0, 0)),
                     mode="reflect")
    return np.rint(out * 255).astype(np.uint8)


def _spread(d):
    d = d[np.isfinite(d)]
    if d.size == 0:
        return {"n_found": 0}
    return {"n_found": int(d.size), "median": float(np.median(d)),
            "mean": float(d.mean()), "cv": float(d.std() / d.mean()),
            "p10": float(np.percentile(d, 10)), "p90": float(np.percentile(d, 90))}


def bccd_truth():
    """BCCD images and the median side (sqrt of the box area) of their
    annotated red cells not cut by the image border."""
    import xml.etree.ElementTree as ET

    from PIL import Image

    files = sorted((BCCD_ROOT / "JPEGImages").glob("*.jpg"))
    X = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    truth = np.full(len(files), np.nan)
    for i, f in enumerate(files):
        sides = []
        tree = ET.parse(BCCD_ROOT / "Annotations" / f"{f.stem}.xml")
        for obj in tree.findall("object"):
            if obj.findtext("name") != "RBC":
                continue
            b = obj.find("bndbox")
            x0, y0, x1, y1 = (float(b.findtext(k)) for k in
                              ("xmin", "ymin", "xmax", "ymax"))
            if min(x0, y0) <= 1 or x1 >= X.shape[2] - 1 or y1 >= X.shape[1] - 1:
                continue
            sides.append(np.sqrt((x1 - x0) * (y1 - y0)))
        if sides:
            truth[i] = np.median(sides)
    return X, truth


def estimator_accuracy(X):
    """Spread of the estimate on the Aria fields and BCCD; zoom tracking."""
    from skleuk.preprocessing import estimate_rbc_diameter

    out = {}
    t0 = time.perf_counter()
    d1, f1 = estimate_rbc_diameter(X)
    out["seconds_per_image"] = (time.perf_counter() - t0) / len(X)
    out["aria"] = {"n": int(len(X)), **_spread(d1)}
    out["zoom"] = []
    for z in ZOOMS:
        if z == 1.0:
            continue
        dz, fz = estimate_rbc_diameter(zoom_fields(X, z))
        ok = f1 & fz
        r = dz[ok] / d1[ok]
        out["zoom"].append({
            "zoom": z, "n": int(ok.sum()), "ratio_median": float(np.median(r)),
            "ratio_p10": float(np.percentile(r, 10)),
            "ratio_p90": float(np.percentile(r, 90)),
            "within_10pct": float(np.mean(np.abs(r / z - 1) <= 0.10)),
        })
    try:
        B, truth = bccd_truth()
    except (OSError, ValueError) as exc:  # the sample is optional
        out["bccd"] = {"error": str(exc)}
        return out
    db, fb = estimate_rbc_diameter(B)
    ok = fb & np.isfinite(truth)
    r = db[ok] / truth[ok]
    out["white_cell"] = white_cell_ruler(X, d1, f1, B, truth, db, fb)
    out["bccd"] = {
        "n": int(len(B)), **_spread(db),
        "truth_median": float(np.nanmedian(truth)),
        "truth_cv": float(np.nanstd(truth) / np.nanmean(truth)),
        "ratio_to_truth_median": float(np.median(r)),
        "ratio_to_truth_p10": float(np.percentile(r, 10)),
        "ratio_to_truth_p90": float(np.percentile(r, 90)),
    }
    return out


def task_effect(X, y4, groups, *, folds, max_cells, random_state=0, epochs=None,
                on_fold=None):
    """Cell-level binary task under zoom, without and with the step."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedGroupKFold

    from skleuk.preprocessing import MagnificationNormalizer

    yb = binary(y4)
    classes = np.unique(yb)
    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    variants = ("without", "with")
    # Per variant and zoom: out-of-fold cell probabilities, labels, field ids.
    store = {(v, z): ([], [], []) for v in variants for z in ZOOMS}
    factors = {z: [] for z in ZOOMS}
    seconds = {v: 0.0 for v in variants}
    fields = np.arange(len(X))
    for k, (train, test) in enumerate(cv.split(X, yb, groups)):
        step = MagnificationNormalizer().fit(X[train])
        to_u8 = lambda Z: np.rint(Z * 255).astype(np.uint8)  # noqa: E731
        train_sets = {
            "without": X[train],
            "with": to_u8(step.transform(X[train])),
        }
        for v in variants:
            t0 = time.perf_counter()
            cells, cy, _, _ = cut_cells(train_sets[v], yb[train], groups[train],
                                        max_cells)
            model = clone(make_model("default", "cell", random_state + k))
            if epochs is not None:
                model.set_params(cnn__epochs=epochs)
            model.fit(cells, cy)
            seconds[v] += time.perf_counter() - t0
            for z in ZOOMS:
                Xz = zoom_fields(X[test], z)
                if v == "with":
                    f, _ = step.zoom_factors(Xz)
                    factors[z].append(f)
                    Xz = to_u8(step.transform(Xz))
                cells, cy, _, src = cut_cells(Xz, yb[test], groups[test], max_cells)
                p, yy, ff = store[(v, z)]
                p.append(model.predict_proba(cells))
                yy.append(cy)
                ff.append(fields[test][src])
            print(f"  fold {k}: {v} the step, {seconds[v]:.0f}s so far", flush=True)
        if on_fold is not None:
            on_fold(_summarise(store, factors, classes, yb, k + 1, seconds))
    return _summarise(store, factors, classes, yb, folds, seconds)


def _summarise(store, factors, classes, yb, folds_done, seconds):
    rows = []
    for (v, z), (p, yy, ff) in store.items():
        if not p:
            continue
        proba, y, fid = np.concatenate(p), np.concatenate(yy), np.concatenate(ff)
        res = {"variant": v, "zoom": z, "n_cells": int(len(y)),
               **_scores(y, proba, classes, "Benign")}
        fu = np.unique(fid)
        fp = np.stack([proba[fid == f].mean(axis=0) for f in fu])
        field = _scores(yb[fu], fp, classes, "Benign")
        res.update({f"field_{k}": v2 for k, v2 in field.items()})
        res["n_fields"] = int(len(fu))
        if v == "with" and factors[z]:
            f = np.concatenate(factors[z])
            res["zoom_factor_median"] = float(np.median(f))
            res["zoom_factor_p10"] = float(np.percentile(f, 10))
            res["zoom_factor_p90"] = float(np.percentile(f, 90))
        rows.append(res)
    rows.sort(key=lambda r: (r["zoom"], r["variant"] != "without"))
    return {"folds_done": folds_done, "fit_seconds": dict(seconds), "rows": rows}


def _ruler_spread(ruler, reference):
    ok = np.isfinite(ruler) & np.isfinite(reference)
    r = ruler[ok] / reference[ok]
    return {"n": int(ok.sum()), "median": float(np.median(r)),
            "p10": float(np.percentile(r, 10)), "p90": float(np.percentile(r, 90)),
            "within_10pct": float(np.mean(np.abs(r - 1) <= 0.10)),
            "within_25pct": float(np.mean(np.abs(r - 1) <= 0.25))}


def white_cell_ruler(X, d_aria, f_aria, B, truth, d_bccd, f_bccd):
    """The fallback ruler of ``MagnificationNormalizer(fallback="white_cell")``.

    The largest white-cell nucleus's equivalent diameter divided by the
    nucleus-to-red-cell ratio, compared with the red-cell estimate on the
    Aria fields and with the annotated red cells on BCCD -- with the ratio
    learnt on the same data set, and with Aria's ratio applied to BCCD (a
    model trained on one data set measuring another).
    """
    from skleuk.preprocessing._magnification import white_cell_diameters

    t0 = time.perf_counter()
    nuc_a = white_cell_diameters(X, np.arange(len(X)))
    nuc_b = white_cell_diameters(B, np.arange(len(B)))
    seconds = (time.perf_counter() - t0) / (len(X) + len(B))
    ref_a = np.where(f_aria, d_aria, np.nan)
    ratio_a = float(np.nanmedian(nuc_a / ref_a))
    ratio_b = float(np.nanmedian(nuc_b / truth))
    return {
        "seconds_per_image": seconds,
        "ratio_aria": ratio_a, "ratio_bccd": ratio_b,
        "found_aria": int(np.isfinite(nuc_a).sum()),
        "found_bccd": int(np.isfinite(nuc_b).sum()),
        "fallback_used_aria": int((~f_aria & np.isfinite(nuc_a)).sum()),
        "fallback_used_bccd": int((~f_bccd & np.isfinite(nuc_b)).sum()),
        "aria_vs_red_cells": _ruler_spread(nuc_a / ratio_a, ref_a),
        "bccd_vs_annotated": _ruler_spread(nuc_b / ratio_b, truth),
        "bccd_with_aria_ratio": _ruler_spread(nuc_b / ratio_a, truth),
        "bccd_red_cells_vs_annotated": _ruler_spread(
            np.where(f_bccd, d_bccd, np.nan), truth),
    }


def run(data, *, per_class, folds, max_cells, random_state=0, epochs=None,
        on_result=None, skip_task=False):
    from skleuk.model_selection import find_duplicate_groups

    X_raw, y4, _ = load_fields(data, per_class, random_state)
    groups = find_duplicate_groups(X_raw)
    X = normalise(X_raw, bccd_reference())
    out = {"data": {"n_fields": int(len(X)), "per_class": per_class,
                    "folds": folds, "max_cells": max_cells,
                    "field_size": list(X.shape[1:3]), "zooms": list(ZOOMS)}}
    out["estimate"] = est = estimator_accuracy(X)
    a = est["aria"]
    print(f"  Aria: median diameter {a.get('median', float('nan')):.1f} px, CV "
          f"{a.get('cv', float('nan')):.3f}, found {a['n_found']}/{a['n']}", flush=True)
    for r in est["zoom"]:
        print(f"  zoom {r['zoom']}: ratio {r['ratio_median']:.3f} "
              f"[{r['ratio_p10']:.3f}, {r['ratio_p90']:.3f}], within 10 %: "
              f"{r['within_10pct']:.2f}", flush=True)
    if "median" in est.get("bccd", {}):
        b = est["bccd"]
        print(f"  BCCD: median {b['median']:.1f} px (annotated "
              f"{b['truth_median']:.1f}),"
              f" CV {b['cv']:.3f}, ratio to the boxes {b['ratio_to_truth_median']:.3f}"
              f" [{b['ratio_to_truth_p10']:.3f}, {b['ratio_to_truth_p90']:.3f}]",
              flush=True)
    w = est.get("white_cell")
    if w:
        for key in ("aria_vs_red_cells", "bccd_vs_annotated", "bccd_with_aria_ratio",
                    "bccd_red_cells_vs_annotated"):
            r = w[key]
            print(f"  white-cell ruler {key}: median {r['median']:.2f} "
                  f"[{r['p10']:.2f}, {r['p90']:.2f}], within 25 %: "
                  f"{r['within_25pct']:.2f} (n={r['n']})", flush=True)
    if on_result is not None:
        on_result(out)
    if skip_task:
        return out

    def partial(task):
        out["task"] = task
        if on_result is not None:
            on_result(out)

    out["task"] = task_effect(X, y4, groups, folds=folds, max_cells=max_cells,
                              random_state=random_state, epochs=epochs,
                              on_fold=partial)
    print_task(out["task"])
    return out


def print_task(task):
    print(f"  {'variant':<8} {'zoom':>5} {'acc':>6} {'sens':>6} {'spec':>6} "
          f"{'AUC':>6} {'field acc':>9}")
    for r in task["rows"]:
        print(f"  {r['variant']:<8} {r['zoom']:>5} {r['accuracy']:.3f} "
              f"{r['sensitivity']:.3f} {r['specificity']:.3f} {r['auc']:.3f} "
              f"{r['field_accuracy']:>9.3f}", flush=True)


# ---------------------------------------------------------------------------
# docs
# ---------------------------------------------------------------------------
def _white_cell_lines(w):
    """The table of the white-cell fallback ruler (absent before round 5)."""
    if not w:
        return []
    rows = [
        ("Aria fields: white cell / red-cell estimate", "aria_vs_red_cells",
         f"Aria ({w['ratio_aria']:.2f})"),
        ("BCCD: white cell / annotated red cells", "bccd_vs_annotated",
         f"BCCD ({w['ratio_bccd']:.2f})"),
        ("BCCD: white cell / annotated red cells", "bccd_with_aria_ratio",
         f"Aria ({w['ratio_aria']:.2f})"),
        ("BCCD: red-cell estimate / annotated red cells (for comparison)",
         "bccd_red_cells_vs_annotated", "n/a"),
    ]
    lines = [
        ".. list-table:: The white-cell fallback ruler (largest nucleus's "
        "equivalent diameter / the learnt nucleus-to-red-cell ratio)",
        "   :header-rows: 1",
        "",
        "   * - measured / reference\n     - ratio learnt on\n     - images\n"
        "     - median\n     - 10th-90th percentile\n     - within 10 %\n"
        "     - within 25 %",
    ]
    for label, key, learnt in rows:
        r = w[key]
        lines.append(
            f"   * - {label}\n     - {learnt}\n     - {r['n']}\n     - "
            f"{r['median']:.2f}\n     - {r['p10']:.2f}-{r['p90']:.2f}\n     - "
            f"{r['within_10pct']:.0%}\n     - {r['within_25pct']:.0%}")
    lines += [
        "",
        f"Images the fallback would measure (no red-cell estimate, a white cell "
        f"found): {w['fallback_used_aria']} Aria fields, "
        f"{w['fallback_used_bccd']} BCCD photographs; "
        f"{w['seconds_per_image'] * 1000:.0f} ms an image.",
        "",
    ]
    return lines


def fragment(res):
    d, est = res["data"], res["estimate"]
    a = est["aria"]
    lines = [
        ".. Generated by benchmarks/bench_magnification.py -- do not edit.",
        "",
        f"Data: {d['n_fields']} Aria B-ALL fields ({d['per_class']} per class, "
        f"colour-normalised onto the BCCD reference, border cut: "
        f"{d['field_size'][0]}x{d['field_size'][1]} pixels) and the "
        f"{est.get('bccd', {}).get('n', 0)} BCCD photographs (640x480). Run "
        f"{res['when']} on {res['machine']['cpu'].get('model_name', '?')} "
        f"({res['machine']['cpu'].get('cores', '?')} cores, load average "
        f"{res['load_average']:.1f} at the start).",
        "",
        ".. list-table:: The red-cell diameter estimate",
        "   :header-rows: 1",
        "",
        "   * - images\n     - found\n     - median (px)\n     - CV\n"
        "     - 10th-90th percentile (px)\n     - annotated (px)\n"
        "     - estimate / annotated",
        f"   * - Aria fields\n     - {a['n_found']}/{a['n']}\n     - "
        f"{a['median']:.1f}\n     - {a['cv']:.3f}\n     - {a['p10']:.1f}-"
        f"{a['p90']:.1f}\n     - n/a\n     - n/a",
    ]
    b = est.get("bccd", {})
    if "median" in b:
        lines.append(
            f"   * - BCCD photographs\n     - {b['n_found']}/{b['n']}\n     - "
            f"{b['median']:.1f}\n     - {b['cv']:.3f}\n     - {b['p10']:.1f}-"
            f"{b['p90']:.1f}\n     - {b['truth_median']:.1f} (CV "
            f"{b['truth_cv']:.3f})\n     - {b['ratio_to_truth_median']:.2f} "
            f"({b['ratio_to_truth_p10']:.2f}-{b['ratio_to_truth_p90']:.2f})")
    lines += [
        "",
        ".. list-table:: Zoom recovered on the Aria fields (estimate on the "
        "zoomed field / on the field)",
        "   :header-rows: 1",
        "",
        "   * - zoom\n     - median ratio\n     - 10th-90th percentile\n"
        "     - fields within 10 % of the zoom",
    ]
    for r in est["zoom"]:
        lines.append(
            f"   * - {r['zoom']}\n     - {r['ratio_median']:.3f}\n     - "
            f"{r['ratio_p10']:.3f}-{r['ratio_p90']:.3f}\n     - "
            f"{r['within_10pct']:.0%}")
    lines.append("")
    lines += _white_cell_lines(est.get("white_cell"))
    task = res.get("task")
    if task:
        lines += [
            f".. list-table:: Cell-level Benign vs malignant, trained at zoom 1.0, "
            f"tested on zoomed fields ({task['folds_done']} of {d['folds']} folds)",
            "   :header-rows: 1",
            "",
            "   * - test zoom\n     - step\n     - cells\n     - accuracy\n"
            "     - sensitivity\n     - specificity\n     - AUC\n"
            "     - field accuracy\n     - field AUC\n     - zoom applied (median)",
        ]
        for r in task["rows"]:
            zf = r.get("zoom_factor_median")
            lines.append(
                f"   * - {r['zoom']}\n     - {r['variant']}\n     - {r['n_cells']}"
                f"\n     - {r['accuracy']:.3f}\n     - {r['sensitivity']:.3f}\n"
                f"     - {r['specificity']:.3f}\n     - {r['auc']:.3f}\n"
                f"     - {r['field_accuracy']:.3f}\n     - {r['field_auc']:.3f}\n"
                f"     - {'' if zf is None else f'{zf:.2f}'}")
        fs = task.get("fit_seconds", {})
        lines += ["", f"Training time, all folds: without the step "
                  f"{fs.get('without', 0):.0f} s, with it {fs.get('with', 0):.0f} s."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKLEUK_ARIA_DATA"),
                        help="folder with Benign/Early/Pre/Pro (or SKLEUK_ARIA_DATA)")
    parser.add_argument("--quick", action="store_true",
                        help="8 fields a class, 2 folds, 2 cells a field, 2 epochs")
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cells", type=int, default=3)
    parser.add_argument("--estimate-only", action="store_true",
                        help="only the estimator's accuracy, no training")
    parser.add_argument("--out", default=None,
                        help="results file name in benchmarks/results/ (default "
                        "magnification.json, which also rewrites "
                        "docs/_generated/magnification.rst)")
    parser.add_argument("--render", nargs=2, metavar=("RESULTS", "FRAGMENT"),
                        help="only render benchmarks/results/RESULTS as "
                        "docs/_generated/FRAGMENT, then exit")
    args = parser.parse_args(argv)
    if args.render:
        res = json.loads((RESULTS_DIR / args.render[0]).read_text())
        (DOCS_GENERATED / args.render[1]).write_text(fragment(res))
        print(f"wrote {DOCS_GENERATED / args.render[1]}")
        return res
    if not args.data:
        raise SystemExit("--data (or SKLEUK_ARIA_DATA) is required: the Aria images")
    if args.quick:
        args.per_class, args.folds, args.cells = 8, 2, 2
    res = {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
           "load_average": (load_average() or [float("nan")])[0],
           "quick": args.quick}
    folder = RESULTS_DIR / "quick" if args.quick else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (args.out or "magnification.json")

    def save(partial):
        res.update(partial)
        res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        path.write_text(json.dumps(res, indent=1))

    save(run(args.data, per_class=args.per_class, folds=args.folds,
             max_cells=args.cells, epochs=2 if args.quick else None,
             on_result=save, skip_task=args.estimate_only))
    print(f"wrote {path}")
    if not args.quick and not args.out:
        (DOCS_GENERATED / "magnification.rst").write_text(fragment(res))
        print(f"wrote {DOCS_GENERATED / 'magnification.rst'}")
    return res


if __name__ == "__main__":
    main()
