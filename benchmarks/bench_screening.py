"""Whole-smear screening: speed of one 2592x1944 smear, and image-level Aria.

::

    python -m benchmarks.bench_screening            # speed (about a minute)
    python -m benchmarks.bench_screening --aria [--quick] [--data DIR]

**Speed.** A 2592x1944 smear is built from 4x4 BCCD photographs (640x480,
the cell size of an ALL-IDB1 smear at that resolution: white cells 100-230
px) padded to 2592x1944, and written as JPEG. A
:class:`skleuk.screening.SmearScreener` with the default cell pipeline
(:func:`skleuk.make_pipeline`, trained one epoch: only the time matters
here) screens it end to end from the file -- read, locate every white cell,
crop, classify, aggregate -- once to warm up, then ``--repeat`` times. The
parts are timed separately. Timings on a shared machine are noisy: the load
average is recorded.

**Aria** (``--aria``; the B-ALL smear fields of Aria et al., 224x224,
image-level labels Benign/Early/Pre/Pro, from ``--data`` or
``$SKLEUK_ARIA_DATA``; never shipped). Binary (Benign vs the rest) and
4-class image level through :class:`skleuk.screening.SmearScreener` with
the default cell pipeline, stratified group K-fold with near-duplicate
fields grouped (:func:`skleuk.model_selection.find_duplicate_groups`), the
colour shortcut controlled exactly as in ``bench_accuracy`` (every field
mapped onto the BCCD sample's colours, border cut); the colour-histogram
baseline runs on the same input. ``--quick`` uses 20 fields per class and
3 folds (a smoke test; not a figure to quote).

Results: ``benchmarks/results/screening.json`` (``screening_aria.json``)
and ``docs/_generated/screening_speed.rst``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks._common import (  # noqa: E402
    ARIA_CLASSES,
    DOCS_GENERATED,
    load_average,
    quiet_tensorflow,
    write_json,
)

BCCD = REPO_ROOT.parent / "shared" / "data" / "bccd"
SMEAR_SHAPE = (1944, 2592)


def make_smear(bccd=BCCD, grid=4):
    """A 2592x1944 uint8 smear: 4x4 BCCD photographs, edge-padded."""
    from skleuk.datasets import read_image

    files = sorted((Path(bccd) / "JPEGImages").glob("*.jpg"))[: grid * grid]
    tiles = [read_image(f) for f in files]
    h, w = tiles[0].shape[:2]
    mosaic = np.zeros((grid * h, grid * w, 3), np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, grid)
        mosaic[r * h : (r + 1) * h, c * w : (c + 1) * w] = t
    ph, pw = SMEAR_SHAPE[0] - mosaic.shape[0], SMEAR_SHAPE[1] - mosaic.shape[1]
    return np.pad(
        mosaic, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), "edge"
    ), files


def speed(repeat=3, bccd=BCCD):
    """Seconds to screen one 2592x1944 smear file end to end, and its parts."""
    from PIL import Image

    from skleuk import make_pipeline
    from skleuk.datasets import read_image
    from skleuk.screening import SmearScreener, locate_white_cells
    from skleuk.utils.validation import check_images

    smear, files = make_smear(bccd)
    tmp = Path(tempfile.mkdtemp()) / "smear_2592x1944.jpg"
    Image.fromarray(smear).save(tmp, quality=95)
    # Fit on 8 photographs with arbitrary labels: the time is what counts.
    train = [read_image(f) for f in files[:8]]
    cells = make_pipeline(cnn__epochs=1, cnn__verbose=0)
    screener = SmearScreener(cells, aggregation="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screener.fit(train, [0, 1] * 4)
    load_before = load_average()
    screener.screen([tmp])  # warm-up (graph tracing)
    totals = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = screener.screen([tmp])[0]
        totals.append(time.perf_counter() - t0)

    # Parts, each the best of ``repeat`` runs.
    def best(func):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = func()
            times.append(time.perf_counter() - t0)
        return min(times), out

    t_read, image = best(lambda: check_images([read_image(tmp)], input_name="smear")[0])
    t_locate, located = best(lambda: locate_white_cells(image))
    t_crop, (_, crops) = best(lambda: screener._cells(image))
    t_classify, _ = best(lambda: screener.cell_model_.predict_proba(crops))
    return {
        "smear_shape": list(SMEAR_SHAPE),
        "n_cells": int(len(res.centres)),
        "n_cells_located": int(len(located.centres)),
        "cell_pipeline": {
            k: v
            for k, v in screener.cell_model_.get_params().items()
            if k in ("resize__size", "cnn__architecture")
        },
        "crop_size": screener.crop_size,
        "seconds_end_to_end": totals,
        "seconds_end_to_end_best": min(totals),
        "seconds_read": t_read,
        "seconds_locate": t_locate,
        "seconds_locate_and_crop": t_crop,
        "seconds_classify": t_classify,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "cpu_count": os.cpu_count(),
    }


def write_speed_fragment(res, path=DOCS_GENERATED / "screening_speed.rst"):
    """The docs fragment of the speed figure (no titles)."""
    lines = [
        "Measured by ``python -m benchmarks.bench_screening``: one "
        f"{res['smear_shape'][1]}x{res['smear_shape'][0]} smear (JPEG; 4x4 BCCD "
        f"photographs, {res['n_cells']} white cells found) screened end to end "
        "from the file by ``SmearScreener`` with the default cell pipeline "
        f"({res['cell_pipeline'].get('cnn__architecture')} network at "
        f"{res['cell_pipeline'].get('resize__size')} px, crops of "
        f"{res['crop_size']} px):",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - step (each the best of as many runs)",
        "     - seconds",
        f"   * - end to end (best of {len(res['seconds_end_to_end'])})",
        f"     - {res['seconds_end_to_end_best']:.2f}",
        "   * - read and decode the JPEG",
        f"     - {res['seconds_read']:.2f}",
        "   * - locate every white cell",
        f"     - {res['seconds_locate']:.2f}",
        "   * - locate and cut the crops",
        f"     - {res['seconds_locate_and_crop']:.2f}",
        "   * - classify the crops",
        f"     - {res['seconds_classify']:.2f}",
        "",
        f"On {res['cpu_count']} CPU cores shared with other jobs (load average "
        f"{res['load_average_before'][0]:.1f} before, "
        f"{res['load_average_after'][0]:.1f} after); the target is 2 s.",
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--bccd", default=str(BCCD))
    p.add_argument("--aria", action="store_true", help="image-level Aria instead")
    p.add_argument("--data", default=os.environ.get("SKLEUK_ARIA_DATA"))
    p.add_argument("--quick", action="store_true")
    p.add_argument(
        "--cell-model",
        choices=["cnn", "linear"],
        default="cnn",
        help="--aria: the default cell pipeline (make_pipeline()) or a linear "
        "model on the pixels of 16x16 crops (a quick check that the "
        "localisation and aggregation carry signal)",
    )
    p.add_argument("--cell-params", type=json.loads, default={},
                   help="--aria: JSON of make_pipeline() parameters for the "
                   "cell model, e.g. '{\"cnn__class_weight\": \"balanced\"}'")
    p.add_argument("--out", default=None,
                   help="--aria: results name in benchmarks/results/, without .json")
    p.add_argument("--per-class", type=int, default=80,
                   help="--aria: fields per class (default 80)")
    p.add_argument("--tasks", default="binary,4class",
                   help="--aria: binary (Benign vs the rest) and/or 4class")
    p.add_argument("--aggregation", default="mean",
                   choices=["mean", "top_k", "max", "fraction", "auto"],
                   help="--aria: the screener's aggregation rule ('auto' "
                   "learns it by inner CV: four cell-model fits a fold)")
    p.add_argument("--field-view", action="store_true",
                   help="--aria: also give the screener a field model "
                   "(make_pipeline(crop='passthrough') on the whole field, "
                   "field_weight 0.5); the rows 'cells only' and 'field only' "
                   "come from the same fitted screeners")
    p.add_argument("--note", default=None,
                   help="--aria: a label for the cell model in the docs table "
                   "(e.g. which round's default it is)")
    p.add_argument("--model-seed", type=int, default=0,
                   help="--aria: shift the networks' seeds (same folds)")
    p.add_argument("--save-proba", default=None, metavar="DIR",
                   help="--aria: save the out-of-fold probabilities in DIR "
                   "(seed averages)")
    p.add_argument("--render-aria", nargs="+", metavar="RESULTS",
                   help="only render benchmarks/results/RESULTS (Aria runs) as "
                   "docs/_generated/screening_aria.rst")
    args = p.parse_args(argv)
    if args.render_aria:
        from benchmarks._common import RESULTS_DIR

        results = [(n, json.loads((RESULTS_DIR / n).read_text()))
                   for n in args.render_aria]
        path = DOCS_GENERATED / "screening_aria.rst"
        path.write_text(aria_fragment(results))
        print(f"wrote {path}")
        return results
    quiet_tensorflow()
    if args.aria:
        return aria(args)
    res = speed(args.repeat, args.bccd)
    print(
        f"one {res['smear_shape'][1]}x{res['smear_shape'][0]} smear, "
        f"{res['n_cells']} cells: {res['seconds_end_to_end_best']:.2f} s end to "
        f"end (runs {[round(t, 2) for t in res['seconds_end_to_end']]}); read "
        f"{res['seconds_read']:.2f}, locate {res['seconds_locate']:.2f}, locate+"
        f"crop {res['seconds_locate_and_crop']:.2f}, classify "
        f"{res['seconds_classify']:.2f}; load {res['load_average_before']} -> "
        f"{res['load_average_after']}"
    )
    print(f"wrote {write_json('screening', res)}")
    print(f"wrote {write_speed_fragment(res)}")
    return res




def _flatten(X):
    return np.asarray(X).reshape(len(X), -1)


def _linear_cell_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as sk_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return sk_pipeline(
        FunctionTransformer(_flatten),
        StandardScaler(),
        LogisticRegression(C=0.01, max_iter=2000, class_weight="balanced"),
    )


def _task_figures(y, pred, proba, classes):
    """Binary: sensitivity/specificity (Benign negative); else macro-F1."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        roc_auc_score,
    )

    out = {
        "accuracy": float(accuracy_score(y, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro")),
    }
    if len(classes) == 2:
        pos = y != "Benign"
        out["sensitivity"] = float(np.mean(pred[pos] != "Benign"))
        out["specificity"] = float(np.mean(pred[~pos] == "Benign"))
        col = [c for c in classes if c != "Benign"][0]
        out["roc_auc"] = float(roc_auc_score(pos, proba[:, list(classes).index(col)]))
    else:
        out["roc_auc"] = float(
            roc_auc_score(y, proba, multi_class="ovr", labels=classes)
        )
    return out


def aria(args):
    """Image-level Aria through SmearScreener, vs the colour baseline.

    The input is bench_accuracy's: every field mapped onto the BCCD sample's
    colours (``ColorNormalizer(method="histogram")``) with its border cut,
    folds grouped by near-duplicates. The screener locates every white cell
    of a field, cuts a fixed 64-pixel window around it (one magnification in
    this data set), classifies the windows with the default cell pipeline
    (``make_pipeline()``, fitted on the cells of the training fields, each
    labelled with its field's class) and aggregates them.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedGroupKFold

    from benchmarks.bench_accuracy import (
        CELL_WINDOW,
        bccd_reference,
        binary,
        load_fields,
        make_model,
        normalise,
    )
    from skleuk import make_pipeline
    from skleuk.model_selection import find_duplicate_groups
    from skleuk.screening import SmearScreener

    if not args.data:
        raise SystemExit("--aria needs --data DIR or $SKLEUK_ARIA_DATA")
    t_start = time.perf_counter()
    per_class = 20 if args.quick else args.per_class
    raw, y4, _ = load_fields(args.data, per_class)
    groups = find_duplicate_groups(raw)
    X = normalise(raw, bccd_reference())
    folds = 3 if args.quick else 5
    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=0)
    out = {
        "n_fields": len(y4),
        "per_class": {n: int(np.sum(y4 == n)) for n in ARIA_CLASSES},
        "n_duplicate_groups": int(len(np.unique(groups))),
        "folds": folds,
        "quick": bool(args.quick),
        "cell_model": args.cell_model,
        "aggregation": args.aggregation,
        "cell_window": CELL_WINDOW,
        "tasks": {},
        "load_average": load_average(),
    }
    name = "screening_aria" + ("_quick" if args.quick else "")
    name += "_linear" if args.cell_model == "linear" else ""
    name = args.out or name
    out["cell_params"] = args.cell_params
    out["field_view"] = bool(args.field_view)
    out["model_seed"] = args.model_seed
    if args.note:
        out["note"] = args.note
    seed = 1000 * args.model_seed
    for task in args.tasks.split(","):
        y = binary(y4) if task == "binary" else y4
        classes = np.unique(y)
        proba_s = np.zeros((len(y), len(classes)))
        proba_h = np.zeros((len(y), len(classes)))
        proba_f = np.zeros((len(y), len(classes)))  # the field model alone
        proba_c = np.zeros((len(y), len(classes)))  # the cells alone
        pred_s = np.empty(len(y), dtype=y.dtype)
        rules, n_cells, t0 = [], [], time.perf_counter()
        for k, (tr, te) in enumerate(cv.split(X, y, groups)):
            if args.cell_model == "linear":
                cells = _linear_cell_model()
            else:
                cells = make_pipeline(cnn__random_state=seed + k, **args.cell_params)
            field = None
            if args.field_view:  # the whole-field task's model, on the same input
                field = make_pipeline(cnn__random_state=seed + k, crop="passthrough")
            screener = SmearScreener(
                cells,
                field_model=field,
                field_size=X.shape[1],
                aggregation=args.aggregation,
                crop_size=16 if args.cell_model == "linear" else CELL_WINDOW,
                window=CELL_WINDOW,
                healthy_label="Benign",
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                screener.fit(X[tr], y[tr])
                res_te = screener.screen(X[te])
                proba_s[te] = np.array([r.image_proba for r in res_te])
                pred_s[te] = screener.predict(X[te])  # its own threshold
                if args.field_view:
                    w = screener.field_weight
                    proba_f[te] = np.array([r.field_proba for r in res_te])
                    proba_c[te] = (proba_s[te] - w * proba_f[te]) / (1 - w)
            n_cells.append(int(screener.n_cells_fit_))
            rules.append(
                {
                    "aggregation": screener.aggregation_,
                    "threshold": float(getattr(screener, "threshold_", 0.5)),
                }
            )
            hist = clone(make_model("colour-histogram", "field")).fit(X[tr], y[tr])
            proba_h[te] = hist.predict_proba(X[te])
            print(f"    {task} fold {k}: {n_cells[-1]} training cells, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        pred_h = classes[np.argmax(proba_h, axis=1)]
        if args.save_proba:
            os.makedirs(args.save_proba, exist_ok=True)
            np.savez_compressed(
                os.path.join(args.save_proba, f"{name}__{task}.npz"),
                proba=proba_s, proba_field=proba_f, proba_cells=proba_c, y=y,
                classes=classes)
        res = {
            "screener": _task_figures(y, pred_s, proba_s, classes),
            "colour_histogram": _task_figures(y, pred_h, proba_h, classes),
            **({"cells_only": _task_figures(y, classes[proba_c.argmax(1)],
                                            proba_c, classes),
                "field_only": _task_figures(y, classes[proba_f.argmax(1)],
                                            proba_f, classes)}
               if args.field_view else {}),
            "rules_per_fold": rules,
            "cells_per_training_fold": n_cells,
            "seconds": time.perf_counter() - t0,
        }
        out["tasks"][task] = res
        out["seconds"] = time.perf_counter() - t_start
        write_json(name, out)
        s, h = res["screener"], res["colour_histogram"]
        extra = (
            f"sens {s['sensitivity']:.3f} spec {s['specificity']:.3f} | colour "
            f"sens {h['sensitivity']:.3f} spec {h['specificity']:.3f}"
            if "sensitivity" in s
            else f"macro-F1 {s['macro_f1']:.3f} | colour {h['macro_f1']:.3f}"
        )
        print(f"  {task}: screener acc {s['accuracy']:.3f} AUC {s['roc_auc']:.3f} "
              f"{extra}; {res['seconds']:.0f} s", flush=True)
    print(f"wrote {write_json(name, out)}")
    return out


def aria_fragment(results):
    """Docs table of image-level Aria screening runs (``--render-aria``)."""
    lines = [".. Generated by benchmarks/bench_screening.py --render-aria -- do not "
             "edit.", ""]
    first = results[0][1]
    counts = ", ".join(f"{k} {v}" for k, v in first["per_class"].items())
    lines += [
        f"{first['n_fields']} Aria fields ({counts}), "
        f"{first['folds']}-fold stratified CV grouped by near-duplicates, every "
        "field mapped onto the BCCD sample's colours with its border cut (as in "
        "the accuracy benchmark); the screener locates every white cell, "
        f"classifies a {first['cell_window']}-pixel window around each with the "
        "cell pipeline (fitted on the cells of the training fields, labelled "
        "with their field's class) and averages them "
        f"(``aggregation=\"{first['aggregation']}\"``). With a field view "
        "(``field_model=make_pipeline(crop=\"passthrough\")``, the whole-field "
        "task's model, ``field_weight=0.5``) the rows *cells-only* and "
        "*field-only* are the two halves of the same fitted screeners. The "
        "colour-histogram baseline sees the same input.",
        "",
        ".. list-table::", "   :header-rows: 1", "",
        "   * - task\n     - cell model\n     - model\n     - accuracy\n"
        "     - sensitivity\n     - specificity\n     - macro-F1\n     - AUC",
    ]
    for _, res in results:
        params = res.get("cell_params")
        if params is None:  # runs before the recipe weighted the classes
            params = {"cnn__class_weight": None}
        cell = ("``make_pipeline(" + ", ".join(f"{k}={v!r}" for k, v in params.items())
                + ")``" + (f", {res['note']}" if res.get("note") else "")
                + (f", model seed {res['model_seed']}" if res.get("model_seed")
                   else ""))
        for task, r in res["tasks"].items():
            for model in ("screener", "cells_only", "field_only",
                          "colour_histogram"):
                if model not in r:
                    continue
                f = r[model]
                label = model.replace("_", "-")
                if model == "screener" and res.get("field_view"):
                    label = "screener, cells + field view"
                vals = [task, cell if model == "screener" else "",
                        label, f["accuracy"],
                        f.get("sensitivity", ""), f.get("specificity", ""),
                        f["macro_f1"], f["roc_auc"]]
                lines.append("   * - " + "\n     - ".join(
                    v if isinstance(v, str) else f"{v:.3f}" for v in vals))
    lines.append("")
    lines.append("Rendered from " + ", ".join(f"``{n}``" for n, _ in results) + ".")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
