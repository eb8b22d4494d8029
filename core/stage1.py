"""Stage-1 vector scan: exact int8 scan of every segment, short list re-scored on float16 vectors."""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import stage1_file
from .stage1_file import Stage1Error

__all__ = ["EXACT_MAX", "FlatIndex", "Quantizer", "Stage1Error", "scan_threads"]

# Up to this many rows the float16 vectors are scanned directly (exact; ~22 ms at 250 k on 2
# cores). Beyond it the int8 codes are scanned (half the bytes) and the best RESCORE rows are
# re-scored on float16: at 1 M segments 48 ms p50 on 2 cores, recall@100 0.9996 for text-like
# and image-like queries (docs/benchmarks.md, "1 M segments").
EXACT_MAX = 250_000
RESCORE = 1024
CHUNK = 16384  # rows per streamed block when writing: its float32 temporaries stay ~100 MB


@dataclass(frozen=True)
class Quantizer:
    """int8 codes of ``(x - mean) * scale``. The mean (the image cone's centre) is removed so the
    codes spend their 8 bits on what tells segments apart; ranking by ``q . (x - mean)`` is the
    same as ranking by ``q . x`` for one query, so inner product on the codes ranks correctly."""

    mean: np.ndarray
    scale: float

    @classmethod
    def fit(cls, sample: np.ndarray) -> Quantizer:
        x = np.asarray(sample, dtype=np.float32)
        mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1], np.float32)
        peak = float(np.abs(x - mean).max()) if len(x) else 1.0
        return cls(mean.astype(np.float32), 127.0 / max(peak, 1e-6))

    def encode(self, x: np.ndarray) -> np.ndarray:
        y = (np.asarray(x, dtype=np.float32) - self.mean) * self.scale
        codes: np.ndarray = np.clip(np.rint(y), -127, 127).astype(np.int8)
        return codes

    @staticmethod
    def encode_query(q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.float32)
        return np.clip(np.rint(q * (127.0 / max(float(np.abs(q).max()), 1e-12))), -127, 127).astype(np.int8)


def scan_threads() -> int:
    """Cores this process may run on (honours taskset/cgroup pinning, unlike os.cpu_count)."""
    with contextlib.suppress(AttributeError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()
SHARD_MIN = 65536  # rows below which one thread scans everything (thread hand-off costs more)


def _pool(threads: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or threads > _POOL_SIZE:
            _POOL, _POOL_SIZE = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stage1"), threads
        return _POOL


def _top(dataset: np.ndarray, query: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and inner products of the k best rows, best first: an exact scan.

    numkong's dot kernels (the SIMD library under usearch) score a shard of rows per call and
    release the GIL, so shards run on every core; each shard keeps its own top k. usearch's
    own exact search was 10-20x slower per row here (one call per row through its heap).
    """
    import numkong as nk

    n = len(dataset)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    q = np.ascontiguousarray(query, dtype=dataset.dtype)

    def shard(bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        start, stop = bounds
        scores = np.asarray(nk.dot(dataset[start:stop], q), dtype=np.float32)
        if k < len(scores):
            best = np.argpartition(-scores, k - 1)[:k]
            return best + start, scores[best]
        return np.arange(start, stop), scores

    parts = max(1, min(threads, n // SHARD_MIN))
    bounds = [(i * n // parts, (i + 1) * n // parts) for i in range(parts)]
    found = [shard(bounds[0])] if parts == 1 else list(_pool(parts).map(shard, bounds))
    rows = np.concatenate([r for r, _ in found])
    scores = np.concatenate([s for _, s in found])
    if k < len(scores):
        best = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[best], scores[best]
    order = np.argsort(-scores, kind="stable")
    return rows[order].astype(np.int64), scores[order]


def _drop_pages(*arrays: np.ndarray | None) -> None:
    """Unmap the resident pages of memory-mapped arrays (they stay in the page cache)."""
    for a in arrays:
        mm = getattr(a, "_mmap", None)
        if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            mm.madvise(mmap.MADV_DONTNEED)


def _without_codes(blocks: stage1_file.Blocks) -> stage1_file.Blocks:
    """The same blocks with their codes dropped, so the writer makes them with the new quantizer."""
    return lambda: ((ids, None, vecs) for ids, _codes, vecs in blocks())


class FlatIndex:
    """Segment vectors as one file of int8 codes and float16 vectors, memory-mapped read-only.

    Additions live in a small in-memory tail and removals in a mask until the next ``save``,
    which writes a compacted file and maps it. Results are exact cosine similarities (the
    vectors are stored normalised), so nothing downstream sees the quantisation.
    """

    def __init__(self, dim: int, *, exact_max: int = EXACT_MAX, rescore: int = RESCORE) -> None:
        self.dim = int(dim)
        self.exact_max = exact_max
        self.rescore = rescore
        self.threads = scan_threads()
        self.drop_pages = True  # madvise the re-scored pages away (see _gather)
        self.quantizer: Quantizer | None = None
        self._fitted_on = 0
        self._ids = np.zeros(0, np.int64)  # base rows (memory-mapped after load/save)
        self._codes: np.ndarray | None = np.zeros((0, self.dim), np.int8)
        self._vecs = np.zeros((0, self.dim), np.float16)
        self._dead: np.ndarray | None = None  # base rows removed since the last save
        self._order: np.ndarray | None = None  # argsort of base ids, built on first lookup
        self._sorted = np.zeros(0, np.int64)
        self._scratch: Path | None = None  # build's float16 spill file, removed by the next save
        self._tail_ids = np.zeros(0, np.int64)
        self._tail_vecs = np.zeros((0, self.dim), np.float16)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._max_key = -1  # keys above it cannot be present: adding them needs no removal

    # -- size and membership ------------------------------------------------------------------
    def __len__(self) -> int:
        self._join_tail()
        dead = int(self._dead.sum()) if self._dead is not None else 0
        return len(self._ids) - dead + len(self._tail_ids)

    @property
    def keys(self) -> np.ndarray:
        """Every live key: base rows not removed, then the tail (usearch's ``Index.keys``)."""
        self._join_tail()
        base = np.asarray(self._ids) if self._dead is None else np.asarray(self._ids)[~self._dead]
        return np.concatenate([base.astype(np.int64), self._tail_ids])

    def _base_rows(self, keys: np.ndarray) -> np.ndarray:
        """Base row of each key, -1 where absent or removed."""
        out = np.full(len(keys), -1, np.int64)
        if not len(self._ids):
            return out
        if self._order is None:
            self._order = np.argsort(self._ids, kind="stable")
            self._sorted = np.asarray(self._ids)[self._order]
        pos = np.minimum(np.searchsorted(self._sorted, keys), len(self._sorted) - 1)
        hit = self._sorted[pos] == keys
        rows = self._order[pos]
        if self._dead is not None:
            hit &= ~self._dead[rows]
        out[hit] = rows[hit]
        return out

    def __contains__(self, key: object) -> bool:
        self._join_tail()
        k = np.asarray([int(key)], np.int64)  # type: ignore[call-overload]
        return bool(self._base_rows(k)[0] >= 0 or np.isin(k, self._tail_ids)[0])

    # -- updates ------------------------------------------------------------------------------
    def add(self, keys: np.ndarray, vectors: np.ndarray, **_: object) -> None:
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        v = np.asarray(vectors, dtype=np.float32).reshape(len(keys), self.dim)
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)  # cosine = inner product
        if len(keys) and int(keys.min()) <= self._max_key:
            self.remove(keys)  # a key added again replaces its vector, as in usearch
        if len(keys):
            self._max_key = max(self._max_key, int(keys.max()))
        # Appended as blocks and joined on the next search: joining on every add would copy the
        # whole tail each time (quadratic when a million rows are added before one save).
        self._pending.append((keys, v.astype(np.float16)))

    def _join_tail(self) -> None:
        if self._pending:
            self._tail_ids = np.concatenate([self._tail_ids, *(k for k, _ in self._pending)])
            self._tail_vecs = np.concatenate([self._tail_vecs, *(v for _, v in self._pending)])
            self._pending = []

    def remove(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        if not len(keys):
            return
        self._join_tail()
        rows = self._base_rows(keys)
        rows = rows[rows >= 0]
        if len(rows):
            if self._dead is None:
                self._dead = np.zeros(len(self._ids), bool)
            self._dead[rows] = True
        if len(self._tail_ids):
            keep = ~np.isin(self._tail_ids, keys)
            self._tail_ids, self._tail_vecs = self._tail_ids[keep], self._tail_vecs[keep]

    def build(self, batches: Iterable[tuple[np.ndarray, np.ndarray]], scratch: Path) -> None:
        """Replace the contents with ``batches`` of (ids, vectors), spilled to ``scratch`` as float16
        so a million rows never sit in memory; the codes are made by the ``save`` that follows."""
        ids: list[np.ndarray] = []
        with open(scratch, "wb") as f:
            for keys, vecs in batches:
                v = np.asarray(vecs, dtype=np.float32)
                v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
                f.write(np.ascontiguousarray(v, dtype=np.float16).tobytes())
                ids.append(np.asarray(keys, dtype=np.int64))
        self.close()
        self.quantizer, self._fitted_on, self._scratch = None, 0, Path(scratch)
        self._ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        self._max_key = int(self._ids.max()) if len(self._ids) else -1
        self._codes = None
        if len(self._ids):
            self._vecs = np.memmap(scratch, dtype=np.float16, mode="r", shape=(len(self._ids), self.dim))
        if os.name == "posix":
            # The mapping keeps the data; unlinked now, the spill file cannot outlive this process
            # (a reader that rebuilt for one search never saves, so nothing else would remove it).
            with contextlib.suppress(OSError):
                os.remove(scratch)

    # -- search -------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k keys and cosine similarities, best first."""
        self._join_tail()
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        dead = int(self._dead.sum()) if self._dead is not None else 0
        want = k + dead  # removed rows still sit in the base until the next save
        if len(self._ids) == 0:
            rows, sims = np.zeros(0, np.int64), np.zeros(0, np.float32)
        elif len(self._ids) <= self.exact_max or self._codes is None:
            rows, sims = _top(self._vecs, q, want, self.threads)
        else:
            rows, _ = _top(self._codes, Quantizer.encode_query(q), max(want, self.rescore + dead), self.threads)
            sims = self.rescore_rows(rows, q)
        if self._dead is not None:
            live = ~self._dead[rows]
            rows, sims = rows[live], sims[live]
        keys = self._ids[rows]
        if len(self._tail_ids):
            t_rows, t_sims = _top(self._tail_vecs, q.astype(np.float16), k, 1)
            keys, sims = np.concatenate([keys, self._tail_ids[t_rows]]), np.concatenate([sims, t_sims])
        best = np.argsort(-sims, kind="stable")[:k]
        return keys[best].astype(np.int64), sims[best].astype(np.float32)

    def rescore_rows(self, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Exact similarities of base rows. numkong, not numpy: a 1024x512 product through BLAS
        woke its thread pool and took 35-100 ms on loaded or many-core machines (measured)."""
        import numkong as nk

        if not len(rows):
            return np.zeros(0, np.float32)
        q16 = np.ascontiguousarray(q, dtype=np.float16)
        return np.asarray(nk.dot(np.ascontiguousarray(self._gather(rows)), q16), dtype=np.float32)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """float16 rows of the short list. Read through the map, then the map's pages are dropped
        (MADV_DONTNEED): they stay in the page cache, but a process that kept every page it ever
        re-scored would grow towards the whole float16 file (1 GB at 1 M segments)."""
        out = np.asarray(self._vecs[np.sort(rows)])[np.argsort(np.argsort(rows))]
        if self.drop_pages:
            _drop_pages(self._vecs)
        return out

    # -- persistence --------------------------------------------------------------------------
    def _live_blocks(self) -> Callable[[], Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray]]]:
        """(ids, codes or None, float16 vectors) blocks of every live row, base first, then the tail."""

        def blocks() -> Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
            for start in range(0, len(self._ids), CHUNK):
                stop = min(start + CHUNK, len(self._ids))
                keep = slice(None) if self._dead is None else ~self._dead[start:stop]
                codes = None if self._codes is None else np.asarray(self._codes[start:stop])[keep]
                yield self._ids[start:stop][keep], codes, np.asarray(self._vecs[start:stop])[keep]
                # Each save reads the whole mapped file: without this, all of it (1.5 GB at 1 M)
                # would stay resident until the old file is unmapped.
                _drop_pages(self._codes, self._vecs)
            if len(self._tail_ids):
                yield self._tail_ids, None, self._tail_vecs

        return blocks

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write every live row, compacted, to ``path``, then map that file in place of the old one."""
        path = Path(path)
        self._join_tail()
        tmp = path.with_name(path.name + ".part")  # never truncate a file that may be mapped
        blocks = self._live_blocks()
        rows = len(self)
        quant, fitted_on = self.quantizer, self._fitted_on
        # Refit when the library has doubled since the last fit (or was never fitted): the centre
        # and range of a young library drift as footage is added. A refit re-encodes every row.
        refit = quant is None or rows >= 2 * max(fitted_on, 1)
        if refit:
            step = max(1, rows // 32768)
            # Copies, not views: the pages of each block are dropped once it is read.
            sample = [np.array(v[::step]) for _i, _c, v in blocks()]
            quant = Quantizer.fit(np.concatenate(sample) if sample else np.zeros((0, self.dim), np.float16))
            fitted_on = rows
            blocks = _without_codes(blocks)
        assert quant is not None
        stage1_file.write(
            tmp,
            dim=self.dim,
            rows=rows,
            blocks=blocks,
            mean=quant.mean,
            scale=quant.scale,
            fitted_on=fitted_on,
            encode=quant.encode,
        )
        os.replace(tmp, path)
        scratch = self._scratch
        self.load(path)
        if scratch is not None:
            with contextlib.suppress(OSError):
                os.remove(scratch)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Map ``path`` read-only (no copy); raises Stage1Error if it is not a whole stage-1 file."""
        f = stage1_file.read(Path(path), self.dim)
        self.close()
        self.quantizer, self._fitted_on = Quantizer(f.mean, f.scale), f.fitted_on
        self._ids, self._codes, self._vecs = f.ids, f.codes, f.vecs
        self._max_key = int(np.max(self._ids)) if len(self._ids) else -1

    def close(self) -> None:
        self._ids = np.zeros(0, np.int64)
        self._codes = np.zeros((0, self.dim), np.int8)
        self._vecs = np.zeros((0, self.dim), np.float16)
        self._dead = self._order = None
        self._scratch = None
        self._tail_ids = np.zeros(0, np.int64)
        self._tail_vecs = np.zeros((0, self.dim), np.float16)
        self._pending = []
        self._max_key = -1

    def mapped_bytes(self) -> int:
        """Bytes of the base held as file mappings (not copied into process memory)."""
        return sum(a.nbytes for a in (self._ids, self._codes, self._vecs) if isinstance(a, np.memmap))
