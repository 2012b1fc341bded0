"""Run skleuk's benchmarks: print tables, write JSON and the docs' tables.

Usage::

    python -m benchmarks.run                    # everything (hours on 2 cores)
    python -m benchmarks.run --quick            # reduced smoke run (minutes)
    python -m benchmarks.run --only cnn --only bf16
    python -m benchmarks.run --only end_to_end --candidates paper@32,light@64
    python -m benchmarks.run --docs-only        # re-render the docs' tables

Sections: ``preprocessing`` (each transformer against OpenCV, and the whole
chain), ``cnn`` (training/inference throughput, FLOPs, share of the CPU's
fp32 peak, cost of seeding), ``bf16`` (mixed precision: speed and
accuracy), ``pipeline`` (``pipeline.predict`` against the bare Keras
model), ``end_to_end`` (the default 5-fold, 30-epoch evaluation per
candidate default), ``memory`` (peak RSS of training and of ``skleuk
predict`` on 1,000 and 10,000 files), ``dask`` (a grid search serial,
with loky and on a local Dask cluster), ``evaluate`` (the prediction
pass of a fold, and ``evaluate`` with ``n_jobs`` 1 and 2; see
``benchmarks/bench_evaluate.py``), ``accuracy`` (accuracy on real
smears, the Aria B-ALL fields given with ``--data`` or ``SKLEUK_ARIA_DATA``;
skipped without them; see ``benchmarks/bench_accuracy.py``) and ``trust``
(calibration, tuned operating point and abstention on the real Aria B-ALL
fields, by nested cross-validation; needs ``--data`` or
``$SKLEUK_ARIA_DATA``) and ``magnification`` (the red-cell diameter
estimate and ``MagnificationNormalizer`` on the Aria fields under zoom; see
``benchmarks/bench_magnification.py``; needs the data too).

A full run writes ``benchmarks/results/<section>.json`` and the tables
``docs/_generated/performance_*.rst`` and ``dask.rst`` included by the
documentation. ``--quick`` writes to ``benchmarks/results/quick/`` (tables
in ``quick/docs/``) and leaves the docs alone. Timings on a busy machine are
noisy: every results file records the load average; ratios measured in one
run are the robust figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

from . import _common
from ._common import (
    all_idb2_like,
    load_average,
    machine,
    quiet_tensorflow,
    section_header,
    write_json,
)

quiet_tensorflow()

SECTIONS = ("preprocessing", "cnn", "bf16", "pipeline", "end_to_end", "memory",
            "dask", "evaluate", "accuracy", "trust", "magnification")


class SkipSection(Exception):
    """A section cannot run here (a missing optional package)."""


def _require(module, extra):
    try:
        __import__(module)
    except ImportError:
        raise SkipSection(
            f"needs {module!r}: pip install -e '.[{extra}]'"
        ) from None


def _defaults():
    from skleuk._pipeline import DEFAULT_ARCHITECTURE, DEFAULT_IMAGE_SIZE

    return DEFAULT_ARCHITECTURE, DEFAULT_IMAGE_SIZE


def _parse_config(text):
    arch, _, size = text.partition("@")
    return arch, int(size)


def section_preprocessing(args, out):
    _require("cv2", "bench")
    from . import bench_preprocessing as bp

    _, size = _defaults()
    n = 60 if args.quick else _common.N_IMAGES
    X, _ = all_idb2_like(n)
    extra = (64,) if args.quick else tuple(s for s in (32, 64, 96, 128) if s != size)
    previous = _previous_ratios(
        _common.RESULTS_DIR / ("quick" if args.quick else "") / "preprocessing.json"
    )
    out.update(bp.run(X, size, repeat=2 if args.quick else 5, extra_sizes=extra))
    if previous:
        out["previous"] = previous
    bp.print_results(out)


def _previous_ratios(path):
    """skleuk/OpenCV ratios of the results file about to be replaced.

    Shown next to the new ones ("ratio before"): a different run, so under a
    possibly different load (or machine) -- the ratios within one run are
    the robust figures.
    """
    import json

    try:
        old = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    ratios = {r["step"]: r["ratio"] for r in old.get("steps", []) if "ratio" in r}
    if not ratios:
        return None
    return {
        "date": old.get("date"),
        "git_commit": old.get("machine", {}).get("git_commit"),
        "cpu": old.get("machine", {}).get("cpu", {}).get("model_name"),
        "ratios": ratios,
    }


def section_cnn(args, out):
    from . import bench_cnn as bc

    arch, size = _defaults()
    peak = out["machine"]["cpu"]["fp32_peak_gflops"]
    if args.quick:
        sizes = {"paper": [32], "light": [32, 64]}
    else:
        base = sorted({32, 48, 64, 96, 128, size})
        sizes = {"paper": base, "light": base}
    out["default_architecture"] = arch
    out["default_size"] = size
    out["train_flop_factor"] = bc.TRAIN_FLOP_FACTOR
    out["throughput"] = bc.run_throughput(
        ["paper", "light"], sizes, epochs=2 if args.quick else 3, peak=peak,
        sgemm=out["machine"].get("sgemm_gflops"),
    )
    bc.print_throughput(out["throughput"], peak)
    configs = [("light", 32)] if args.quick else [(arch, size), ("light", 64)]
    out["determinism"] = [bc.run_determinism(a, s, epochs=2 if args.quick else 3)
                          for a, s in configs]
    for d in out["determinism"]:
        print(f"  seeding {d['architecture']}@{d['size']}: unseeded / seeded = "
              f"{d['unseeded_over_seeded']:.2f}")


def section_bf16(args, out):
    from . import bench_cnn as bc

    arch, size = _defaults()
    if args.quick:
        configs, acc_cfg = [("light", 32)], ("light", 32)
        out["speed"] = bc.run_bf16_speed(configs, epochs=2, rounds=1)
        out["accuracy"] = [bc.run_bf16_accuracy(*acc_cfg, seeds=(0,), epochs=2,
                                                n_samples=80)]
        return
    configs = list(dict.fromkeys(
        [(arch, size), ("paper", 32), ("paper", 64), ("light", 64)]
    ))
    out["speed"] = bc.run_bf16_speed(configs, epochs=3, rounds=2)
    acc_cfgs = ([_parse_config(c) for c in args.bf16_accuracy.split(",")]
                if args.bf16_accuracy else [(arch, size)])
    out["accuracy"] = [bc.run_bf16_accuracy(a, s, seeds=(0, 1, 2), epochs=30,
                                            class_sep=args.class_sep)
                       for a, s in acc_cfgs]


def section_pipeline(args, out):
    from . import bench_pipeline as bpl

    arch, size = _defaults()
    n = 60 if args.quick else _common.N_IMAGES
    X, y = all_idb2_like(n)
    configs = [("light", 32)] if args.quick else list(
        dict.fromkeys([(arch, size), ("light", 64)])
    )
    out["rows"] = bpl.run(X, y, configs, epochs=1, repeat=2 if args.quick else 5)
    bpl.print_results(out["rows"])


def section_end_to_end(args, out, name):
    from . import bench_end_to_end as be

    if args.candidates:
        candidates = be.parse_candidates(args.candidates)
    elif args.quick:
        candidates = [("light", 32)]  # the default recipe, light at 32 px
    else:
        candidates = list(be.CANDIDATES)
    n = 60 if args.quick else _common.N_IMAGES
    epochs = 2 if args.quick else None  # None: each recipe's own
    X, y = all_idb2_like(n, class_sep=args.class_sep)
    out["class_sep"] = args.class_sep
    previous = None
    if args.candidates and not args.quick:
        # Add to (replace in) the rows of an earlier run.
        previous = _common.read_json(name)

    def save(rows):
        merged = rows
        if previous and previous.get("rows"):
            done = {r.get("label") for r in rows}
            merged = [r for r in previous["rows"] if r.get("label") not in done
                      and "label" in r] + rows
        out["rows"] = merged
        best, out["recommendation"] = be.recommend(merged)
        out["recommended"] = None if best is None else best.get("label")
        out["load_average_end"] = load_average()
        _write(name, out, args)

    be.run(X, y, candidates, epochs=epochs, cv=5, on_result=save)
    be.print_results(out["rows"])
    print(out["recommendation"])


def section_memory(args, out):
    from . import bench_memory as bm

    arch, size = _defaults()
    counts = (100, 300) if args.quick else (1000, 10000)
    train = [("light", 32)] if args.quick else list(
        dict.fromkeys([(arch, size), ("light", 64)])
    )
    cache = Path(args.cache_dir) / ("quick" if args.quick else "full")
    out.update(bm.run(cache, counts=counts, train_configs=train,
                      train_epochs=1 if args.quick else 3))
    bm.print_results(out)
    out["large_images"] = bm.run_large(cache / bm.default_model_name())
    bm.print_large(out["large_images"])


def section_dask(args, out):
    _require("distributed", "dask")
    from . import bench_dask as bd
    from . import bench_memory as bm

    n = 40 if args.quick else _common.N_IMAGES
    folder = Path(args.cache_dir) / ("quick" if args.quick else "full") / "dask"
    paths, labels = bm.write_image_files(folder / f"n{n}", n)
    out.update(bd.run(paths, labels, epochs=1 if args.quick else 10,
                      cv=2 if args.quick else 3))
    bd.print_results(out)


def section_evaluate(args, out):
    from . import bench_evaluate as bev

    out["prediction"] = bev.bench_prediction(repeat=2 if args.quick else 5)
    out["evaluate"] = bev.bench_evaluate()
    bev.print_results(out)


def section_accuracy(args, out):
    from . import bench_accuracy as ba

    if not args.data:
        raise SkipSection("needs the Aria images: --data DIR or SKLEUK_ARIA_DATA")
    per_class, folds, cells = (20, 3, 2) if args.quick else (80, 5, 3)
    out["quick"] = args.quick
    out.update(ba.run(args.data, per_class=per_class, folds=folds, max_cells=cells,
                      models=list(ba.DEFAULT_MODELS), tasks=list(ba.TASKS)))
    out["when"] = time.strftime("%Y-%m-%d %H:%M")
    out["load_average"] = (load_average() or [float("nan")])[0]
    if not args.quick:
        path = _common.DOCS_GENERATED / "accuracy.rst"
        path.write_text(ba.fragment(out))
        print(f"wrote {path}")


def section_magnification(args, out):
    from . import bench_magnification as bm

    if not args.data:
        raise SkipSection("needs the Aria images: --data DIR or SKLEUK_ARIA_DATA")
    per_class, folds, cells = (8, 2, 2) if args.quick else (60, 5, 3)
    out["quick"] = args.quick
    out.update(bm.run(args.data, per_class=per_class, folds=folds, max_cells=cells,
                      epochs=2 if args.quick else None))
    out["when"] = time.strftime("%Y-%m-%d %H:%M")
    out["load_average"] = (load_average() or [float("nan")])[0]
    if not args.quick:
        path = _common.DOCS_GENERATED / "magnification.rst"
        path.write_text(bm.fragment(out))
        print(f"wrote {path}")


def _override_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def section_trust(args, out):
    from . import bench_trust as bt

    try:
        path = bt.data_path(args.data)
    except FileNotFoundError as exc:
        raise SkipSection(str(exc)) from None
    overrides = {}
    if args.quick:
        overrides = {"architecture": "light", "image_size": 32, "cnn__epochs": 2}
    for item in args.override or ():
        key, _, value = item.partition("=")
        overrides[key] = _override_value(value)
    n = 60 if args.quick else args.n_images
    folds = 2 if args.quick else args.trust_folds
    X, y, counts = bt.load(path, n)
    out["class_counts"] = counts
    print(f"{len(y)} fields ({counts}); overrides {overrides}", flush=True)
    res = bt.run(X, y, folds=folds, inner_folds=folds, overrides=overrides,
                 min_sensitivity=args.min_sensitivity)
    res["cores"] = machine()["cpu"]["cores"]
    res["tag"] = args.trust_tag
    res["date"] = out["date"]
    bt.print_results(res)
    docs = (_common.RESULTS_DIR / "quick" / "docs") if args.quick else (
        _common.DOCS_GENERATED)
    for written in bt.write_docs(res, docs):
        print(f"wrote {written}", flush=True)
    out.update(res)


def _write(name, out, args):
    if args.quick:
        _common.RESULTS_DIR.joinpath("quick").mkdir(parents=True, exist_ok=True)
        return write_json(f"quick/{name}", out)
    return write_json(name, out)


def build_parser():
    """The command-line parser."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true",
                   help="reduced sizes, images and epochs (smoke test; results "
                   "go to benchmarks/results/quick/, docs untouched)")
    p.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                   help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    p.add_argument("--skip", action="append", choices=SECTIONS, metavar="SECTION",
                   help="skip this section (repeatable)")
    p.add_argument("--candidates", default=None, metavar="ARCH@SIZE,...",
                   help="end_to_end candidates, e.g. paper@32,light@64 (a full "
                   "run merges them into the existing results)")
    p.add_argument("--class-sep", type=float, default=1.0, metavar="SEP",
                   help="end_to_end and the bf16 accuracy: class separation of "
                   "the synthetic images (make_blood_smears; smaller is "
                   "harder). Other than 1, end_to_end results go to "
                   "end_to_end_sep<SEP>.json")
    p.add_argument("--bf16-accuracy", default=None, metavar="ARCH@SIZE,...",
                   help="networks of the bf16 accuracy comparison (default: the "
                   "pipeline's default)")
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir())
                                              / "skleuk-bench"),
                   help="where generated image files are kept between runs")
    g = p.add_argument_group("real data (accuracy, trust)")
    g.add_argument("--data", default=os.environ.get("SKLEUK_ARIA_DATA"),
                   metavar="DIR",
                   help="the Aria B-ALL images: class folders Benign/ Early/ "
                   "Pre/ Pro/ (default: $SKLEUK_ARIA_DATA)")
    g.add_argument("--n-images", type=int, default=400, metavar="N",
                   help="stratified random subset of the fields (default: 400; "
                   "0: all)")
    g.add_argument("--trust-folds", type=int, default=3, metavar="K",
                   help="outer and inner folds (default: 3)")
    g.add_argument("--min-sensitivity", type=float, default=0.98, metavar="S",
                   help="target sensitivity of the tuned threshold (default: 0.98)")
    g.add_argument("--trust-tag", default=None, metavar="TAG",
                   help="a second configuration: results go to trust_TAG.json "
                   "and docs/_generated/trust_TAG.rst")
    g.add_argument("--override", action="append", metavar="KEY=VALUE",
                   help="make_pipeline() keyword, e.g. cnn__epochs=10 or "
                   "image_size=32 (repeatable)")
    p.add_argument("--docs-only", action="store_true",
                   help="only re-render docs/_generated/ from the results files")
    return p


def main(argv=None):
    """Entry point of ``python -m benchmarks.run``."""
    args = build_parser().parse_args(argv)
    if args.docs_only:
        from ._report import write_docs

        for path in write_docs():
            print(f"wrote {path}")
        from . import bench_trust

        for results in sorted(_common.RESULTS_DIR.glob("trust*.json")):
            trust = _common.read_json(results.stem)
            for path in bench_trust.write_docs(trust, _common.DOCS_GENERATED):
                print(f"wrote {path}")
        return 0
    sections = [s for s in (args.only or SECTIONS) if s not in (args.skip or ())]
    info = machine()
    print(f"Machine: {info['cpu']['model_name']}, {info['cpu']['cores']} cores; "
          f"{info['cpu']['formula']}")
    print(f"Load average: {load_average()}", flush=True)
    runners = {
        "preprocessing": section_preprocessing,
        "cnn": section_cnn,
        "bf16": section_bf16,
        "pipeline": section_pipeline,
        "memory": section_memory,
        "dask": section_dask,
        "evaluate": section_evaluate,
        "accuracy": section_accuracy,
        "trust": section_trust,
        "magnification": section_magnification,
    }
    for name in sections:
        print(f"\n=== {name} ===", flush=True)
        out = section_header(name, args.quick)
        out["machine"] = info
        start = time.perf_counter()
        try:
            if name == "trust" and args.trust_tag:
                runners[name](args, out)
                name = f"trust_{args.trust_tag}"
            elif name == "end_to_end":
                if args.class_sep != 1.0:
                    name = f"end_to_end_sep{args.class_sep:g}"
                section_end_to_end(args, out, name)
            else:
                runners[name](args, out)
        except SkipSection as exc:
            print(f"skipped: {exc}", flush=True)
            continue
        out["section_wall_s"] = time.perf_counter() - start
        out["load_average_end"] = load_average()
        path = _write(name, out, args)
        print(f"wrote {path} ({out['section_wall_s']:.0f} s)", flush=True)
        gc.collect()
    from ._report import write_docs

    if args.quick:  # rendered for checking, next to the quick results
        quick = _common.RESULTS_DIR / "quick"
        written = write_docs(quick, quick / "docs")
    else:
        written = write_docs()
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
