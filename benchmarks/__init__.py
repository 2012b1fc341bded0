"""Benchmarks of skleuk: speed on CPU, memory, and scale-out on Dask.

Run them with ``make bench`` or ``python -m benchmarks.run`` (``--help``
lists the sections, ``--quick`` runs a reduced version). Results are written
to ``benchmarks/results/*.json`` and, as reStructuredText tables, to
``docs/_generated/`` for the documentation's Performance page.
"""
