"""Every stamped docs fragment describes today's default recipe.

The benchmarks' runner stamps each fragment it writes into docs/_generated/
with the hash of the default recipe (benchmarks/stamp.py). When the recipe
changes, the fragments measured with the old one fail here until
``make results`` (``python -m benchmarks.run``) measures them again.
"""

from pathlib import Path

import pytest

stamp = pytest.importorskip("benchmarks.stamp", reason="run from the repository root")

GENERATED = Path(__file__).resolve().parents[1] / "docs" / "_generated"
#: Fragments that must carry a stamp (their benchmarks follow the contract).
MUST_BE_STAMPED = ("accuracy.rst", "trust.rst", "trust_reliability.png",
                   "trust_risk_coverage.png")


def _stamped():
    found = {}
    for path in sorted(GENERATED.glob("*")):
        if path.suffix in (".rst", ".png"):
            s = stamp.read_stamp(path)
            if s is not None:
                found[path.name] = s
    return found


def test_the_headline_fragments_are_stamped():
    stamped = _stamped()
    assert [name for name in MUST_BE_STAMPED if name not in stamped] == []


def test_every_stamped_fragment_describes_todays_default_recipe():
    today = stamp.recipe_hash()
    stale = {name: s["recipe"] for name, s in _stamped().items()
             if s["recipe"] != today}
    assert stale == {}, (
        f"docs fragments measured with another default recipe than today's "
        f"({today}): rerun their benchmarks (make results DATA=...)")
