"""Entry point of the benchmark's child processes: `python -m tests.bench.child KIND ARGS.json OUT.json`.

Each kind measures in a clean process so its memory reading is its own:

* ``index``: reelseek's pipelined ``Library.index`` on fresh libraries, with light
  instrumentation (wall time spent in each stage, per thread) and the peak RSS;
* ``search``: open a generated library the way the product does, time searches, read RSS.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
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
    indexer.segment = clock.wrap("write", indexer.segment)


def index_kind(args: dict[str, Any]) -> dict[str, Any]:
    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.library import Library
    from tests.bench.embedders import default_embedder

    embedder = default_embedder(args.get("precision", "auto"))
    embedder.encode_frames(__import__("numpy").zeros((2, embedder.image_size, embedder.image_size, 3), "uint8"))
    rss_model = rss_bytes()
    clock = StageClock()
    _instrument(clock)
    embedder.encode_frames = clock.wrap("encode", embedder.encode_frames)  # type: ignore[method-assign]
    results = []
    for run in args["runs"]:
        walls, splits, video_s, disk, breakdown, segments, frames = [], [], 0.0, 0, {}, 0, 0
        for _ in range(int(run.get("repeat", 1))):
            with tempfile.TemporaryDirectory(prefix="reelseek-bench-") as home:
                cfg = IndexerConfig(sample_every=float(args.get("every", 1.0)), **run.get("config", {}))
                lib = Library(home, model_id=embedder.model_id, indexer_config=cfg)
                lib._embedders[embedder.model_id] = embedder  # no public injection point yet (see report)
                vi = lib.vector_index()
                store = lib.store
                store.commit_file = clock.wrap("write", store.commit_file)  # type: ignore[method-assign]
                vi.add = clock.wrap("write", vi.add)  # type: ignore[method-assign]
                vi.save = clock.wrap("write", vi.save)  # type: ignore[method-assign]
                before = dict(clock.seconds)
                t0 = time.perf_counter()
                # The visual pass only: the words pass has its own benchmarks (words*.py).
                report = lib.index(run["folders"], words=False)
                walls.append(time.perf_counter() - t0)
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
        best = walls.index(sorted(walls)[len(walls) // 2])
        split = splits[best]
        results.append(
            {
                "name": run["name"],
                "config": run.get("config", {}),
                "walls_s": walls,
                "wall_s": median(walls),
                "video_s": video_s,
                "segments": segments,
                "frames": frames,
                "split_s": {k: split.get(k, 0.0) for k in ("decode", "preprocess", "encode", "write")},
                "disk_bytes": disk,
                "disk_breakdown": breakdown,
            }
        )
    return {"runs": results, "rss": {"after_model_bytes": rss_model, "peak_bytes": peak_rss_bytes()}}


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
