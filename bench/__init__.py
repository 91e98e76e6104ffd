"""Benchmarks for soapbridge: ``python -m bench`` (``make bench``). See README, "Performance"."""
