"""Stage-1 scan kernels: exact top-k over blocks of one or more shards, in parallel on every core."""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np


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


@dataclass(frozen=True)
class _Part:
    """Rows ``start:stop`` of one shard's array; ``base`` is the shard's first global row.
    Scores are mapped to cosine estimates by ``a * dot + b`` (per shard: its own quantizer).
    ``q`` and ``kind`` override the query and numkong's element type for this array (int4
    codes: packed bytes scored with ``kind="int4"`` against a packed query)."""

    data: np.ndarray
    start: int
    stop: int
    base: int
    a: float = 1.0
    b: float = 0.0
    q: np.ndarray | None = None
    kind: str | None = None


# One array to scan: (data, first global row, a, b), optionally followed by its own query and
# numkong element type.
ScanArray = tuple[np.ndarray, int, float, float] | tuple[np.ndarray, int, float, float, np.ndarray, str]


def _top_parts(
    arrays: Sequence[ScanArray], query: np.ndarray | None, k: int, threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Global rows and scores of the k best rows over several arrays (shards), best first: an
    exact scan. ``arrays`` holds (data, first global row, a, b[, query, kind]) with
    score = a * (data . query) + b.

    numkong's dot kernels (the SIMD library under usearch) score a block of rows per call and
    release the GIL, so blocks of every shard run on every core; each block keeps its own top k
    and the blocks' lists are merged. usearch's own exact search was 10-20x slower per row here.
    """
    import numkong as nk

    n = sum(len(d) for d, *_ in arrays)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    parts: list[_Part] = []
    per = max(SHARD_MIN, -(-n // threads))  # rows per block: about one block per core in all
    for data, base, a, b, *own in arrays:
        m = len(data)
        pieces = max(1, -(-m // per)) if m else 0
        q_own: np.ndarray | None = np.asarray(own[0]) if own else None
        kind = str(own[1]) if own else None
        parts += [_Part(data, i * m // pieces, (i + 1) * m // pieces, base, a, b, q_own, kind) for i in range(pieces)]

    def scan(p: _Part) -> tuple[np.ndarray, np.ndarray]:
        # Raw dot products straight into a float32 buffer (numkong's default is a float64 array
        # plus a conversion pass), the top k picked on them, and only those k mapped to cosine
        # estimates: a > 0, so the affine map keeps the order. int8 sums stay below 2**24, so
        # float32 holds them exactly. Each full-array pass cost ~1 ms per 262,144 rows.
        q = p.q if p.q is not None else np.ascontiguousarray(query, dtype=p.data.dtype)
        raw = np.empty(p.stop - p.start, np.float32)
        if p.kind is not None:
            # numkong's stubs list only float element types; its kernels take "int4" too.
            nk.dot(p.data[p.start : p.stop], q, dtype=p.kind, out=raw, out_dtype="f32")  # type: ignore[arg-type]
        else:
            nk.dot(p.data[p.start : p.stop], q, out=raw, out_dtype="f32")
        if k < len(raw):
            best = _best(raw, k)
            return best + (p.start + p.base), raw[best] * np.float32(p.a) + np.float32(p.b)
        return np.arange(p.start, p.stop) + p.base, raw * np.float32(p.a) + np.float32(p.b)

    found = [scan(parts[0])] if len(parts) == 1 else list(_pool(threads).map(scan, parts))
    rows = np.concatenate([r for r, _ in found])
    scores = np.concatenate([s for _, s in found])
    if k < len(scores):
        best = np.argpartition(scores, len(scores) - k)[len(scores) - k :]
        rows, scores = rows[best], scores[best]
    order = np.argsort(-scores, kind="stable")
    return rows[order].astype(np.int64), scores[order]


def pack4(y: np.ndarray) -> np.ndarray:
    """Round to int4 (clipped to +-7) and pack two a byte along the last axis, the even index in
    the low nibble (numkong's ``int4`` layout; any layout shared by both sides gives the same dot)."""
    c = np.clip(np.rint(y), -7, 7).astype(np.int8).view(np.uint8) & np.uint8(0x0F)
    packed: np.ndarray = np.ascontiguousarray(c[..., 0::2] | (c[..., 1::2] << np.uint8(4)))
    return packed


_INT4_OK: bool | None = None


def int4_kernel() -> bool:
    """Whether numkong scores packed int4 codes here, checked once against numpy on a known case
    (a numkong without the kernel, or with another packing, leaves stage 1 on the int8 codes)."""
    global _INT4_OK
    if _INT4_OK is None:
        import numkong as nk

        rng = np.random.default_rng(0)
        a = rng.integers(-7, 8, size=(3, 64)).astype(np.int8)
        b = rng.integers(-7, 8, size=64).astype(np.int8)
        try:
            got = np.asarray(nk.dot(pack4(a), pack4(b), dtype="int4"), dtype=np.float64)  # type: ignore[arg-type]
            _INT4_OK = bool(np.array_equal(got, a.astype(np.int64) @ b.astype(np.int64)))
        except (LookupError, TypeError, ValueError):
            _INT4_OK = False
    return _INT4_OK


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores (any order), 0 < k < len(scores). Exact: a threshold
    from every 16th score keeps about 2k candidates, and only they are partitioned; if fewer
    than k pass, the whole array is. A quarter of argpartition's time over 262,144 scores."""
    n = len(scores)
    if n > 32 * k:
        sample = np.partition(scores[::16], len(scores[::16]) - 1 - (2 * k) // 16)
        t = sample[len(sample) - 1 - (2 * k) // 16]
        # Every one of the top k is >= t when at least k are: they are all among ``idx``.
        idx = np.flatnonzero(scores >= t)
        if len(idx) >= k:
            sub = scores[idx]
            picked: np.ndarray = idx[np.argpartition(sub, len(sub) - k)[len(sub) - k :]]
            return picked
    return np.argpartition(scores, n - k)[n - k :]


def _top(dataset: np.ndarray, query: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and inner products of the k best rows of one array, best first."""
    return _top_parts([(dataset, 0, 1.0, 0.0)], query, k, threads)


def _drop_pages(*arrays: np.ndarray | None) -> None:
    """Unmap the resident pages of memory-mapped arrays (they stay in the page cache)."""
    for a in arrays:
        mm = getattr(a, "_mmap", None)
        if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            mm.madvise(mmap.MADV_DONTNEED)


class RowReader:
    """Reads float16 rows of one shard file with pread: the re-score's 1,024 rows cost 2.6 ms of
    CPU against 9.2 ms as page faults through the map plus the madvise that drops them (which
    keeps the process from growing towards the whole 1 GB of float16 at 1 M). The descriptor is
    opened with the map, so a save that deletes the file later does not pull it from under us;
    it closes when the shard is dropped."""

    def __init__(self, vecs: np.memmap) -> None:
        self.fd = os.open(str(vecs.filename), os.O_RDONLY)
        self.offset = int(vecs.offset)
        self.row_bytes = int(vecs.shape[1]) * vecs.dtype.itemsize

    def read_into(self, out: np.ndarray, where: np.ndarray, rows: np.ndarray) -> None:
        """``out[where[i]] = row rows[i]`` of the shard."""
        buf = out.data.cast("B")
        n = self.row_bytes
        for j, r in zip(where.tolist(), rows.tolist(), strict=True):
            if os.preadv(self.fd, [buf[j * n : (j + 1) * n]], self.offset + r * n) != n:
                raise OSError(f"short read from the stage-1 shard at row {r}")

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.close(self.fd)


def row_reader(vecs: np.ndarray) -> RowReader | None:
    """A pread reader for a shard's float16 rows, or None where only the map can serve them
    (no preadv on this platform, or rows that live in memory or in an unlinked spill file)."""
    if sys.byteorder != "little" or not hasattr(os, "preadv"):  # rows are stored little-endian
        return None
    if not isinstance(vecs, np.memmap) or vecs.filename is None:
        return None
    try:
        return RowReader(vecs)
    except OSError:
        return None
