"""Small timing helpers shared by the benchmarks."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of ``samples``."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    """Wall time of each of ``repeat`` calls, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(label: str, samples_ms: list[float]) -> None:
    p50, p95 = percentiles(samples_ms)
    print(f"  {label:<42} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   (n={len(samples_ms)})")
