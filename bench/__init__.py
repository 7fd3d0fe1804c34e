"""Benchmarks at national scale: ``python -m bench.run`` (``make bench``); docs/performance.md."""
