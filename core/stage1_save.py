"""Saving stage 1 append-only: which shards stay, which rows go into new shard files, and the commit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import stage1_file, stage1_shards
from .stage1_shards import Manifest, ShardEntry

if TYPE_CHECKING:
    from .stage1 import FlatIndex

# A saved shard is rewritten (compacted) once this share of its rows is removed; below it the
# removed rows stay in the file, hidden by the mask, and cost only their scan time.
COMPACT = 0.25
CHUNK = 16384  # rows per streamed block when writing: its float32 temporaries stay ~100 MB
SAMPLE = 32768  # rows a new shard's quantizer is fitted on


def _plan(ix: FlatIndex, same: bool) -> tuple[list[int], np.ndarray]:
    """(indices of shards kept as they are, global base rows that go into new shards)."""
    dead = ix._dead
    starts = ix._starts
    keep: list[int] = []
    moved: list[np.ndarray] = []
    last = len(ix._shards) - 1
    for i, s in enumerate(ix._shards):
        lo, hi = int(starts[i]), int(starts[i + 1])
        d = int(dead[lo:hi].sum()) if dead is not None else 0
        saved = same and s.file is not None and s.quant is not None
        # A shard saved before int4 codes existed is rewritten once, with them.
        saved = saved and (s.codes4 is not None or ix.dim % 2 == 1)
        # The last shard, when not full, takes the new rows: one rewrite of at most a shard's
        # rows per save, instead of a new small shard every 30 s.
        grows = i == last and hi - lo < ix.shard_rows and len(ix._tail_ids) > 0
        if saved and not grows and d <= COMPACT * (hi - lo) and d < hi - lo:
            keep.append(i)
        else:
            rows = np.arange(lo, hi, dtype=np.int64)
            moved.append(rows if dead is None else rows[~dead[lo:hi]])
    return keep, np.concatenate(moved) if moved else np.zeros(0, np.int64)


def _read_rows(ix: FlatIndex, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float16 vectors) of sorted global base rows, then the pages read are dropped."""
    from .stage1_scan import _drop_pages

    which = np.searchsorted(ix._starts, rows, side="right") - 1
    vecs = []
    for i in np.unique(which):
        local = rows[which == i] - ix._starts[i]
        vecs.append(np.asarray(ix._shards[i].vecs[local]))
        _drop_pages(ix._shards[i].vecs)
    return ix._ids[rows], np.concatenate(vecs) if vecs else np.zeros((0, ix.dim), np.float16)


def _write_shard(ix: FlatIndex, path: Path, base_rows: np.ndarray, tail: tuple[int, int]) -> int:
    """Write base rows then tail rows ``tail[0]:tail[1]`` as one shard file; returns its rows."""
    from .stage1 import Quantizer

    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
        for s in range(0, len(base_rows), CHUNK):
            ids, vecs = _read_rows(ix, base_rows[s : s + CHUNK])
            yield ids, None, vecs
        for s in range(tail[0], tail[1], CHUNK):
            e = min(s + CHUNK, tail[1])
            yield ix._tail_ids[s:e], None, ix._tail_vecs[s:e]

    rows = len(base_rows) + tail[1] - tail[0]
    step = max(1, rows // SAMPLE)
    sample = [np.array(v[::step]) for _i, _c, v in blocks()]
    quant = Quantizer.fit(np.concatenate(sample) if sample else np.zeros((0, ix.dim), np.float16))
    stage1_file.write(
        path,
        dim=ix.dim,
        rows=rows,
        blocks=blocks,
        mean=quant.mean,
        scale=quant.scale,
        fitted_on=rows,
        encode=quant.encode,
        scale4=quant.scale4,
        encode4=quant.encode4 if quant.scale4 is not None else None,
    )
    return rows


def plan_and_write(ix: FlatIndex, folder: Path, same: bool, meta: dict[str, object]) -> Manifest:
    """Write the new shards and mask into ``folder`` and commit the manifest; returns it.

    Crash-safe: new files get names no manifest has used, the manifest is replaced in one rename
    after they are fsynced, and the files it no longer names are deleted only after that. A
    failure (a full disk) removes what this save wrote and leaves the folder as it was.
    """
    keep, moved = _plan(ix, same)
    n_tail = len(ix._tail_ids)
    total = len(moved) + n_tail
    written: list[Path] = []
    entries: list[ShardEntry] = []
    dead = ix._dead
    masks = []
    for i in keep:
        s, lo, hi = ix._shards[i], int(ix._starts[i]), int(ix._starts[i + 1])
        d = dead[lo:hi] if dead is not None else np.zeros(hi - lo, bool)
        assert s.file is not None
        entries.append(ShardEntry(s.file, hi - lo, int(d.sum())))
        masks.append(d)
    try:
        seq = ix._seq if same else 0
        for start in range(0, total, ix.shard_rows):
            stop = min(start + ix.shard_rows, total)
            base = moved[start : min(stop, len(moved))]
            tail = (max(start, len(moved)) - len(moved), stop - len(moved)) if stop > len(moved) else (0, 0)
            name = stage1_shards.new_name(seq, stage1_shards.SHARD_SUFFIX)
            seq += 1
            written.append(folder / name)
            rows = _write_shard(ix, folder / name, base, tail)
            entries.append(ShardEntry(name, rows, 0))
            masks.append(np.zeros(rows, bool))
        mask = None
        if any(e.dead for e in entries):
            mask = stage1_shards.write_mask(folder, np.concatenate(masks))
            written.append(folder / mask)
        manifest = Manifest(ix.dim, tuple(entries), mask, dict(meta))
        stage1_shards.commit(folder, manifest)
    except BaseException:
        for p in written:
            with contextlib.suppress(OSError):
                p.unlink()
        raise
    return manifest
