"""Run skleuk's benchmarks and render the docs' tables and figures.

Usage::

    python -m benchmarks.run --list                     # benchmarks and their data
    python -m benchmarks.run --data aria=/path --data bccd=/path   # every one
    python -m benchmarks.run --only accuracy --only trust
    python -m benchmarks.run --quick                    # a smoke run (minutes)
    python -m benchmarks.run --docs-only                # re-render from the JSON

Every ``benchmarks/bench_<name>.py`` exposing ``NEEDS``, ``run`` and
``render`` is a benchmark. Its data sources (``NEEDS``, modules of
``benchmarks/data/``) come from ``--data SOURCE=PATH`` or
``$SKLEUK_<SOURCE>_DATA``; a benchmark whose data is missing is skipped
with a message. Each run overwrites ``benchmarks/results/<name>.json``
(``--quick``: the ignored ``benchmarks/results/quick/``, fragments in
``quick/docs/``) and the fragments ``render`` writes into
``docs/_generated/``; both are stamped with the package version, the git
commit and the default recipe's hash (``benchmarks/stamp.py``).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import time
from pathlib import Path

from .stamp import REPO_ROOT, stamp, stamp_line

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BENCH_DIR = REPO_ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
DOCS_GENERATED = REPO_ROOT / "docs" / "_generated"


def discover():
    """``{name: module name}`` of every ``bench_<name>.py``, sorted."""
    return {p.stem[len("bench_"):]: f"benchmarks.{p.stem}"
            for p in sorted(BENCH_DIR.glob("bench_*.py"))}


def load(module_name):
    """The benchmark module, or a string saying why it is not one."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a module being rewritten must not stop the others
        return f"cannot be imported ({type(exc).__name__}: {exc})"
    missing = [a for a in ("NEEDS", "run", "render") if not hasattr(module, a)]
    if missing:
        return f"does not follow the contract (no {', '.join(missing)})"
    return module


def data_paths(items, environ=None):
    """``{source: Path}`` from ``SOURCE=PATH`` items and ``$SKLEUK_<SOURCE>_DATA``."""
    environ = os.environ if environ is None else environ
    paths = {}
    for key, value in environ.items():
        if key.startswith("SKLEUK_") and key.endswith("_DATA") and value:
            paths[key[len("SKLEUK_"):-len("_DATA")].lower()] = Path(value)
    for item in items or ():
        source, sep, path = item.partition("=")
        if not sep or not source or not path:
            raise SystemExit(f"--data {item!r}: expected SOURCE=PATH, "
                             "e.g. aria=/data/aria")
        paths[source.strip().lower()] = Path(path).expanduser()
    return paths


def missing_data(needs, paths):
    """A message naming the sources of ``needs`` that are not available, or ''."""
    gone = [s for s in needs if s not in paths or not paths[s].exists()]
    if not gone:
        return ""
    return "needs " + ", ".join(
        f"{s} (--data {s}=PATH or $SKLEUK_{s.upper()}_DATA"
        + (f"; {paths[s]} does not exist" if s in paths else "") + ")" for s in gone)


def stamp_fragments(paths, s):
    """Write the stamp into every fragment: an rST comment, a PNG text chunk."""
    line = stamp_line(s)
    for path in paths:
        path = Path(path)
        if path.suffix == ".rst":
            text = path.read_text()
            if text.startswith(".. stamp:"):
                text = text.split("\n", 1)[1].lstrip("\n")
            # A blank line ends the comment (docutils warns without it).
            path.write_text(f".. stamp: {line}\n\n{text}")
        elif path.suffix == ".png":
            from PIL import Image, PngImagePlugin

            info = PngImagePlugin.PngInfo()
            info.add_text("skleuk", line)
            with Image.open(path) as im:
                im.load()
                im.save(path, pnginfo=info)


def _rel(path):
    try:
        return Path(path).resolve().relative_to(REPO_ROOT)
    except ValueError:
        return path


def write_json(path, results):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=float) + "\n")
    tmp.replace(path)
    return path


def render(module, results, out):
    """Call the module's ``render`` and stamp what it wrote with the results' stamp."""
    if "stamp" not in results:
        raise ValueError("the results have no stamp (written outside the runner): "
                         "rerun the benchmark through python -m benchmarks.run")
    out.mkdir(parents=True, exist_ok=True)
    written = [Path(p) for p in module.render(results, out) or ()]
    stamp_fragments(written, results["stamp"])
    return written


def run_one(name, module, paths, *, quick=False, seed=0, results_dir=RESULTS_DIR,
            docs_dir=DOCS_GENERATED):
    """Run one benchmark, write its stamped JSON and fragments; return the JSON path."""
    if quick:
        results_dir, docs_dir = results_dir / "quick", results_dir / "quick" / "docs"
    path = results_dir / f"{name}.json"
    head = {"benchmark": name, "stamp": stamp(), "quick": quick, "seed": seed,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average": list(os.getloadavg())}
    kwargs = {"quick": quick, "seed": seed}
    if "save" in inspect.signature(module.run).parameters:
        # A long benchmark saves what it has after each step.
        kwargs["save"] = lambda partial: write_json(path, {
            **head, "partial": True, "wall_s": time.perf_counter() - start, **partial})
    start = time.perf_counter()
    results = module.run({s: paths[s] for s in module.NEEDS}, **kwargs)
    results = {**head, "wall_s": time.perf_counter() - start, **results}
    write_json(path, results)
    for written in render(module, results, docs_dir):
        print(f"  wrote {_rel(written)}")
    return path


def _one(name, module, paths, args):
    """Run (or with ``--docs-only`` re-render) one benchmark, printing what it wrote."""
    if args.docs_only:
        path = RESULTS_DIR / f"{name}.json"
        if not path.exists():
            print(f"{name}: no {_rel(path)}", flush=True)
            return
        for written in render(module, json.loads(path.read_text()), DOCS_GENERATED):
            print(f"{name}: wrote {_rel(written)}")
        return
    print(f"=== {name} ===", flush=True)
    path = run_one(name, module, paths, quick=args.quick, seed=args.seed)
    print(f"  wrote {_rel(path)}", flush=True)


def build_parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only this benchmark (repeatable)")
    p.add_argument("--quick", action="store_true",
                   help="reduced sizes (smoke run); results in "
                   "benchmarks/results/quick/")
    p.add_argument("--data", action="append", metavar="SOURCE=PATH",
                   help="where a data source is, e.g. aria=/data/aria/images "
                   "(repeatable; default: $SKLEUK_<SOURCE>_DATA)")
    p.add_argument("--seed", type=int, default=0,
                   help="base seed of data draws and models")
    p.add_argument("--docs-only", action="store_true",
                   help="only re-render docs/_generated/ from the results files")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return p


def main(argv=None):
    """Entry point of ``python -m benchmarks.run``."""
    args = build_parser().parse_args(argv)
    found = discover()
    unknown = sorted(set(args.only or ()) - set(found))
    if unknown:
        raise SystemExit(f"no benchmark {', '.join(unknown)}; "
                         f"there are: {', '.join(found)}")
    paths = data_paths(args.data)
    failed = []
    for name in args.only or list(found):
        module = load(found[name])
        if isinstance(module, str):
            print(f"{name}: skipped: {module}", flush=True)
        elif args.list:
            print(f"{name}: needs {', '.join(module.NEEDS) or 'no data'}")
        elif not args.docs_only and missing_data(module.NEEDS, paths):
            print(f"{name}: skipped: {missing_data(module.NEEDS, paths)}", flush=True)
        else:
            try:
                _one(name, module, paths, args)
            except Exception as exc:  # report, and go on with the others
                failed.append(name)
                print(f"{name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
