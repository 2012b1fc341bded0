"""Sphinx configuration for the skleuk documentation.

Build with ``make docs`` (warnings are errors, the gallery is executed) or,
without running the examples::

    python -m sphinx -W --keep-going -b html -D plot_gallery=0 docs docs/_build/html

The API reference is generated from every public module's ``__all__`` at
build time (``docs/sphinxext/skleuk_docs.py``), so a new public name appears
without editing any ``.rst`` file. Intersphinx links to Python, NumPy, SciPy,
scikit-learn, scikit-image and Matplotlib are only fetched when
``SKLEUK_DOCS_INTERSPHINX=1`` (or when inventories are stored in
``docs/_intersphinx/``), because a build without internet access must pass
with ``-W``.
"""

import os
import sys
import warnings
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Examples read this to shrink data sizes and epochs during the docs build.
os.environ["SKLEUK_DOCS_BUILD"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(HERE / "sphinxext"))

import skleuk

# -- Project information -----------------------------------------------------
project = "skleuk"
author = "The skleuk developers"
copyright = f"{date.today().year}, {author}"
release = skleuk.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "skleuk_docs",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "sphinxext",
    "**.ipynb_checkpoints",
    "auto_examples/*.ipynb",
    "auto_examples/**/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/**/*.py",
    "auto_examples/**/*.zip",
    "auto_examples/*.zip",
    "_generated",
    "_autogen",
    "api/_overview.rst.inc",
]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
language = "en"
default_role = "literal"
nitpicky = False
pygments_style = "sphinx"
# A figure/table/code-block caption numbers nothing; keep references textual.
numfig = False

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
autodoc_member_order = "groupwise"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Methods that skleuk classes inherit from scikit-learn / SciKeras and that
# users call: documented on the skleuk class page. Other inherited members
# (set_output, set_*_request, SciKeras internals) are left to their own docs.
_INHERITED_API = frozenset(
    {
        "fit",
        "fit_transform",
        "transform",
        "inverse_transform",
        "predict",
        "predict_proba",
        "decision_function",
        "score",
        "get_params",
        "set_params",
        "partial_fit",
        "get_feature_names_out",
    }
)


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Skip members defined outside skleuk unless they are core estimator API."""
    if skip or what not in ("class", "exception"):
        return None
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("skleuk") or name in _INHERITED_API:
        return None
    func = getattr(obj, "__func__", obj)
    qualname_module = getattr(func, "__module__", "") or ""
    if qualname_module.startswith("skleuk"):
        return None
    return True


# -- intersphinx ---------------------------------------------------------------
# The documentation must build offline with -W, and Sphinx reports an
# unreachable inventory as an (unsuppressible) warning. So inventories are
# used when SKLEUK_DOCS_INTERSPHINX=1 (online builds, e.g. Read the Docs) or
# when a copy is stored as docs/_intersphinx/<name>.inv (fetched with
# ``python docs/sphinxext/fetch_inventories.py`` on a machine with internet).
# Otherwise references to external objects render as plain text; with
# ``nitpicky = False`` that is not a warning.
_INTERSPHINX_TARGETS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "sklearn": "https://scikit-learn.org/stable/",
    "skimage": "https://scikit-image.org/docs/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
    "joblib": "https://joblib.readthedocs.io/en/stable/",
    "dask": "https://docs.dask.org/en/stable/",
    "distributed": "https://distributed.dask.org/en/stable/",
}
# Keras (keras.io) and TensorFlow (tensorflow.org) publish no Sphinx
# objects.inv, so they are linked with plain URLs in the text.
_online = os.environ.get("SKLEUK_DOCS_INTERSPHINX", "0") == "1"
intersphinx_mapping = {}
for _name, _url in _INTERSPHINX_TARGETS.items():
    _local = HERE / "_intersphinx" / f"{_name}.inv"
    if _local.is_file():
        intersphinx_mapping[_name] = (_url, str(_local))
    elif _online:
        intersphinx_mapping[_name] = (_url, None)
intersphinx_timeout = 10

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # EXAMPLES_PATTERN=plot_image_folder runs only the matching examples
    # (the others are rendered without output), for quick local builds.
    "filename_pattern": os.environ.get("EXAMPLES_PATTERN", "/plot_"),
    "ignore_pattern": r"(__init__|conftest)\.py",
    "doc_module": ("skleuk",),
    "backreferences_dir": "gen_modules/backreferences",
    # sphinx-gallery >= 0.21 links code to this documentation by itself
    # (``reference_url`` is deprecated there).
    "subsection_order": [
        "../examples/datasets",
        "../examples/preprocessing",
        "../examples/model",
        "../examples/evaluation",
        "*",
    ],
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib", "skleuk_docs.reset_keras"),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    "default_thumb_file": None,
    "min_reported_time": 1,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skleuk {release}"
html_static_path = ["_static"]
html_css_files = ["skleuk.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "use_edit_page_button": False,
}
html_sidebars = {"index": [], "install": [], "paper_mapping": [], "performance": []}

warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
