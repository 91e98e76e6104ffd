"""Timing: round-robin batches, median per call, so a noisy neighbour hurts every contender alike."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def _batch(fn: Callable[[], object], k: int) -> float:
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - t0) / k


def compare(fns: dict[str, Callable[[], object]], *, budget: float, min_rounds: int = 5, sample: float = 0.005) -> dict[str, float]:
    """Median seconds per call of each function. Each round times one batch of every function in
    turn (batches last about ``sample`` seconds); rounds go on until ``budget`` seconds have passed
    and at least ``min_rounds`` rounds were made."""
    sizes: dict[str, int] = {}
    for name, fn in fns.items():
        fn()  # warm caches: compiled codecs, validators, parsers
        once = _batch(fn, 1)
        sizes[name] = max(1, int(sample / max(once, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    gc.collect()
    started = time.perf_counter()
    rounds = 0
    while rounds < min_rounds or time.perf_counter() - started < budget:
        for name, fn in fns.items():
            samples[name].append(_batch(fn, sizes[name]))
        rounds += 1
        if rounds >= 1000:
            break
    return {name: statistics.median(s) for name, s in samples.items()}
