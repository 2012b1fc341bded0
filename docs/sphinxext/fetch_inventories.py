"""Store the intersphinx inventories in docs/_intersphinx/ (needs internet).

Usage: ``python docs/sphinxext/fetch_inventories.py``. The offline docs build
then links to Python, NumPy, SciPy, scikit-learn, scikit-image, Matplotlib,
joblib and Dask without fetching anything.
"""

import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "_intersphinx"


def main():
    sys.path.insert(0, str(HERE.parent))
    import conf  # the mapping lives in docs/conf.py

    TARGET.mkdir(exist_ok=True)
    failed = 0
    for name, url in conf._INTERSPHINX_TARGETS.items():
        try:
            with urllib.request.urlopen(url + "objects.inv", timeout=30) as resp:
                data = resp.read()
        except OSError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        (TARGET / f"{name}.inv").write_bytes(data)
        print(f"{name}: {len(data)} bytes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
