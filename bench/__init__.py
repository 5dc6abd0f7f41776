"""Benchmarks behind `make bench`: never part of the test suite, never timed assertions.

`bench/run.py` discovers every `bench/bench_*.py` module and rewrites its section of
docs/benchmarks.md. See bench/common.py for what a benchmark module exposes.
"""
