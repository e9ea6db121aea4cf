"""Benchmarks of the service against baselines beside it (issue 11).

``python -m bench [--full] [--only SUITE,...]`` (or ``make bench``) runs the suites
(one module each: http, analysis, ballots, statistics, partitioning), prints one
table and, on a full run, writes docs/benchmarks.md. See bench/common.py for what a
suite is given and returns, and bench/NOTES.md for what each baseline does.
"""
