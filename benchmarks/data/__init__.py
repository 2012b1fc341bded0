"""One module per real data source: load, normalise, cut cells, groups.

Each ``benchmarks/data/<source>.py`` reads one collection from the folder
given with ``python -m benchmarks.run --data <source>=PATH`` (or
``$SKLEUK_<SOURCE>_DATA``). A benchmark names the sources it needs in its
``NEEDS`` tuple; the runner skips it when one is missing. None of these
collections is shipped with skleuk, and nothing derived from them that
identifies an image is committed.
"""
