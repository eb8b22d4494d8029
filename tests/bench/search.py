"""Search latency, stage-1 recall and search-process memory at 10 k / 100 k / 1 M segments.

Libraries are generated straight into the product's own files: a ``Store`` (same schema,
every segment row with its float32 vector, float32 times, float16 frame vectors and a
thumbnail blob of typical size) and a ``VectorIndex`` (core/stage1.py) filled with ``add``
and saved the way the indexer saves it. A child process then opens them exactly as the app
does (``Library`` -> ``vector_index()`` -> ``searcher()``), times ``search_vector`` (query
embedding excluded; it is timed on its own with the default text tower), compares with exact
brute-force search over the same float32 vectors (numpy matmul + partial sort), and reads RSS.

The vectors are synthetic but shaped like CLIP's (see ``SynthSpace``): hierarchical clusters
(topic > file > segment > frame) around a shared image direction, and text-like queries that
sit apart from the images (the modality gap), which is the hard case for graph ANN search.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import latency_stats, log, peak_rss_bytes, rss_bytes, run_child

SEGMENTS_PER_FILE = (10, 40)  # uniform range: a file of 2-10 minutes at 8-16 s per segment
FRAMES_PER_SEGMENT = (8, 16)  # 1 fps sampling, segments of 8-16 s (SegmentConfig: 8-24 s)
THUMB_BYTES = 6000  # a 192 px JPEG thumbnail, as the indexer stores one per segment
CHUNK = 10000  # segments per generated chunk / transaction


def bench_file_row(fid: int, duration: float, model_id: str) -> tuple[Any, ...]:
    """A `files` row for a generated 1080p H.264 file, as the indexer would have written it."""
    path = f"/bench/library/file_{fid:07d}.mp4".encode()
    media = (1920, 1080, 30.0, "h264", "mp4", 0)  # width, height, fps, codec, container, rotation
    return (fid, path, 1, 10_000_000, 0, f"fp{fid}", "done", duration, *media, model_id, time.time())


def write_rows(conn: sqlite3.Connection, file_rows: list[Any], seg_rows: list[Any]) -> None:
    """One transaction of generated files and their segments, in the store's own tables."""
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO files(id, path, folder_id, size, mtime_ns, fingerprint, status, duration, width, height, "
        "fps, codec, container, rotation, model_id, indexed_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        file_rows,
    )
    conn.executemany(
        "INSERT INTO segments(id, file_id, model_id, start_s, end_s, best_s, vector, times, frames, thumb) "
        "VALUES(?,?,?,?,?,?,?,?,?,?)",
        seg_rows,
    )
    conn.execute("COMMIT")


@dataclass(frozen=True)
class SynthSpace:
    """Cosine statistics of the synthetic space (chosen to resemble CLIP ViT-B-32 image/text embeddings).

    Image vectors: ``a*shared + b*topic + s*file + e*segment_noise`` (unit norm, components
    orthogonal in expectation), giving cosine ~0.45 between unrelated segments, ~0.70 within
    a topic and ~0.85 within a file. Frames add ``frame_noise`` around their segment. Queries:
    ``m*shared + h*topic + g*text_dir + r*noise``: ~0.18 against unrelated segments and ~0.30
    against the right topic, like a text query against images.
    """

    dim: int
    topics: int = 4096
    a: float = 0.67
    b: float = 0.50
    s: float = 0.39
    e: float = 0.39
    frame_noise: float = 0.35
    m: float = 0.27
    h: float = 0.24
    g: float = 0.80
    r: float = 0.48


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Generator:
    """Deterministic synthetic vectors for one library size."""

    def __init__(self, space: SynthSpace, seed: int) -> None:
        self.space = space
        self.rng = np.random.default_rng(seed)
        d = space.dim
        self.shared = _unit(self.rng.standard_normal(d))
        self.text_dir = _unit(self.rng.standard_normal(d))
        self.topic = _unit(self.rng.standard_normal((space.topics, d)))
        # Frame noise comes from a fixed pool: frames only need to differ, not to be independent.
        self.pool = _unit(self.rng.standard_normal((8192, d)))

    def queries(self, n: int) -> np.ndarray:
        sp = self.space
        t = self.rng.integers(0, sp.topics, n)
        noise = _unit(self.rng.standard_normal((n, sp.dim)))
        return _unit(sp.m * self.shared + sp.h * self.topic[t] + sp.g * self.text_dir + sp.r * noise)

    def files(self, n_files: int) -> tuple[np.ndarray, np.ndarray]:
        """(topic per file, file direction per file)."""
        topics = self.rng.integers(0, self.space.topics, n_files)
        return topics, _unit(self.rng.standard_normal((n_files, self.space.dim)))

    def segments(self, topics: np.ndarray, file_dirs: np.ndarray, seg_file: np.ndarray, n_frames: np.ndarray):
        """Frame vectors (float16, concatenated) and segment vectors (float32 normalised means)."""
        sp = self.space
        n = len(seg_file)
        noise = _unit(self.rng.standard_normal((n, sp.dim)))
        centre = _unit(
            sp.a * self.shared + sp.b * self.topic[topics[seg_file]] + sp.s * file_dirs[seg_file] + sp.e * noise
        )
        owner = np.repeat(np.arange(n), n_frames)
        picks = self.rng.integers(0, len(self.pool), len(owner))
        frames = _unit(centre[owner] + sp.frame_noise * self.pool[picks])
        starts = np.concatenate([[0], np.cumsum(n_frames)[:-1]])
        # The segment vector is the normalised mean of its frames, as segment.py computes it.
        return frames.astype(np.float16), _unit(np.add.reduceat(frames, starts, axis=0))


def _safe(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)


def generate_library(
    home: Path, n_segments: int, *, dim: int, model_id: str, n_queries: int, seed: int
) -> dict[str, Any]:
    """Write a library of ``n_segments`` synthetic segments into ``home`` (product files) plus queries.

    Also writes ``vectors.npy`` (float32 segment vectors in id order, for brute force) and
    ``queries.npy``. Returns generation statistics (seconds, bytes).
    """
    from reelseek.core.index import VectorIndex
    from reelseek.core.paths import data_paths
    from reelseek.core.store import Store

    paths = data_paths(home).ensure()
    Store(paths.database).close()  # the product's schema and migrations
    gen = Generator(SynthSpace(dim=dim), seed)
    t0 = time.perf_counter()
    conn = sqlite3.connect(paths.database, isolation_level=None)
    # Bulk load without a journal; the file format is the same, and WAL is restored at the end.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES(1, ?, ?)", (b"/bench/library", time.time()))
    thumb = bytes(np.random.default_rng(seed).integers(0, 256, THUMB_BYTES, dtype=np.uint8))
    vec_path = Path(home) / "vectors.npy"
    vectors = np.lib.format.open_memmap(vec_path, mode="w+", dtype=np.float32, shape=(n_segments, dim))
    vindex = VectorIndex(paths.data / f"segments-{_safe(model_id)}.stage1", model_id, dim)
    index_s = 0.0
    done = 0
    file_id = 0
    while done < n_segments:
        # Whole files per chunk, so a file's segments are contiguous in time and id.
        counts: list[int] = []
        while sum(counts) < CHUNK and done + sum(counts) < n_segments:
            counts.append(
                int(min(gen.rng.integers(*SEGMENTS_PER_FILE, endpoint=True), n_segments - done - sum(counts)))
            )
        topics, dirs = gen.files(len(counts))
        seg_file = np.repeat(np.arange(len(counts)), counts)
        n_frames = gen.rng.integers(*FRAMES_PER_SEGMENT, endpoint=True, size=len(seg_file))
        frames, segvecs = gen.segments(topics, dirs, seg_file, n_frames)
        file_rows, seg_rows = [], []
        pos = 0
        frame_off = np.concatenate([[0], np.cumsum(n_frames)])
        for f, count in enumerate(counts):
            fid = file_id + f + 1
            t = 0.0
            for _ in range(count):
                k = pos
                n = int(n_frames[k])
                times = (t + np.arange(n, dtype=np.float32)).tobytes()
                seg_rows.append(
                    (
                        done + k + 1,
                        fid,
                        model_id,
                        t,
                        t + n,
                        t + n / 2,
                        segvecs[k].tobytes(),
                        times,
                        frames[frame_off[k] : frame_off[k + 1]].tobytes(),
                        thumb,
                    )
                )
                t += n
                pos += 1
            file_rows.append(bench_file_row(fid, t, model_id))
        write_rows(conn, file_rows, seg_rows)
        ids = np.arange(done + 1, done + len(seg_file) + 1)
        vectors[done : done + len(seg_file)] = segvecs
        t1 = time.perf_counter()
        vindex.add(ids.tolist(), segvecs)  # appended to the in-memory tail; save writes the file
        index_s += time.perf_counter() - t1
        done += len(seg_file)
        file_id += len(counts)
    for key, value in ((f"generation:{model_id}", "1"), ("complete_model", model_id)):
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    t1 = time.perf_counter()
    vindex.save(1)
    save_s = time.perf_counter() - t1
    vectors.flush()
    del vectors
    np.save(Path(home) / "queries.npy", gen.queries(n_queries))
    total_s = time.perf_counter() - t0
    return {
        "segments": n_segments,
        "files": file_id,
        "generate_s": total_s,
        "index_add_s": index_s,
        "index_save_s": save_s,
        "db_bytes": paths.database.stat().st_size,
        "index_bytes": sum(p.stat().st_size for p in vindex.path.iterdir()),
    }


def _exact_topk(matrix: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    scores = matrix @ q
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def search_child(args: dict[str, Any]) -> dict[str, Any]:
    """Runs in a child process: open the library as the app does, time searches, read memory."""
    from reelseek.core.library import Library

    home = Path(args["home"])
    model_id = args["model_id"]
    limit = int(args.get("limit", 20))
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    lib = Library(home, model_id=model_id)
    vi = lib.vector_index()  # maps the saved stage-1 file (generation matches)
    open_s = time.perf_counter() - t0
    searcher = lib.searcher(model_id)
    queries = np.load(home / "queries.npy")
    # First query after opening: pays for the calibration sample (a scan of the segments table).
    t0 = time.perf_counter()
    first = searcher.search_vector(queries[0], limit=limit)
    first_s = time.perf_counter() - t0
    stage1, stage2, total, single = [], [], [], []
    for q in queries:
        r = searcher.search_vector(q, limit=limit, two_stage=True)
        stage1.append(r.timings["stage1"])
        stage2.append(r.timings["stage2"])
        total.append(r.timings["stage1"] + r.timings["stage2"])
    for q in queries[: min(len(queries), 100)]:
        r = searcher.search_vector(q, limit=limit, two_stage=False)
        single.append(r.timings["stage1"] + r.timings["stage2"])
    rss_search = rss_bytes()
    peak_search = peak_rss_bytes()
    # Stage-1 recall against exact search, at the product's re-score length and a few others
    # (above EXACT_MAX the int8 codes choose that many rows for the float16 re-score).
    ann: dict[int, list[np.ndarray]] = {}
    flat = vi._index
    default_rs = flat.rescore
    rescores = sorted({default_rs, *args.get("expansions", [])})
    ann_lat: dict[int, list[float]] = {}
    for rs in rescores:
        flat.rescore = rs
        ann[rs], ann_lat[rs] = [], []
        for q in queries:
            t1 = time.perf_counter()
            keys, _ = vi.search(q, 100)
            ann_lat[rs].append(time.perf_counter() - t1)
            ann[rs].append(keys)
    flat.rescore = default_rs
    # The float16 scan (the product's path up to EXACT_MAX) at this size: exact up to float16.
    f16_exact, f16_exact_lat = [], []
    exact_max, flat.exact_max = flat.exact_max, len(vi) + 1
    for q in queries[: int(args.get("exact_queries", 50))]:
        t1 = time.perf_counter()
        keys, _ = vi.search(q, 100)
        f16_exact_lat.append(time.perf_counter() - t1)
        f16_exact.append(keys)
    flat.exact_max = exact_max
    # Image-like queries (a still or clip from the library: near existing vectors), at the default beam.
    rng = np.random.default_rng(7)
    picks = rng.integers(1, len(vi) + 1, 100)
    image_like = []
    for sid in picks:
        v = np.frombuffer(
            lib.store.conn.execute("SELECT vector FROM segments WHERE id=?", (int(sid),)).fetchone()[0],
            dtype=np.float32,
        )
        q = v + 0.3 * rng.standard_normal(v.shape).astype(np.float32) / np.sqrt(len(v))
        image_like.append((q / np.linalg.norm(q)).astype(np.float32))
    image_like_ann = [vi.search(q, 100)[0] for q in image_like]
    embed = _embed_timings(lib, model_id, int(args.get("embed_queries", 0)))
    rss_model = embed.get("rss_with_model_bytes", rss_bytes()) if embed else rss_bytes()
    lib.close()
    # Exact brute force over the same float32 vectors (loaded last: it must not count above).
    matrix = np.load(home / "vectors.npy")
    exact_lat, exact = [], []
    for q in queries:
        t1 = time.perf_counter()
        top = _exact_topk(matrix, q, max(100, limit))
        exact_lat.append(time.perf_counter() - t1)
        exact.append(top[:100] + 1)  # segment ids are row + 1

    def rec(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
        return float(np.mean([len(np.intersect1d(a, e)) / 100.0 for a, e in zip(found, truth, strict=False)]))

    recall = {rs: rec(ann[rs], exact) for rs in rescores}
    image_exact = [_exact_topk(matrix, q, 100) + 1 for q in image_like]
    return {
        "segments": len(vi),
        "queries": len(queries),
        "open_s": open_s,
        "first_query_ms": first_s * 1000.0,
        "first_query_moments": len(first.moments),
        "stage1": latency_stats(stage1),
        "stage2": latency_stats(stage2),
        "total": latency_stats(total),
        "single_stage_total": latency_stats(single),
        "exact": latency_stats(exact_lat),
        "rescore_default": default_rs,
        "recall_at_100": recall[default_rs],
        "recall_by_rescore": {str(k): v for k, v in recall.items()},
        "stage1_by_rescore": {str(k): latency_stats(v) for k, v in ann_lat.items()},
        "f16_scan": {**latency_stats(f16_exact_lat), "recall_at_100": rec(f16_exact, exact)},
        "image_like_recall_at_100": rec(image_like_ann, image_exact),
        "embed": embed,
        "rss": {
            "python_baseline_bytes": rss0,
            "search_bytes": rss_search,
            "search_peak_bytes": peak_search,
            "with_text_model_bytes": rss_model if embed else None,
        },
    }


def _embed_timings(lib: Any, model_id: str, n: int) -> dict[str, Any] | None:
    """Query embedding through the searcher (uncached texts), product precision, and fp32 for comparison."""
    if n <= 0:
        return None
    from reelseek.core.search import Searcher
    from tests.bench.embedders import default_embedder

    emb = default_embedder()
    lib._embedders[model_id] = emb  # the searcher asks the library for its model
    out: dict[str, Any] = {"templates": 4, "dtype": emb.dtype}
    out.update(_time_texts(lib.searcher(model_id), n, "product"))
    if emb.dtype != "float32":
        out["rss_with_model_bytes"] = rss_bytes()
        # torch runs F.linear on the non-contiguous (seq, batch, dim) view that batch-first
        # MultiheadAttention makes as a batched matmul with a copied weight, ~30x slower in bf16.
        # Running the text blocks sequence-first (contiguous) is the proposed engine fix.
        seq_first = default_embedder()
        text = seq_first._model.transformer
        for block in text.resblocks:
            block.attn.batch_first = False
        text.batch_first = False
        fixed = Searcher(lib.store, lib.vector_index(model_id), lambda: seq_first, model_id)
        out["bf16_seq_first"] = _time_texts(fixed, max(3, n // 3), "seqfirst")
        del seq_first, fixed
        ref = default_embedder("fp32")
        fp32 = Searcher(lib.store, lib.vector_index(model_id), lambda: ref, model_id)
        out["fp32"] = _time_texts(fp32, max(3, n // 3), "fp32")
    return out


def _time_texts(searcher: Any, n: int, tag: str) -> dict[str, Any]:
    searcher.embed_text(f"warm up {tag}")
    walls = []
    for i in range(n):
        t0 = time.perf_counter()
        searcher.embed_text(f"a person walking a dog on a beach at sunset, {tag} take {i}")
        walls.append(time.perf_counter() - t0)
    return latency_stats(walls)


def run_search(
    sizes: list[int], *, workdir: Path, n_queries: int, embed_queries: int, expansions: list[int], keep: bool
) -> dict[str, Any]:
    """Generate each size (cached between runs in workdir), then measure it in a child process."""
    from tests.bench.embedders import default_spec

    spec = default_spec()
    model_id, dim = spec.id, spec.dim
    out: dict[str, Any] = {"dim": dim, "model_id": model_id, "sizes": []}
    for i, n in enumerate(sizes):
        home = workdir / f"lib-{n}"
        stamp = home / "generated.json"
        if stamp.exists() and json.loads(stamp.read_text()).get("queries") == n_queries:
            gen = json.loads(stamp.read_text())
            log(f"search: reusing the generated {n:,}-segment library")
        else:
            import shutil

            shutil.rmtree(home, ignore_errors=True)
            log(f"search: generating {n:,} segments")
            gen = generate_library(home, n, dim=dim, model_id=model_id, n_queries=n_queries, seed=1000 + n)
            gen["queries"] = n_queries
            stamp.write_text(json.dumps(gen))
        log(f"search: measuring {n:,} segments in a child process")
        res = run_child(
            "search",
            {
                "home": str(home),
                "model_id": model_id,
                "embed_queries": embed_queries if i == len(sizes) - 1 else 0,
                "expansions": expansions,
            },
            workdir,
        )
        out["sizes"].append({"generation": gen, **res})
        if not keep and n >= 1_000_000:
            import shutil

            shutil.rmtree(home, ignore_errors=True)
    return out
