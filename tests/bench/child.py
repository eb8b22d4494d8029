"""Entry point of the benchmark's child processes: `python -m tests.bench.child KIND ARGS.json OUT.json`.

Each kind measures in a clean process so its memory reading is its own:

* ``index``: reelseek's pipelined ``Library.index`` on fresh libraries, with light
  instrumentation (wall time spent in each stage, per thread) and the peak RSS;
* ``search``: open a generated library the way the product does, time searches, read RSS.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bench.common import dir_bytes, median, peak_rss_bytes, rss_bytes


class StageClock:
    """Wall seconds spent inside instrumented calls, by stage (thread-safe, any thread)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] += seconds

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - t0)

        return timed

    def wrap_generator(self, stage: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        """Time only the work inside the generator, not the consumer's waits between items."""

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = fn(*args, **kwargs)
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    self.add(stage, time.perf_counter() - t0)
                    return
                self.add(stage, time.perf_counter() - t0)
                yield item

        return timed


def _instrument(clock: StageClock) -> None:
    """Patch the engine's stage entry points in this process only (the bench never edits core/)."""
    from reelseek.core import indexer, media
    from reelseek.core.media import io as media_io

    media.sample_frames = clock.wrap_generator("decode+preprocess", media.sample_frames)
    media_io.FrameConverter.model_input = clock.wrap("preprocess", media_io.FrameConverter.model_input)
    media.encode_jpeg = clock.wrap("write", media.encode_jpeg)
    # The pipeline proper (decode threads + encoder + commits), without scan, backup and calibration.
    indexer.Indexer.run = clock.wrap("indexer_run", indexer.Indexer.run)  # type: ignore[method-assign]
    indexer.segment = clock.wrap("write", indexer.segment)


def cpu_timed(clock: StageClock, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, adding the process CPU seconds it takes to the clock's ``calibrate_cpu``."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            clock.add("calibrate_cpu", time.process_time() - c0)

    return timed


def stage_ceilings(spec: dict[str, Any], embedder: Any) -> dict[str, Any]:
    """Decode-only and encode-only for one file with this process's encoder (indexing._stage_ceilings)."""
    from reelseek.core import media
    from reelseek.core.indexer import IndexerConfig
    from tests.bench.indexing import _stage_ceilings

    path, cfg = Path(spec["path"]), IndexerConfig()
    info = media.probe(path)
    st = _stage_ceilings(
        path, embedder, info, 1, cfg.thumb_width, cfg.batch_size, spec.get("max_every"), bool(spec.get("refine"))
    )
    st.pop("sampled_times")
    from tests.bench.overlap import available_cores

    st["capacity_cores"] = available_cores(len(os.sched_getaffinity(0)))
    return st


def index_kind(args: dict[str, Any]) -> dict[str, Any]:
    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.library import Library
    from tests.bench.product_embedder import product_encoder, use_encoder

    if args.get("model_home"):  # the product's own encoder, loaded from imported weights
        embedder = product_encoder(Path(args["model_home"]))
    else:
        from tests.bench.embedders import default_embedder

        embedder = default_embedder(args.get("precision", "auto"))
    embedder.encode_frames(__import__("numpy").zeros((2, embedder.image_size, embedder.image_size, 3), "uint8"))
    rss_model = rss_bytes()
    clock = StageClock()
    _instrument(clock)
    embedder.encode_frames = clock.wrap("encode", embedder.encode_frames)  # type: ignore[method-assign]
    results = []
    for run in args["runs"]:
        ceilings = {"before": stage_ceilings(run["ceilings"], embedder)} if run.get("ceilings") else None
        walls, cpus, splits, video_s, disk, breakdown, segments, frames = [], [], [], 0.0, 0, {}, 0, 0
        for _ in range(int(run.get("repeat", 1))):
            with tempfile.TemporaryDirectory(prefix="reelseek-bench-") as home:
                cfg = IndexerConfig(sample_every=float(args.get("every", 1.0)), **run.get("config", {}))
                lib = Library(home, model_id=embedder.model_id, indexer_config=cfg)
                use_encoder(lib, embedder)
                vi = lib.vector_index()
                store = lib.store
                store.commit_file = clock.wrap("write", store.commit_file)  # type: ignore[method-assign]
                vi.add = clock.wrap("write", vi.add)  # type: ignore[method-assign]
                vi.save = clock.wrap("write", vi.save)  # type: ignore[method-assign]
                if run.get("calibrate", False):
                    lib._calibrate = clock.wrap("calibrate", cpu_timed(clock, lib._calibrate))  # type: ignore[method-assign]
                else:  # each fresh home would export the text tower and embed 36 null queries
                    lib._calibrate = lambda mid: None  # type: ignore[method-assign]
                before = dict(clock.seconds)
                t0, c0 = time.perf_counter(), time.process_time()
                # The visual pass only: the words pass has its own benchmarks (words*.py).
                with pinned(run.get("pin"), embedder):
                    report = lib.index(run["folders"], words=False)
                # The null-query calibration at the end of a run costs the same for 10 s or 10 h of
                # footage; it is timed apart and left out of the indexing wall.
                cal = clock.seconds.get("calibrate", 0.0) - before.get("calibrate", 0.0)
                walls.append(time.perf_counter() - t0 - cal)
                cal_cpu = clock.seconds.get("calibrate_cpu", 0.0) - before.get("calibrate_cpu", 0.0)
                cpus.append(time.process_time() - c0 - cal_cpu)
                if report.errors:
                    raise RuntimeError(f"indexing errors: {report.errors}")
                video_s = report.video_seconds
                segments = store.segment_count(embedder.model_id)
                frames = int(
                    store.conn.execute("SELECT COALESCE(SUM(LENGTH(times)), 0) / 4 FROM segments").fetchone()[0]
                )
                lib.close()
                after = dict(clock.seconds)
                split = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(after) | set(before)}
                split["decode"] = split.get("decode+preprocess", 0.0) - split.get("preprocess", 0.0)
                splits.append(split)
                if run.get("disk"):
                    disk = dir_bytes(Path(home))
                    breakdown = {p.name: p.stat().st_size for p in Path(home).rglob("*") if p.is_file()}
        if ceilings is not None:
            ceilings["after"] = stage_ceilings(run["ceilings"], embedder)
        best = walls.index(sorted(walls)[len(walls) // 2])
        split = splits[best]
        results.append(
            {
                "name": run["name"],
                "config": run.get("config", {}),
                "walls_s": walls,
                "wall_s": median(walls),
                "cpu_s": cpus[best],
                "pin": run.get("pin"),
                "video_s": video_s,
                "segments": segments,
                "frames": frames,
                "split_s": {k: split.get(k, 0.0) for k in ("decode", "preprocess", "encode", "write")},
                "calibrate_s": split.get("calibrate", 0.0),
                "indexer_wall_s": split.get("indexer_run", 0.0),
                "ceilings": ceilings,
                "disk_bytes": disk,
                "disk_breakdown": breakdown,
            }
        )
    return {
        "runs": results,
        "rss": {"after_model_bytes": rss_model, "peak_bytes": peak_rss_bytes()},
        "cores": len(os.sched_getaffinity(0)),
    }


@contextmanager
def pinned(pin: str | None, embedder: Any) -> Iterator[None]:
    """``pin="split"``: decoding threads on the first core, the encoder (this thread, torch's
    threads cut to the rest) on the others, so the two stages stop competing for the same cores.
    Linux applies ``sched_setaffinity(0)`` to the calling thread only; threads it starts inherit."""
    if not pin:
        yield
        return
    import torch

    from reelseek.core import indexer

    cores = sorted(os.sched_getaffinity(0))
    decode_cores, encode_cores = {cores[0]}, set(cores[1:]) or {cores[0]}
    loop, threads = indexer.Indexer._decode_loop, torch.get_num_threads()

    def pinned_loop(self: Any, *a: Any, **kw: Any) -> Any:
        os.sched_setaffinity(0, decode_cores)
        return loop(self, *a, **kw)

    indexer.Indexer._decode_loop = pinned_loop  # type: ignore[method-assign]
    os.sched_setaffinity(0, encode_cores)
    torch.set_num_threads(len(encode_cores))
    try:
        yield
    finally:
        indexer.Indexer._decode_loop = loop  # type: ignore[method-assign]
        os.sched_setaffinity(0, set(cores))
        torch.set_num_threads(threads)


def main() -> None:
    kind, args_file, out_file = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    args = json.loads(args_file.read_text())
    if kind == "index":
        result = index_kind(args)
    elif kind == "search":
        from tests.bench.search import search_child

        result = search_child(args)
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    out_file.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
