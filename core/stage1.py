"""Stage-1 vector scan: int4 scan of every segment, a short list re-ranked on int8 codes, then re-scored on float16."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import stage1_shards
from .stage1_file import Stage1Error
from .stage1_scan import SHARD_MIN as SHARD_MIN
from .stage1_scan import (
    RowReader,
    ScanArray,
    _drop_pages,
    _top,
    _top_parts,
    int4_kernel,
    pack4,
    row_reader,
    scan_threads,
)

__all__ = ["EXACT_MAX", "FlatIndex", "Quantizer", "Stage1Error", "pack4", "scan_threads"]

# Up to this many rows the float16 vectors are scanned directly (exact). Beyond it the codes are
# scanned: int4 (a quarter of float16's bytes), the best CASCADE x RESCORE rows re-ranked on
# their int8 codes, and the best RESCORE of those re-scored on float16. On 2 cores the int4
# scan of 1 M rows took 25 ms against 37 ms for int8; inside a search process at 100 k the
# whole stage was ~9 ms against ~14 ms for the float16 scan. Recall@100 against exact search
# at 1 M stayed at the int8 scan's (0.9994 text-like, 0.9997 image-like), and re-scoring 256,
# 512 or 1,024 rows gave the same recall (docs/benchmarks.md, "1 M segments", round 6).
EXACT_MAX = 32_768
RESCORE = 512
CASCADE = 8  # int4 short list = CASCADE x the int8 one (4,096 rows)
CASCADE_MAX = 65_536  # longer int8 short lists (heavily filtered searches) scan the int8 codes
INT4_CLIP = 99.9  # percentile of |x - mean| mapped to the int4 code 7 (the rare larger ones clip)


@dataclass(frozen=True)
class Quantizer:
    """int8 codes of ``(x - mean) * scale``. The mean (the image cone's centre) is removed so the
    codes spend their 8 bits on what tells segments apart; ranking by ``q . (x - mean)`` is the
    same as ranking by ``q . x`` for one query, so inner product on the codes ranks correctly."""

    mean: np.ndarray
    scale: float
    # int4 codes of ``(x - mean) * scale4``, clipped to +-7: the scale maps the INT4_CLIP
    # percentile, not the peak, to 7, or a few outliers would leave most values in 3 levels.
    # None: no int4 codes (odd dimension, or a file written before them).
    scale4: float | None = None

    @classmethod
    def fit(cls, sample: np.ndarray) -> Quantizer:
        x = np.asarray(sample, dtype=np.float32)
        mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1], np.float32)
        y = np.abs(x - mean)
        peak = float(y.max()) if len(x) else 1.0
        scale4 = None
        if x.shape[1] % 2 == 0:
            clip = float(np.percentile(y[:: max(1, len(y) // 8192)], INT4_CLIP)) if len(x) else 1.0
            scale4 = 7.0 / max(clip, 1e-6)
        return cls(mean.astype(np.float32), 127.0 / max(peak, 1e-6), scale4)

    def encode(self, x: np.ndarray) -> np.ndarray:
        y = (np.asarray(x, dtype=np.float32) - self.mean) * self.scale
        codes: np.ndarray = np.clip(np.rint(y), -127, 127).astype(np.int8)
        return codes

    def encode4(self, x: np.ndarray) -> np.ndarray:
        """Packed int4 codes, shape (n, dim // 2) uint8."""
        if self.scale4 is None:
            raise ValueError("this quantizer has no int4 scale")
        return pack4((np.asarray(x, dtype=np.float32) - self.mean) * self.scale4)

    @staticmethod
    def encode_query(q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.float32)
        return np.clip(np.rint(q * (127.0 / max(float(np.abs(q).max()), 1e-12))), -127, 127).astype(np.int8)

    @staticmethod
    def encode_query4(q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.float32)
        return pack4(q * (7.0 / max(float(np.abs(q).max()), 1e-12)))


@dataclass
class _Shard:
    """One block of base rows: memory-mapped from a shard file (``file`` set) or from a build's
    spill file (``file`` None: not saved yet). ``quant`` is None until the shard has codes."""

    ids: np.ndarray
    codes: np.ndarray | None
    vecs: np.ndarray
    quant: Quantizer | None = None
    file: str | None = None
    reader: RowReader | None = None  # pread access to ``vecs`` (saved shards, where supported)
    codes4: np.ndarray | None = None  # packed int4 codes (shards saved since round 6)


class FlatIndex:
    """Segment vectors as shards of int8 codes and float16 vectors, memory-mapped read-only.

    The base is a list of immutable shards (core/stage1_shards.py: one file each, at most
    SHARD_ROWS rows, each with its own quantizer). Additions live in a small in-memory tail and
    removals in a mask until ``save``, which writes only new shards (the tail, plus any shard
    it rewrites) and a new mask, then commits a manifest. Every shard is scanned and the lists
    merged, so results are the same as one index's: exact cosine similarities after the
    float16 re-score.
    """

    _shards: list[_Shard]
    _starts: np.ndarray  # first global row of each shard, then the total
    _ids: np.ndarray  # every base row's key, in shard order (a copy: 8 bytes a row)
    _dead: np.ndarray | None  # base rows removed since the last save
    _dead_n: int  # how many: kept, not summed over a million flags on every search and len()
    _order: np.ndarray | None  # argsort of base ids, built on first lookup
    _sorted: np.ndarray
    _tail_ids: np.ndarray
    _tail_vecs: np.ndarray
    _pending: list[tuple[np.ndarray, np.ndarray]]
    _max_key: int  # keys above it cannot be present: adding them needs no removal
    _folder: Path | None  # where the shards with a ``file`` live

    def __init__(self, dim: int, *, exact_max: int = EXACT_MAX, rescore: int = RESCORE) -> None:
        self.dim = int(dim)
        self.exact_max = exact_max
        self.rescore = rescore
        self.shard_rows = stage1_shards.SHARD_ROWS
        self.threads = scan_threads()
        self.drop_pages = True  # madvise the re-scored pages away (see _gather)
        self.use_int4 = True  # scan int4 codes where shards have them (benchmarks turn it off)
        self._seq = 0  # next shard number in that folder
        self.close()

    # -- size and membership ------------------------------------------------------------------
    def __len__(self) -> int:
        self._join_tail()
        return len(self._ids) - self._dead_n + len(self._tail_ids)

    @property
    def shard_count(self) -> int:
        return len(self._shards)

    @property
    def keys(self) -> np.ndarray:
        """Every live key: base rows not removed, then the tail (usearch's ``Index.keys``)."""
        self._join_tail()
        base = self._ids if self._dead is None else self._ids[~self._dead]
        return np.concatenate([base.astype(np.int64), self._tail_ids])

    def _base_rows(self, keys: np.ndarray) -> np.ndarray:
        """Base row of each key, -1 where absent or removed."""
        out = np.full(len(keys), -1, np.int64)
        if not len(self._ids):
            return out
        if self._order is None:
            self._order = np.argsort(self._ids, kind="stable")
            self._sorted = self._ids[self._order]
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
            self._dead_n = int(self._dead.sum())
        if len(self._tail_ids):
            keep = ~np.isin(self._tail_ids, keys)
            self._tail_ids, self._tail_vecs = self._tail_ids[keep], self._tail_vecs[keep]

    def build(self, batches: Iterable[tuple[np.ndarray, np.ndarray]], scratch: Path) -> None:
        """Replace the contents with ``batches`` of (ids, vectors), spilled to ``scratch`` as float16
        so a million rows never sit in memory; the shard files are written by the ``save`` that follows."""
        ids: list[np.ndarray] = []
        with open(scratch, "wb") as f:
            for keys, vecs in batches:
                v = np.asarray(vecs, dtype=np.float32)
                v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
                f.write(np.ascontiguousarray(v, dtype=np.float16).tobytes())
                ids.append(np.asarray(keys, dtype=np.int64))
        self.close()
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        if len(all_ids):
            vecs = np.memmap(scratch, dtype=np.float16, mode="r", shape=(len(all_ids), self.dim))
            self._set_shards([_Shard(all_ids, None, vecs)])
        if os.name == "posix":
            # The mapping keeps the data; unlinked now, the spill file cannot outlive this process
            # (a reader that rebuilt for one search never saves, so nothing else would remove it).
            with contextlib.suppress(OSError):
                os.remove(scratch)

    def _set_shards(self, shards: list[_Shard], dead: np.ndarray | None = None) -> None:
        self._shards = shards
        self._starts = np.cumsum([0, *(len(s.ids) for s in shards)]).astype(np.int64)
        self._ids = np.concatenate([np.asarray(s.ids) for s in shards]) if shards else np.zeros(0, np.int64)
        self._dead = dead if dead is not None and dead.any() else None
        self._dead_n = int(self._dead.sum()) if self._dead is not None else 0
        self._order = None
        self._max_key = max(self._max_key, int(self._ids.max()) if len(self._ids) else -1)

    # -- search -------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k keys and cosine similarities, best first."""
        self._join_tail()
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        dead = self._dead_n
        want = k + dead  # removed rows still sit in the base until the next save
        shards = self._shards
        if len(self._ids) == 0:
            rows, sims = np.zeros(0, np.int64), np.zeros(0, np.float32)
        elif len(self._ids) <= self.exact_max or any(s.quant is None for s in shards):
            parts = [(s.vecs, int(b), 1.0, 0.0) for s, b in zip(shards, self._starts, strict=False)]
            rows, sims = _top_parts(parts, q, want, self.threads)
        else:
            rows = self._short_list(q, max(want, self.rescore + dead))
            if self._dead is not None:  # removed rows leave the short list before the re-score
                rows = rows[~self._dead[rows]]
            rows = rows[: max(k, self.rescore)]
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

    def _short_list(self, q: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` base rows with the best int8 estimates, best first.

        Each shard has its own quantizer: a * (q8 . code) + b estimates q . x on one scale
        (q8 = q * qs, code = (x - mean) * scale), so the shards' lists merge correctly. Shards
        with int4 codes are scanned on those (the same map with their own scales) for a list
        CASCADE times longer, whose rows are then re-estimated on their int8 codes.
        """
        q8 = Quantizer.encode_query(q)
        qs = 127.0 / max(float(np.abs(q).max()), 1e-12)
        shards = [(s, int(b)) for s, b in zip(self._shards, self._starts, strict=False)]
        n4 = CASCADE * n
        has4 = self.use_int4 and any(s.codes4 is not None for s, _ in shards)
        if has4 and n4 <= CASCADE_MAX and n4 < len(self._ids) and int4_kernel():
            q4 = Quantizer.encode_query4(q)
            qs4 = 7.0 / max(float(np.abs(q).max()), 1e-12)
            parts: list[ScanArray] = []
            for s, b in shards:
                assert s.quant is not None and s.codes is not None
                shift = float(q @ s.quant.mean)
                if s.codes4 is not None and s.quant.scale4 is not None:
                    parts.append((s.codes4, b, 1.0 / (qs4 * s.quant.scale4), shift, q4, "int4"))
                else:
                    parts.append((s.codes, b, 1.0 / (qs * s.quant.scale), shift))
            rows, _ = _top_parts(parts, q8, n4, self.threads)
            est = self._estimate8(rows, q, q8, qs)
            keep = np.argsort(-est, kind="stable")[:n]
            return rows[keep]
        parts8: list[ScanArray] = [
            (s.codes, b, 1.0 / (qs * s.quant.scale), float(q @ s.quant.mean))
            for s, b in shards
            if s.codes is not None and s.quant is not None
        ]
        rows, _ = _top_parts(parts8, q8, n, self.threads)
        return rows

    def _estimate8(self, rows: np.ndarray, q: np.ndarray, q8: np.ndarray, qs: float) -> np.ndarray:
        """int8 estimates of ``q . x`` for base rows (read through the codes' maps, shard by shard)."""
        import numkong as nk

        out = np.empty(len(rows), np.float32)
        for s, where, local in self._per_shard(rows):
            assert s.codes is not None and s.quant is not None
            raw = np.empty(len(local), np.float32)
            nk.dot(np.ascontiguousarray(s.codes[local]), q8, out=raw, out_dtype="f32")
            out[where] = raw * np.float32(1.0 / (qs * s.quant.scale)) + np.float32(q @ s.quant.mean)
        return out

    def rescore_rows(self, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Exact similarities of base rows. numkong, not numpy: a 1024x512 product through BLAS
        woke its thread pool and took 35-100 ms on loaded or many-core machines (measured)."""
        import numkong as nk

        if not len(rows):
            return np.zeros(0, np.float32)
        q16 = np.ascontiguousarray(q, dtype=np.float16)
        return np.asarray(nk.dot(np.ascontiguousarray(self._gather(rows)), q16), dtype=np.float32)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """float16 rows of the short list, read shard by shard through the maps; then the maps'
        pages are dropped (MADV_DONTNEED): they stay in the page cache, but a process that kept
        every page it ever re-scored would grow towards the whole float16 data (1 GB at 1 M)."""
        out = np.empty((len(rows), self.dim), np.float16)
        for shard, where, local in self._per_shard(rows):
            if shard.reader is not None and len(out):
                shard.reader.read_into(out, where, local)
                continue
            out[where] = np.asarray(shard.vecs[local])
            if self.drop_pages:
                _drop_pages(shard.vecs)
        return out

    def _per_shard(self, rows: np.ndarray) -> Iterator[tuple[_Shard, np.ndarray, np.ndarray]]:
        """For each shard holding some of the base ``rows``: (shard, positions in ``rows``, its
        local rows), sorted by local row so the shard's file is read in order."""
        which = np.searchsorted(self._starts, rows, side="right") - 1
        for i in np.unique(which):
            pick = np.flatnonzero(which == i)
            local = rows[pick] - self._starts[i]
            order = np.argsort(local)
            yield self._shards[i], pick[order], local[order]

    # -- persistence --------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str], meta: dict[str, object] | None = None) -> None:
        """Write what is new since the last save into ``folder`` and commit its manifest (with
        ``meta``); then map the new shards. Shards already in the folder are left as they are."""
        from .stage1_save import plan_and_write

        folder = Path(folder)
        self._join_tail()
        folder.mkdir(parents=True, exist_ok=True)
        same = self._folder is not None and self._folder.resolve() == folder.resolve()
        manifest = plan_and_write(self, folder, same, meta or {})
        self.load(folder, _manifest=manifest)
        stage1_shards.remove_unlisted(folder, manifest)

    def load(self, folder: str | os.PathLike[str], *, _manifest: object = None) -> None:
        """Map the folder's shards read-only (no copy); raises Stage1Error unless every shard the
        manifest names is whole."""
        folder = Path(folder)
        manifest, files, dead = stage1_shards.open_shards(folder, self.dim)
        self.close()
        shards = [
            _Shard(f.ids, f.codes, f.vecs, Quantizer(f.mean, f.scale, f.scale4), e.file, row_reader(f.vecs), f.codes4)
            for e, f in zip(manifest.shards, files, strict=True)
        ]
        self._set_shards(shards, dead)
        self._folder = folder
        self._seq = 1 + max((int(e.file.split("-", 1)[0]) for e in manifest.shards), default=-1)

    def close(self) -> None:
        self._shards = []
        self._starts = np.zeros(1, np.int64)
        self._ids = np.zeros(0, np.int64)
        self._dead = None
        self._dead_n = 0
        self._order = None
        self._sorted = np.zeros(0, np.int64)
        self._tail_ids = np.zeros(0, np.int64)
        self._tail_vecs = np.zeros((0, self.dim), np.float16)
        self._pending = []
        self._max_key = -1
        self._folder = None

    def mapped_bytes(self) -> int:
        """Bytes of the base held as file mappings (not copied into process memory)."""
        arrays = [a for s in self._shards for a in (s.ids, s.codes, s.vecs, s.codes4)]
        return sum(a.nbytes for a in arrays if isinstance(a, np.memmap))
