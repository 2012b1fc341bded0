"""The ``skleuk`` argument parser."""

from __future__ import annotations

import argparse

from ._common import (
    DEMO_DEFAULTS,
    PROG,
    _dpi,
    _folds_int,
    _image_size,
    _n_jobs,
    _positive_int,
    _probability,
    _seed,
)
from ._demo import cmd_demo
from ._evaluate import cmd_evaluate
from ._grid_search import cmd_grid_search
from ._model import THRESHOLD_FOLDS
from ._predict import cmd_predict
from ._screen import cmd_screen
from ._train import cmd_train
from ._versions import cmd_show_versions, cmd_version


def _add_common(p):
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the Python traceback of errors")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bars")


def _add_model_options(p, *, grid=False, demo=False):
    from .. import DEFAULT_IMAGE_SIZE

    g = p.add_argument_group("model (defaults: those of skleuk.make_pipeline)")
    if not grid:
        g.add_argument("--optimizer", choices=["adam", "sgd"], default=None,
                       help="optimizer of the CNN")
        g.add_argument(
            "--epochs", type=_positive_int, metavar="N",
            default=DEMO_DEFAULTS["epochs"] if demo else None,
            help="training epochs (default: the recipe's)",
        )
    g.add_argument("--recipe", choices=["default", "paper"], default=None,
                   help="the pipeline's recipe: 'default' (chosen on real "
                   "smears) or 'paper' (Alkhouli & Joshi's system as "
                   "published; see skleuk.make_pipeline)")
    g.add_argument("--architecture", choices=["paper", "light", "wide"], default=None,
                   help="CNN architecture (default: the recipe's)")
    g.add_argument(
        "--image-size", type=_image_size, metavar="S",
        default=DEMO_DEFAULTS["image_size"] if demo else None,
        help="side of the square images the CNN sees, in pixels, at least 19 for "
        f"the paper network (default: the recipe's, {DEFAULT_IMAGE_SIZE} for "
        "the default one)"
        + ("; the synthetic smears are drawn at twice this size" if demo else ""),
    )
    g.add_argument("--stain", choices=["macenko", "reinhard"], default=None,
                   help="replace the colour step by a stain normalisation "
                   "(skleuk.preprocessing.StainNormalizer) fitted on the "
                   "training images and applied to each image on its own; "
                   "opt-in, see the user guide's page on other laboratories")
    g.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                   help="training mini-batch size")
    g.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="test-time augmentation: predict the mean over the 8 "
                   "flips and rotations of each image (default: the recipe's, "
                   "on for the default one; --no-tta: one network pass per "
                   "image instead of eight)")
    g.add_argument("--random-state", type=_seed, default=0, metavar="SEED",
                   help="seed of the folds and of the network (default: 0)")


def _add_operating_point_option(p):
    p.add_argument(
        "--min-sensitivity", type=_probability, default=None, metavar="S",
        help="two classes only: move the decision threshold so that the "
        "sensitivity (recall of the disease class) reaches S, e.g. 0.98; the "
        f"threshold is chosen by {THRESHOLD_FOLDS}-fold cross-validation on the "
        "training images only (in 'evaluate', inside each training fold) and "
        "may miss S on new images (default: threshold 0.5)")


def _add_trust_option(p):
    p.add_argument(
        "--trust-model", action="store_true",
        help="load a model file that holds types other than scikit-learn's, "
        "NumPy's, Keras's and skleuk's (your own transformer, say); such a "
        "file can run any code when loaded: only for files you trust. "
        "Without it, model files are read through an allow-list of types "
        "and nothing in them is run")


def _add_data_options(p):
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True, metavar="PATH", action="append",
                   help="folder with the images: ALL-IDB (any level above "
                   "ALL_IDB1/ALL_IDB2) or one subfolder per class. Repeat it "
                   "to pool several sources (laboratories, scanners: --data "
                   "LAB_A --data LAB_B): the classes are matched by folder "
                   "name, each folder is a source")
    g.add_argument("--dataset", default="auto",
                   choices=["auto", "all-idb2", "all-idb1", "folder"],
                   help="layout of --data: all-idb2 single-cell crops, all-idb1 "
                   "smears (cells are cut out and grouped by smear), folder: "
                   "one subfolder per class; auto: ALL_IDB2 if found, else folder, "
                   "an error if both fit (default: auto)")


def _add_cv_options(p):
    g = p.add_argument_group("cross-validation")
    g.add_argument("--positive-class", default=None, metavar="NAME",
                   help="class whose sensitivity, specificity and ROC AUC are "
                   "reported (two classes; default: the class named like "
                   "leukaemia -- ALL, blast, leukemia -- else the other of the "
                   "one named healthy, benign, normal..., else the last one, "
                   "marked ASSUMED in the report)")
    g.add_argument("--folds", type=_folds_int, default=5, metavar="K",
                   help="number of folds (default: 5)")
    g.add_argument("--group-duplicates", action="store_true",
                   help="keep near-duplicate images in the same fold")
    g.add_argument("--group-by", choices=["source"], default=None,
                   help="with several --data: keep each source whole in one "
                   "fold, as many folds as sources (at most --folds): leave "
                   "one source out, the estimate for a laboratory the model "
                   "has not seen")
    g.add_argument("--n-jobs", type=_n_jobs, default=1, metavar="N",
                   help="train N folds (evaluate) or fits (grid-search) at a "
                   "time in worker processes, -1 for every core (default: 1). "
                   "Each trains its own network, so memory grows about N-fold; "
                   "seeded runs give the same results for every N")
    return g


def _add_demo(add):
    """Add the ``demo`` command (``add``: build_parser's sub-parser factory)."""
    p = add("demo", cmd_demo,
            "cross-validate the default pipeline on built-in synthetic smears",
            "Generate synthetic blood smear images, cross-validate the default "
            "pipeline (skleuk.make_pipeline) on them and write the report "
            "(text, Markdown, HTML, JSON) and figures to --out. By default: 260 "
            "images and the pipeline's own defaults; --n-samples, --epochs and "
            "--folds make it smaller.")
    p.add_argument("--out", default="skleuk-demo", metavar="DIR",
                   help="output folder (default: skleuk-demo)")
    p.add_argument("--force", action="store_true",
                   help="write into an existing, non-empty --out (its report "
                   "files and figures are replaced, other files kept)")
    p.add_argument("--n-samples", type=_positive_int, metavar="N",
                   default=DEMO_DEFAULTS["n_samples"],
                   help="number of images (default: %(default)s)")
    p.add_argument("--folds", type=_folds_int, default=DEMO_DEFAULTS["folds"],
                   metavar="K", help="number of folds (default: %(default)s)")
    p.add_argument("--repeats", type=_positive_int, default=1, metavar="N",
                   help="repetitions of the cross-validation (default: 1)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    _add_model_options(p, demo=True)


def _add_evaluate(add):
    """Add the ``evaluate`` command (``add``: build_parser's sub-parser factory)."""
    p = add("evaluate", cmd_evaluate,
            "cross-validate the pipeline on your images and write a report",
            "Cross-validate the default pipeline on a local copy of ALL-IDB or a "
            "class-per-folder image tree; write the report and figures to --out.")
    _add_data_options(p)
    g = _add_cv_options(p)
    g.add_argument("--repeats", type=_positive_int, default=1, metavar="N",
                   help="repetitions of the cross-validation, reshuffled "
                   "(default: 1)")
    p.add_argument("--out", default="skleuk-report", metavar="DIR",
                   help="output folder (default: skleuk-report)")
    p.add_argument("--force", action="store_true",
                   help="write into an existing, non-empty --out (its report "
                   "files and figures are replaced, other files kept)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    _add_model_options(p)
    _add_operating_point_option(p)


def _add_train(add):
    """Add the ``train`` command (``add``: build_parser's sub-parser factory)."""
    p = add("train", cmd_train,
            "fit the pipeline on all your images and save the model",
            "Fit the default pipeline on all images of --data and save it to "
            "--out for 'skleuk predict'.")
    _add_data_options(p)
    p.add_argument("--out", default="skleuk-model.joblib", metavar="FILE",
                   help="model file to write (default: skleuk-model.joblib)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing model file")
    p.add_argument("--screening", action="store_true",
                   help="fit a whole-smear screener (skleuk.screening."
                   "SmearScreener) for 'skleuk screen': --data holds one "
                   "subfolder per class of whole smears (image-level labels); "
                   "every white cell inherits its smear's label")
    p.add_argument("--aggregation", default=None,
                   choices=["auto", "mean", "top_k", "max", "fraction"],
                   help="with --screening: how cell probabilities become the "
                   "smear's; auto (default) chooses the rule and the "
                   "threshold by inner cross-validation over the training "
                   "smears (needs at least 2 smears with white cells in every "
                   "class) and prints its score; a fixed rule works with "
                   "fewer (threshold 0.5)")
    p.add_argument("--field-view", action="store_true",
                   help="with --screening: also fit the pipeline on each whole "
                   "smear (resized, no crop) and mix its probabilities with the "
                   "cells' (SmearScreener's field_model, half and half)")
    p.add_argument("--familiarity", action="store_true",
                   help="keep a compact description of the training images "
                   "(skleuk.preprocessing.FamiliarityCheck) so that 'skleuk "
                   "predict' warns when a batch looks unlike them (another "
                   "laboratory, stain, camera or magnification); with "
                   "--screening, of the training cells, so that 'skleuk "
                   "screen' marks a smear whose cells look unlike them "
                   "'unfamiliar — review' instead of giving it a verdict")
    _add_model_options(p)
    _add_operating_point_option(p)


def _add_grid_search(add):
    """Add the ``grid-search`` command (``add``: build_parser's sub-parser factory)."""
    p = add("grid-search", cmd_grid_search,
            "choose optimizer and epochs by cross-validated grid search",
            "Grid-search the optimizer and the number of epochs with "
            "(grouped) stratified cross-validation, scoring accuracy, ROC AUC, "
            "sensitivity and specificity; refit the best (by accuracy) on all "
            "images. Writes grid_search_results.csv/.json and best_model.joblib "
            "to --out.")
    _add_data_options(p)
    _add_cv_options(p)
    g = p.add_argument_group("grid")
    g.add_argument("--optimizers", nargs="+", choices=["adam", "sgd"],
                   default=["sgd", "adam"], metavar="OPT",
                   help="optimizers to try, among adam and sgd (default: sgd adam)")
    g.add_argument("--epochs", nargs="+", type=_positive_int, default=[10, 30],
                   metavar="N", help="numbers of epochs to try (default: 10 30)")
    p.add_argument("--out", default="skleuk-grid-search", metavar="DIR",
                   help="output folder (default: skleuk-grid-search)")
    p.add_argument("--force", action="store_true",
                   help="write into an existing, non-empty --out (its report "
                   "files and figures are replaced, other files kept)")
    _add_model_options(p, grid=True)


def _add_predict(add):
    """Add the ``predict`` command (``add``: build_parser's sub-parser factory)."""
    from ..utils._image_io import DEFAULT_MAX_IMAGE_PIXELS

    p = add("predict", cmd_predict,
            "classify images with a saved model",
            "Print one line per image: file, predicted class and its "
            "probability (CSV and JSON also give every class's probability "
            "and a note). An image that is too small, blank or holds no "
            "white cell gets 'referred' and the reason instead of a class "
            "(see --no-image-check); with a screening model, a smear "
            "without a white cell is referred. A file name holding a tab or "
            "newline is written as a JSON string in the text format. "
            "Folders are searched recursively (symbolic links "
            "followed). Images are read --batch-size at a time, so any number "
            "of images fits in memory; an image over the pixel limit "
            f"({DEFAULT_MAX_IMAGE_PIXELS:,}, environment variable "
            "SKLEUK_MAX_IMAGE_PIXELS) is skipped with a warning before it is "
            "decoded. "
            "Model files are read through an allow-list of types: a file "
            "holding other code is refused (see --trust-model).")
    p.add_argument("model", help="model file from 'skleuk train'")
    _add_trust_option(p)
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                   help="image files or folders")
    p.add_argument("--format", choices=["text", "csv", "json"], default="text",
                   help="output format; text is tab-separated (default: text)")
    p.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                   help="images read and classified at a time (default: 32)")
    p.add_argument("--no-image-check", action="store_true",
                   help="classify every image, also those that fail the "
                   "checks: by default an image that is too small, blank "
                   "(one colour) or holds no white cell that skleuk's "
                   "detector finds gets no class but 'referred' and the "
                   "reason (the detector needs colour: grey-level images "
                   "are referred; use this option for a model trained on "
                   "grey-level images)")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="switch the saved network's test-time augmentation on "
                   "or off (default: as saved; the default recipe's is on: "
                   "--no-tta makes one network pass per image instead of "
                   "eight, faster and slightly less accurate)")


def _add_screen(add):
    """Add the ``screen`` command (``add``: build_parser's sub-parser factory)."""
    p = add("screen", cmd_screen,
            "find, classify and count every white cell of whole smears",
            "Screen whole smears with a model from 'skleuk train --screening': "
            "every white cell is located and classified. Writes to --out "
            "cells.csv (file, cell, row, col, box, border/overlap flags, "
            "p_blast, label blast/non-blast, p_<class>), smears.csv (status "
            "positive/negative/referred/unfamiliar, verdict, note, cell and "
            "blast counts, p_<class> of the smear -- the verdict is decided "
            "on the disease class's probability against the model's "
            "threshold -- then that probability from the cells alone and, "
            "with a field view, from the whole smear alone, the overlay, "
            "and, for a model trained with --familiarity, the share of the "
            "smear's cells that look unlike the training cells and their "
            "median unfamiliarity: a smear with too many is 'unfamiliar', "
            "its verdict to be reviewed, not trusted), "
            "summary.html and summary.md (what decided the verdicts; "
            "positive, referred and unfamiliar smears first, then the "
            "others, then the "
            "skipped files; overlays linked; totals), run.json (the same "
            "facts for programs; 'status' says whether the run completed) "
            "and one overlay PNG per smear in overlays/. A smear without a "
            "white cell is referred, not called healthy. An interrupted run "
            "(Ctrl-C, SIGTERM) writes its summaries marked incomplete. "
            "Folders are searched "
            "recursively; smears are screened one at a time, so any number "
            "fits in memory. Model files are read through an allow-list of "
            "types: a file holding other code is refused (see --trust-model).")
    p.add_argument("model", help="model file from 'skleuk train --screening'")
    _add_trust_option(p)
    p.add_argument("inputs", nargs="+", metavar="SMEAR_OR_FOLDER",
                   help="smear image files or folders")
    p.add_argument("--out", default="skleuk-screening", metavar="DIR",
                   help="output folder, outside the input folders "
                   "(default: skleuk-screening)")
    p.add_argument("--force", action="store_true",
                   help="replace earlier screening results in --out as a "
                   "whole (result files and overlay PNGs; other files stay)")
    p.add_argument("--no-overlays", action="store_true",
                   help="skip the overlay PNGs")
    p.add_argument("--dpi", type=_dpi, default=100, metavar="N",
                   help="resolution of the overlays, 10 to 600 (default: 100)")


def build_parser():
    """Build the ``skleuk`` argument parser.

    Returns
    -------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> from skleuk.cli import build_parser
    >>> args = build_parser().parse_args(["demo", "--epochs", "2"])
    >>> args.command, args.epochs
    ('demo', 2)
    """
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Detect Acute Lymphoblastic Leukemia in blood smear images "
        "with a lightweight CNN (Alkhouli & Joshi), scikit-learn style.",
        epilog="Start with 'skleuk demo'. Run 'skleuk COMMAND --help' for the "
        "options of a command.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, func, help_, description=None):
        p = sub.add_parser(name, help=help_, description=description or help_)
        p.set_defaults(func=func)
        _add_common(p)
        return p

    for adder in (_add_demo, _add_evaluate, _add_train, _add_grid_search,
                  _add_predict, _add_screen):
        adder(add)
    add("version", cmd_version, "print the skleuk version")
    add("show-versions", cmd_show_versions,
        "print the versions of Python and of skleuk's dependencies "
        "(for bug reports)")
    return parser
