"""Benchmarks of skleuk: accuracy on real smears, trust, speed and scale.

``python -m benchmarks.run`` (``make results``) runs every
``benchmarks/bench_<name>.py`` and renders the docs' tables and figures;
``--help`` says how.
"""
