"""What made a result: package version, git commit, the default recipe's hash.

Every results file and every docs fragment the runner writes carries
:func:`stamp`; ``tests/test_docs_fresh.py`` fails when a fragment's recipe
hash is not :func:`recipe_hash` of today's default.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The stamp's line in a fragment (an rST comment, or a PNG text chunk).
STAMP_RE = re.compile(r"skleuk (?P<version>\S+), commit (?P<commit>\S+), "
                      r"recipe (?P<recipe>[0-9a-f]{12})")


def recipe_hash():
    """12 hex digits identifying the default recipe of ``make_pipeline()``.

    A hash of its step names and of the repr of every (deep) parameter that
    is not itself an estimator: a change of a recipe value or of a step's
    own default changes it.
    """
    from sklearn.base import BaseEstimator

    import skleuk

    pipe = skleuk.make_pipeline()
    params = sorted(
        (k, repr(v)) for k, v in pipe.get_params(deep=True).items()
        if not isinstance(v, BaseEstimator) and k not in ("steps", "memory", "verbose")
    )
    text = repr(([name for name, _ in pipe.steps], params))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def git_commit():
    """The checkout's short commit (``+dirty`` with uncommitted changes)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never lock the index
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True,
                             env=env).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "skleuk"],
                               cwd=REPO_ROOT, capture_output=True, text=True,
                               env=env).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty.strip() else "")


def stamp():
    """``{"version", "commit", "recipe"}`` of this checkout."""
    import skleuk

    return {"version": skleuk.__version__, "commit": git_commit(),
            "recipe": recipe_hash()}


def stamp_line(s):
    """The stamp as one line, e.g. ``skleuk 0.1.dev0, commit abc1234, recipe ...``."""
    return f"skleuk {s['version']}, commit {s['commit']}, recipe {s['recipe']}"


def read_stamp(path):
    """The stamp of a fragment (``.rst`` comment or ``.png`` text), or None."""
    path = Path(path)
    if path.suffix == ".png":
        from PIL import Image

        text = Image.open(path).text.get("skleuk", "")
    else:
        text = path.read_text(errors="replace")[:2000]
    m = STAMP_RE.search(text)
    return m.groupdict() if m else None
