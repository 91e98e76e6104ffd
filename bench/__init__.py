"""Benchmarks for soapbridge: ``python -m bench`` (``make bench``). See docs/performance.md."""
