"""Across laboratories: a model trained on some sources, tested on another.

The common task is *blast vs non-blast white cell*, on single-cell windows
of four sources (``benchmarks/data/<source>.py``):

* ``aria`` -- Aria et al.'s B-ALL fields (Taleqani Hospital): each field
  mapped onto a fixed colour reference and its border cut (as the accuracy
  benchmark does), a 64-pixel window around its largest white cells;
  malignant lymphoblasts (``Early``/``Pre``/``Pro``) are blasts, benign
  hematogones (``Benign``) non-blasts; grouped by field (and near-duplicate);
* ``deepapl`` -- DeepAPL's CellaVision crops (Johns Hopkins): myeloid blasts
  against mature white cells, grouped by patient;
* ``pbc`` -- PBC's CellaVision crops of normal white cells (Barcelona): no
  blasts;
* ``bccd`` -- the BCCD smear photographs: a window around every annotated
  white cell (normal; no blasts).

Every source is split once, by group, into a training part (75 % of its
groups) and a held-out part. One pipeline -- :func:`skleuk.make_pipeline`,
the default recipe -- is fitted per configuration, through
:func:`skleuk.model_selection.evaluate` given the explicit splits:

* ``loso:<S>`` (leave one source out): trained on the training parts of the
  other sources, tested on every cell of ``S`` (the unseen laboratory) and
  on the held-out parts of the training sources (in-domain);
* ``single:<S>`` (single-source transfer, as a user with one public data
  set): trained on the training part of ``S`` only (sources with both
  classes), tested on its held-out part (in-domain) and on every cell of
  the other sources.

Per test source: ROC AUC, sensitivity and specificity at the pipeline's
default decision (``predict``), the specificity on lymphocytes alone, the
mean P(blast) of the non-blasts and the expected calibration error. A
source without blasts (PBC, BCCD) has no AUC of its own: its AUC is that of
its non-blasts against the held-out blasts of the training sources (never
seen in training) -- *can the model tell this laboratory's normal cells
from blasts*.

Sizes: :data:`PER_CLASS` cells at most per source and class (40 with
``--quick``), :data:`EPOCHS` epochs (:data:`QUICK_EPOCHS` with ``--quick``)
instead of the recipe's 120, so that a standard run takes about 15 minutes
on 2 cores.

A standard run measures the default pipeline. The comparisons on the
results page were run one at a time, each about as long, and merged into
the same results file (``variant_runs`` records how): ``run(data,
variants=("stain_augment",))``, ``run(data, variants=("magnification",))``
(see :data:`VARIANTS`; the ``stain_normalise`` ones are on the page as
prose) and ``run(data, context=3.0)`` (every cell window
three nucleus diameters wide; stored as the variant ``cell_windows``).
:func:`familiarity` measures :class:`~skleuk.preprocessing.FamiliarityCheck`
on the same cells (no network; seconds). The
figure shows the distribution of P(blast) per source and class.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._common import list_table

NEEDS = ("aria", "deepapl", "pbc", "bccd")
#: Sources holding both classes (they can be trained on alone).
BOTH_CLASSES = ("aria", "deepapl")
POS = "blast"
NEG = "non-blast"
SIZE = 64  # side of every cell window handed to the pipeline
TEST_SHARE = 0.25  # share of each source's groups held out
HIST_BINS = 20
PER_CLASS = 200  # cells at most per source and class in a standard run


def _aria_cells(path, per_class, reference, random_state=0, max_cells=2, context=None):
    """Aria cell windows: normalised fields, the largest white cells' windows.

    The accuracy benchmark's cell task (:func:`benchmarks.data.aria.tasks`),
    with about ``per_class`` cells of each binary class and, with
    ``context``, windows sized by the white cell.
    """
    from skleuk.preprocessing import locate_white_cells

    from .data import aria
    from .data.deepapl import cell_window

    # about per_class cells of each binary class, max_cells per field
    n_benign = -(-per_class // max_cells)
    n_malignant = -(-per_class // (3 * max_cells))
    counts = {c: n_benign if c == aria.BENIGN else n_malignant for c in aria.CLASSES}
    X, labels, groups = aria.load(path, counts, random_state)
    if reference is not None:
        X = aria.normalise(X, reference)
    else:
        X = X[:, aria.BORDER : -aria.BORDER, aria.BORDER : -aria.BORDER]
    if context is None:
        cells, field = aria.cut_cells(X, max_cells)
    else:
        cells, field = [], []
        for i, image in enumerate(X):
            found = locate_white_cells(image, split=False)
            for k in np.argsort(found.nucleus_areas)[::-1][:max_cells]:
                d = 2 * np.sqrt(found.nucleus_areas[k] / np.pi)
                cells.append(cell_window(image, SIZE, context, found.centres[k], d))
                field.append(i)
        cells, field = np.stack(cells), np.array(field)
    labels = labels[field]
    return {"X": cells, "y": np.where(labels == aria.BENIGN, NEG, POS),
            "groups": groups[field].astype(str), "cell_type": labels}


def _bccd_cells(path, per_class, random_state=0, box_context=2.25, context=None):
    """A window around every annotated white cell of the BCCD photographs.

    The window's side is ``box_context`` times the box's longer side (the
    cell and its neighbourhood, as in a CellaVision crop), reflect-padded at
    the border, resized to :data:`SIZE`; with ``context``, ``context``
    nucleus diameters around the largest nucleus in that window.
    """
    from PIL import Image

    from .data import bccd
    from .data.deepapl import cell_window

    cells, groups = [], []
    for name, image, wbc in zip(*bccd.load(path), strict=True):
        for x0, y0, x1, y1 in wbc:
            half = int(box_context * max(x1 - x0, y1 - y0) / 2)
            cy, cx = int((y0 + y1) / 2), int((x0 + x1) / 2)
            pad = np.pad(image, ((half, half), (half, half), (0, 0)), mode="reflect")
            win = pad[cy : cy + 2 * half, cx : cx + 2 * half]
            if context is not None:
                cells.append(cell_window(win, SIZE, context))
            else:
                cells.append(np.asarray(Image.fromarray(win).resize(
                    (SIZE, SIZE), Image.Resampling.LANCZOS)))  # fmt: skip
            groups.append(Path(name).stem)
    if not cells:
        raise FileNotFoundError(f"no WBC boxes under {path}: not the BCCD folder")
    X, groups = np.stack(cells), np.array(groups)
    if per_class is not None and per_class < len(X):
        rng = np.random.default_rng(random_state)
        keep = np.sort(rng.choice(len(X), per_class, replace=False))
        X, groups = X[keep], groups[keep]
    return {"X": X, "y": np.full(len(X), NEG), "groups": groups,
            "cell_type": np.full(len(X), "WBC")}


def load_sources(data, per_class, random_state=0, context=None):
    """``{source: {"X", "y", "groups", "cell_type"}}`` for the sources given.

    ``context=None``: each source's own framing (Aria: a 64-pixel window,
    about 1.6 nucleus diameters; CellaVision: the whole crop, about 3.6;
    BCCD: 2.25 times the box). A number: a window of that many nucleus
    diameters around every cell, in every source (the white cell's own
    size as the ruler).
    """
    from .data import bccd, deepapl, pbc

    out, seed = {}, random_state
    if "aria" in data:
        ref = bccd.reference(data["bccd"]) if "bccd" in data else None
        out["aria"] = _aria_cells(data["aria"], per_class, ref, seed, context=context)
    if "deepapl" in data:
        out["deepapl"] = deepapl.load(data["deepapl"], per_class, SIZE, seed, context)
    if "pbc" in data:
        out["pbc"] = pbc.load(data["pbc"], per_class, SIZE, seed, context)
    if "bccd" in data:
        out["bccd"] = _bccd_cells(data["bccd"], per_class, seed, context=context)
    return out


def _holdout(groups, rng):
    """Boolean mask of the held-out part: ``TEST_SHARE`` of the groups."""
    uniq = np.unique(groups)
    n = max(1, int(round(TEST_SHARE * len(uniq))))
    test = rng.choice(uniq, n, replace=False)
    return np.isin(groups, test)


def configurations(source, heldout):
    """``{name: (train_index, test_index)}`` over the pooled cells."""
    names = list(dict.fromkeys(source))
    idx = np.arange(len(source))
    configs = {}
    for s in names:
        others = [o for o in names if o != s]
        train = idx[np.isin(source, others) & ~heldout]
        test = idx[(source == s) | (np.isin(source, others) & heldout)]
        configs[f"loso:{s}"] = (train, test)
    for s in names:
        if s not in BOTH_CLASSES:
            continue
        train = idx[(source == s) & ~heldout]
        test = idx[(source != s) | heldout]
        configs[f"single:{s}"] = (train, test)
    return configs


def _metrics(y, p_blast, y_pred, cell_type, blasts_elsewhere=None):
    """The figures of one test source (``blasts_elsewhere``: P(blast) of
    held-out blasts, for a source without blasts of its own)."""
    from sklearn.metrics import roc_auc_score

    from skleuk.metrics import (
        expected_calibration_error,
        sensitivity_score,
        specificity_score,
    )

    pos, neg = y == POS, y == NEG
    out = {"n": int(len(y)), "n_blast": int(pos.sum()), "n_non_blast": int(neg.sum())}
    if pos.any() and neg.any():
        out["auc"] = float(roc_auc_score(pos, p_blast))
        out["auc_kind"] = "own"
    elif neg.any() and blasts_elsewhere is not None and len(blasts_elsewhere):
        scores = np.concatenate([p_blast[neg], blasts_elsewhere])
        truth = np.r_[np.zeros(neg.sum()), np.ones(len(blasts_elsewhere))]
        out["auc"] = float(roc_auc_score(truth, scores))
        out["auc_kind"] = "vs held-out blasts"
    out["sensitivity"] = (float(sensitivity_score(y, y_pred, pos_label=POS))
                          if pos.any() else None)
    out["specificity"] = float(np.mean(y_pred[neg] == NEG)) if neg.any() else None
    if pos.any() and neg.any():
        out["specificity"] = float(specificity_score(y, y_pred, pos_label=POS))
    lym = neg & np.char.startswith(np.char.lower(cell_type.astype(str)), "lymphocyte")
    out["specificity_lymphocytes"] = (float(np.mean(y_pred[lym] == NEG))
                                      if lym.any() else None)
    out["mean_p_blast_non_blast"] = float(p_blast[neg].mean()) if neg.any() else None
    out["mean_p_blast_blast"] = float(p_blast[pos].mean()) if pos.any() else None
    out["ece"] = float(expected_calibration_error(y, p_blast, pos_label=POS))
    edges = np.linspace(0, 1, HIST_BINS + 1)
    out["hist_blast"] = np.histogram(p_blast[pos], edges)[0].tolist()
    out["hist_non_blast"] = np.histogram(p_blast[neg], edges)[0].tolist()
    return out


def _score_config(fold, y, source, heldout, cell_type, classes):
    """The figures of one configuration (an ``evaluate`` fold) per test source."""
    test = fold["test_index"]
    p_blast = fold["proba"][:, list(classes).index(POS)]
    y_pred = fold["y_pred"]
    if y_pred is None:
        y_pred = np.where(p_blast >= 0.5, POS, NEG)
    trained_on = sorted(set(source[fold["train_index"]]))
    ys, ss, hs = y[test], source[test], heldout[test]
    # held-out blasts of the training sources, for sources without blasts
    in_dom_blasts = p_blast[np.isin(ss, trained_on) & hs & (ys == POS)]
    per_source = {}
    for s in dict.fromkeys(source):
        m = ss == s
        if s in trained_on:
            m &= hs
        if not m.any():
            continue
        per_source[s] = _metrics(ys[m], p_blast[m], np.asarray(y_pred)[m],
                                 cell_type[test][m], in_dom_blasts)
        per_source[s]["unseen"] = s not in trained_on
    return {"trained_on": trained_on, "n_train": int(len(fold["train_index"])),
            "fit_time_s": float(fold["fit_time"]), "per_source": per_source}


def familiarity(X, source, configs, heldout, seed=0, batch=32, n_batches=200):
    """Does :class:`~skleuk.preprocessing.FamiliarityCheck` flag the unseen source?

    Per configuration, the check is fitted on the training cells; per test
    source (held-out part of a training source, or every cell of an unseen
    one): the share of cells flagged and the share of ``n_batches`` random
    batches of ``batch`` cells that would warn.
    """
    from skleuk.preprocessing import FamiliarityCheck

    rng = np.random.default_rng(seed)
    out = {}
    for name, (train, test) in configs.items():
        check = FamiliarityCheck().fit(X[train])
        trained_on = set(source[train])
        per = {}
        for s in dict.fromkeys(source[test]):
            idx = test[source[test] == s]
            unfamiliar = check.unfamiliarity(X[idx]) > 1.0
            draws = [rng.choice(len(idx), batch, replace=len(idx) < batch)
                     for _ in range(n_batches)]
            shares = np.array([unfamiliar[d].mean() for d in draws])
            per[s] = {"unseen": s not in trained_on, "n": int(len(idx)),
                      "cells_flagged": float(unfamiliar.mean()),
                      "batches_flagged": float(
                          np.mean(shares > check.max_unfamiliar_fraction))}
        out[name] = per
    return out


#: Epochs of every fit: fewer than the recipe's 120 so that a standard run
#: stays within about 15 minutes on 2 shared cores (the training sets are
#: 2-3 times ALL-IDB2's 260 images, so as many gradient steps as ~100 epochs
#: of it); ``--quick``: 8.
EPOCHS = 40
QUICK_EPOCHS = 8


def make_model(seed=0, quick=False, variant="default"):
    """The pipeline under test: the default recipe (``variant``: see VARIANTS)."""
    from skleuk import make_pipeline

    params = {"cnn__epochs": QUICK_EPOCHS if quick else EPOCHS}
    params.update(VARIANTS[variant])
    magnification = params.pop("magnification", False)
    pipe = make_pipeline(cnn__random_state=seed, **params)
    if magnification:
        from skleuk.preprocessing import MagnificationNormalizer

        crop = [name for name, _ in pipe.steps].index("crop")
        pipe.steps.insert(crop, ("magnification", MagnificationNormalizer()))
    return pipe


#: Pipeline variants the benchmark can compare (``run(..., variants=...)``):
#: ``stain_augment`` adds RandomStain (per-channel stain, blur, noise) and
#: scale jitter to the training augmentation; ``magnification`` puts
#: MagnificationNormalizer (red-cell ruler, white-cell fallback) first;
#: ``stain_normalise``: StainNormalizer (Macenko) as the color step.
_AUGMENT = {"cnn__augment": {"stain": 0.15, "blur": 1.0, "noise": 0.05, "scale": 0.15}}
VARIANTS = {"default": {}, "stain_augment": _AUGMENT,
            "magnification": {"magnification": True},
            "stain_normalise": {"stain": True}, "stain_normalise_augment": {
                "stain": True, **_AUGMENT}}


def run(data, *, quick=False, seed=0, per_class=None, variants=("default",),
        only=None, context=None):
    """Fit one pipeline per configuration and score it on every source.

    ``only``: names of the configurations to run (default: all);
    ``context``: the cell windows' framing (see :func:`load_sources`).
    """
    from skleuk.model_selection import evaluate

    per_class = per_class or (40 if quick else PER_CLASS)
    t0 = time.perf_counter()
    sources = load_sources(data, per_class, seed, context)
    load_s = time.perf_counter() - t0
    X = np.concatenate([d["X"] for d in sources.values()])
    y = np.concatenate([d["y"] for d in sources.values()])
    source = np.concatenate([[s] * len(d["y"]) for s, d in sources.items()])
    groups = np.concatenate([[f"{s}:{g}" for g in d["groups"]]
                             for s, d in sources.items()])
    cell_type = np.concatenate([d["cell_type"].astype(str) for d in sources.values()])
    rng = np.random.default_rng(seed)
    heldout = np.zeros(len(y), bool)
    for s in sources:
        m = source == s
        heldout[m] = _holdout(groups[m], rng)
    configs = {k: v for k, v in configurations(source, heldout).items()
               if (only is None or k in only) and len(np.unique(y[v[0]])) == 2}
    t1 = time.perf_counter()
    fam = familiarity(X, source, configs, heldout, seed)
    results = {
        "familiarity": fam, "familiarity_s": time.perf_counter() - t1,
        "task": "blast vs non-blast white cell", "seed": seed, "quick": quick,
        "per_class": per_class, "epochs": QUICK_EPOCHS if quick else EPOCHS,
        "test_share": TEST_SHARE, "window": SIZE, "context": context,
        "sources": {s: {"n": int(len(d["y"])), "n_blast": int((d["y"] == POS).sum()),
                        "n_groups": int(len(np.unique(d["groups"]))),
                        "n_heldout": int(heldout[source == s].sum())}
                    for s, d in sources.items()},
        "load_s": load_s, "variants": {},
    }
    for variant in variants:
        names = list(configs)
        report = evaluate(make_model(seed, quick, variant), X, y,
                          cv=[configs[n] for n in names], error_score="raise")
        results["variants"][variant] = {
            name: _score_config(fold, y, source, heldout, cell_type, report.classes)
            for name, fold in zip(names, report.folds, strict=True)}
    results["total_s"] = time.perf_counter() - t0
    return results


def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "--"
    return f"{v:.{digits}f}"


def _labels(name, source, m):
    """Trained on, tested on, kind: the first cells of a row."""
    kind, held = name.split(":")
    train = ("all but " + held) if kind == "loso" else held + " only"
    return [train, source, "unseen" if m["unseen"] else "in-domain (held out)"]


def table_rows(results, variant="default"):
    """One row per (configuration, test source)."""
    rows = []
    for name, cfg in results["variants"][variant].items():
        kind, held = name.split(":")
        for s, m in cfg["per_source"].items():
            if kind == "loso" and s != held:
                continue
            rows.append([*_labels(name, s, m), m["n"], m.get("auc"),
                         m.get("auc_kind", ""), m["sensitivity"], m["specificity"],
                         m["specificity_lymphocytes"], m["mean_p_blast_non_blast"],
                         m["ece"]])
    return rows


def render(results, out):
    """The default's table, the variants' and familiarity tables, the figure."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    head = ["Trained on", "Tested on", "Kind", "Cells", "AUC", "AUC of", "Sensitivity",
            "Specificity", "Spec. lymphocytes", "Mean P(blast), non-blasts", "ECE"]
    variant = "default" if "default" in results["variants"] else next(
        iter(results["variants"]))  # the others: in the variants table
    rows = [[_fmt(c) if c is None or isinstance(c, float) else str(c) for c in r]
            for r in table_rows(results, variant)]
    text = (
        f"*Blast vs non-blast white cell*, {results['per_class']} cells at "
        f"most per source and class, seed {results['seed']}, "
        f"default recipe with {results['epochs']} epochs; "
        f"in-domain = the {int(TEST_SHARE * 100)} % of groups held out of "
        "training. AUC of a source without blasts: its cells against the "
        "held-out blasts of the training sources. " + _MEASURED
        + (f" One pipeline variant took {results['total_s'] / 60:.0f} min."
           if "total_s" in results else ""))
    written.append(_write(out / "cross_source.rst", text, head, rows,
                          f" (variant {variant!r})"))
    if len(results["variants"]) > 1:
        written.append(_variants_table(results, out))
    if "familiarity" in results:
        written.append(_familiarity_table(results["familiarity"], out))
    written.append(_figure(results, out / "cross_source_scores.png"))
    return written


_MEASURED = (
    "Measured by ``python -m benchmarks.run --only cross_source`` "
    "(``benchmarks/bench_cross_source.py``) on the shared 2-core development "
    "machine."
)


def _write(path, text, head, rows, variant=""):
    """A fragment: the do-not-edit comment, ``text``, the table of ``rows``."""
    path.write_text(f".. Generated by benchmarks/bench_cross_source.py{variant}; "
                    f"do not edit.\n\n{text}\n\n{list_table(head, rows)}")
    return path


def _variants_table(results, out):
    """``cross_source_variants.rst``: AUC / sensitivity / specificity per variant."""
    variants = list(results["variants"])
    base = {tuple(r[:3]): r for r in table_rows(results, variants[0])}
    cols = {v: {tuple(r[:3]): r for r in table_rows(results, v)} for v in variants}
    head = ["Trained on", "Tested on", "Kind"] + [
        f"{v}: AUC / sens. / spec." for v in variants
    ]
    rows = []
    for key in base:
        row = [str(k) for k in key]
        for v in variants:
            r = cols[v].get(key)
            row.append("--" if r is None
                       else " / ".join(_fmt(c, 2) for c in (r[4], r[6], r[7])))
        rows.append(row)
    text = (
        "AUC / sensitivity / specificity at the default threshold per pipeline "
        f"variant: the cells, split and seed ({results['seed']}) of the table "
        f"above, {results['per_class']} cells at most per source and class, "
        f"{results['epochs']} epochs (``cell_windows``: the default pipeline on "
        "the same cells framed as 3 nucleus diameters in every source; "
        "``default_seed1``: the default with seed 1 -- another draw of cells, "
        f"split and network seed). {_MEASURED}")
    return _write(out / "cross_source_variants.rst", text, head, rows)


def _familiarity_table(fam, out):
    """``cross_source_familiarity.rst``: what FamiliarityCheck flags."""
    head = ["Fitted on", "Tested on", "Kind", "Cells", "Cells flagged",
            "Batches of 32 flagged"]  # fmt: skip
    rows = [[*_labels(name, s, m), str(m["n"]), f"{m['cells_flagged']:.3f}",
             f"{m['batches_flagged']:.3f}"]
            for name, per in fam.items() for s, m in per.items()]
    text = (
        "``FamiliarityCheck()`` with its defaults, fitted on the training cells "
        "of each configuration; share of the test cells it flags, and of 200 "
        "random batches of 32 of them that would warn. " + _MEASURED)
    return _write(out / "cross_source_familiarity.rst", text, head, rows)


def _figure(results, path, variant="default"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if variant not in results["variants"]:
        variant = next(iter(results["variants"]))
    cfgs = results["variants"][variant]
    fig, axes = plt.subplots(len(cfgs), 1, figsize=(7.5, 1.6 * len(cfgs) + 0.6),
                             sharex=True, squeeze=False)
    centres = (np.arange(HIST_BINS) + 0.5) / HIST_BINS
    for ax, (name, cfg) in zip(axes[:, 0], cfgs.items(), strict=True):
        kind, held = name.split(":")
        srcs = list(cfg["per_source"])
        for j, s in enumerate(srcs):
            m = cfg["per_source"][s]
            for key, colour, sign in (("hist_non_blast", "tab:blue", -1),
                                      ("hist_blast", "tab:red", 1)):
                h = np.asarray(m[key], float)
                if h.sum():
                    ax.fill_between(centres, j, j + sign * 0.45 * h / h.max(),
                                    color=colour, alpha=0.6, step="mid", lw=0)
        ax.set_yticks(range(len(srcs)))
        ax.set_yticklabels(
            [s + ("*" if cfg["per_source"][s]["unseen"] else "") for s in srcs],
            fontsize=8)
        ax.axvline(0.5, color="k", lw=0.6, ls=":")
        ax.set_title(f"trained on all but {held}" if kind == "loso"
                     else f"trained on {held} only", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel(
        "P(blast)  (red: blasts, above; blue: non-blasts, below; * unseen source)",
        fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
