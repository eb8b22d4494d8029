"""Overlap accounting: how close the pipelined indexer comes to its stages measured alone.

#11 asks that decoding and encoding overlap so the pipeline reaches >= 85 % of the slower stage
alone. On a machine where both stages can use every core, overlap cannot beat the cores' CPU
capacity: the pipeline does (at least) the CPU work of both stages, so its wall time is bounded
below by their CPU seconds divided by the cores it can get, as well as by the slower stage. On a
shared machine it gets fewer than the machine's: ``available_cores`` measures how many, with one
busy thread per core (hashing releases the GIL), right beside the stage measurements. This module
turns the walls and CPU seconds measured alone and together into those bounds and fractions.
"""

from __future__ import annotations

from typing import Any


def available_cores(cores: int, seconds: float = 0.4) -> float:
    """CPU seconds per wall-second that ``cores`` busy threads get right now (at most ``cores``)."""
    import hashlib
    import threading
    import time

    block = bytes(1 << 20)
    stop = time.perf_counter() + seconds

    def spin() -> None:
        while time.perf_counter() < stop:
            hashlib.sha256(block).digest()  # releases the GIL for large buffers

    threads = [threading.Thread(target=spin) for _ in range(cores)]
    t0, c0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return min(float(cores), (time.process_time() - c0) / (time.perf_counter() - t0))


def overlap(
    *,
    dp_s: float,
    e_s: float,
    pipeline_s: float,
    dp_cpu_s: float,
    e_cpu_s: float,
    cores: int,
    capacity: float | None = None,
) -> dict[str, Any]:
    """Bounds and fractions for one file.

    Args:
        dp_s, e_s: wall seconds of decode+preprocess alone, and of the encoder alone.
        pipeline_s: wall seconds of the pipelined indexer on the same work.
        dp_cpu_s, e_cpu_s: process CPU seconds (all threads) of each stage alone.
        cores: cores the process may use.
        capacity: cores it could get at the time (``available_cores``); None: all of ``cores``.

    Returns:
        ``serial_s`` (no overlap: dp + e), ``slower_alone_s`` (perfect overlap: max),
        ``cpu_bound_s`` (both stages' CPU work spread over ``capacity_cores``), ``best_possible_s``
        (the larger of the last two), each stage's cores used alone, and the pipeline's
        fractions of them; ``hidden_share`` is the share of the cheaper stage hidden behind the
        other (1 = full overlap, 0 = none, negative = worse than running them one after the other).
    """
    if min(dp_s, e_s, pipeline_s) <= 0 or cores < 1:
        raise ValueError("walls must be positive and cores >= 1")
    serial = dp_s + e_s
    slower = max(dp_s, e_s)
    capacity = min(float(cores), capacity if capacity and capacity > 0 else float(cores))
    cpu_bound = (dp_cpu_s + e_cpu_s) / capacity
    best = max(slower, cpu_bound)
    return {
        "serial_s": serial,
        "slower_alone_s": slower,
        "slower_stage": "decode" if dp_s >= e_s else "encode",
        "capacity_cores": capacity,
        "cpu_bound_s": cpu_bound,
        "best_possible_s": best,
        "decode_cores_alone": dp_cpu_s / dp_s,
        "encode_cores_alone": e_cpu_s / e_s,
        "fraction_of_slower_alone": slower / pipeline_s,
        "fraction_of_serial": serial / pipeline_s,
        "fraction_of_best_possible": best / pipeline_s,
        # The most the 85 % target could show on these cores with perfect scheduling.
        "reachable_fraction_of_slower": slower / best,
        "hidden_share": (serial - pipeline_s) / min(dp_s, e_s),
    }
