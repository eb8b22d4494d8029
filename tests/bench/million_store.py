"""Writes a 1 M-segment library's store (and the default model's imported random weights) for tests/bench/million.py.

The store is written straight into the product's schema, as ``tests/bench/search.py`` does,
but with fewer frames per segment and smaller thumbnails so that a million segments stay under
~10 GB of disk (the shared build machine). No stage-1 files are written here: the benchmark
times building them from the store, as a rebuild after damage does.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import log
from tests.bench.embedders import default_spec
from tests.bench.search import SEGMENTS_PER_FILE, Generator, SynthSpace, bench_file_row, write_rows
from tests.bench.startup import import_weights

FRAMES_PER_SEGMENT = (4, 8)  # real footage has 8-16 (1 fps); halved to fit the disk budget
THUMB_BYTES = 500  # a small thumbnail: keeps a million segments under ~10 GB
CHUNK = 10000


def write_store(home: Path, n_segments: int, *, n_queries: int, seed: int = 1) -> dict[str, Any]:
    """Store rows for ``n_segments`` segments, ``vectors.npy`` (float32, id order) and ``queries.npy``."""
    from reelseek.core.paths import data_paths
    from reelseek.core.store import Store

    spec = default_spec()
    model_id, dim = spec.id, spec.dim
    paths = data_paths(home).ensure()
    Store(paths.database).close()
    gen = Generator(SynthSpace(dim=dim), seed)
    t0 = time.perf_counter()
    conn = sqlite3.connect(paths.database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES(1, ?, ?)", (b"/bench/library", time.time()))
    thumb = bytes(np.random.default_rng(seed).integers(0, 256, THUMB_BYTES, dtype=np.uint8))
    vectors = np.lib.format.open_memmap(home / "vectors.npy", mode="w+", dtype=np.float32, shape=(n_segments, dim))
    done = file_id = 0
    while done < n_segments:
        counts: list[int] = []
        while sum(counts) < CHUNK and done + sum(counts) < n_segments:
            counts.append(
                int(min(gen.rng.integers(*SEGMENTS_PER_FILE, endpoint=True), n_segments - done - sum(counts)))
            )
        topics, dirs = gen.files(len(counts))
        seg_file = np.repeat(np.arange(len(counts)), counts)
        n_frames = gen.rng.integers(*FRAMES_PER_SEGMENT, endpoint=True, size=len(seg_file))
        frames, segvecs = gen.segments(topics, dirs, seg_file, n_frames)
        off = np.concatenate([[0], np.cumsum(n_frames)])
        file_rows, seg_rows, k = [], [], 0
        for f, count in enumerate(counts):
            fid, t = file_id + f + 1, 0.0
            for _ in range(count):
                n = int(n_frames[k])
                seg_rows.append(
                    (
                        done + k + 1,
                        fid,
                        model_id,
                        t,
                        t + n,
                        t + n / 2,
                        segvecs[k].tobytes(),
                        (t + np.arange(n, dtype=np.float32)).tobytes(),
                        frames[off[k] : off[k + 1]].tobytes(),
                        thumb,
                    )
                )
                t += n
                k += 1
            file_rows.append(bench_file_row(fid, t, model_id))
        write_rows(conn, file_rows, seg_rows)
        vectors[done : done + len(seg_file)] = segvecs
        done += len(seg_file)
        file_id += len(counts)
        if done % 100_000 < CHUNK:
            log(f"store: {done:,} segments")
    for key, value in ((f"generation:{model_id}", "1"), ("complete_model", model_id)):
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    vectors.flush()
    del vectors
    np.save(home / "queries.npy", gen.queries(n_queries))
    return {
        "segments": n_segments,
        "files": file_id,
        "store_write_s": time.perf_counter() - t0,
        "db_bytes": paths.database.stat().st_size,
        "frames_per_segment": list(FRAMES_PER_SEGMENT),
        "thumb_bytes": THUMB_BYTES,
    }


def prepare(work: Path, n_segments: int, n_queries: int) -> tuple[Path, dict[str, Any]]:
    """The generated home (reused when its stamp says it is complete) and its generation figures."""
    home = work / f"lib-{n_segments}"
    stamp = home / "store.json"
    if stamp.exists():
        return home, json.loads(stamp.read_text())
    import shutil

    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    t0 = time.perf_counter()
    import_weights(home, work)
    info = {"weights_import_s": time.perf_counter() - t0}
    log(f"store: writing {n_segments:,} segments")
    info.update(write_store(home, n_segments, n_queries=n_queries))
    stamp.write_text(json.dumps(info))
    return home, info


if __name__ == "__main__":
    import sys

    work = Path(sys.argv[1])
    work.mkdir(parents=True, exist_ok=True)
    print(json.dumps(prepare(work, int(sys.argv[2]), int(sys.argv[3]))[1], indent=1))
