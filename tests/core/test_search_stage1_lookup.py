"""Stage 1's file look-up: only the candidates stage 2 re-ranks, and the same answer as looking up all.

Real Store (SQLite file) and VectorIndex; the searcher's store is wrapped only to count the
segment ids it looks up (work counted, never timed).
"""

from __future__ import annotations

import numpy as np
import pytest

from reelseek.core.index import VectorIndex
from reelseek.core.search import SearchConfig, Searcher, _cap_per_file
from reelseek.core.store import NewSegment, Store
from reelseek.core.types import OFFLINE, Filters

DIM = 16
FILES, PER_FILE = 30, 12  # 360 segments: more than stage1_k (256)


def _library(tmp_path, offline: set[int]) -> tuple[Store, VectorIndex, np.ndarray, set[int]]:
    """FILES files of PER_FILE segments scattered around a query; the files numbered in ``offline``
    unplugged. Returns the store, the index, the query and the offline files' ids."""
    rng = np.random.default_rng(7)
    store = Store(tmp_path / "lib.db")
    vindex = VectorIndex(tmp_path / "vectors", "m", DIM)
    query = rng.normal(size=DIM).astype(np.float32)
    query /= np.linalg.norm(query)
    offline_ids = set()
    for f in range(FILES):
        fid = store.upsert_file(f"/footage/f{f:02d}.mp4", None, 1, 1, f"fp{f}")
        segs = []
        for i in range(PER_FILE):
            frames = rng.normal(size=(3, DIM)).astype(np.float32) + query * rng.uniform(0, 3)
            frames /= np.linalg.norm(frames, axis=1, keepdims=True)
            v = frames.mean(0)
            t = 8.0 * i
            segs.append(
                NewSegment(t, t + 8.0, t + 4.0, v / np.linalg.norm(v), np.array([t, t + 3, t + 6]), frames, None)
            )
        _, new = store.commit_file(fid, "m", segs, duration=8.0 * PER_FILE, width=64, height=36)
        vindex.add(new, np.stack([s.vector for s in segs]))  # as the indexer adds them
        if f in offline:
            store.set_status(fid, OFFLINE)
            offline_ids.add(fid)
    return store, vindex, query, offline_ids


class _Counting:
    """The real store, with the segment ids asked of file_info_for_segments counted."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.looked_up = 0

    def file_info_for_segments(self, ids):
        self.looked_up += len(ids)
        return self._store.file_info_for_segments(ids)

    def __getattr__(self, name):
        return getattr(self._store, name)


def _searcher(store, vindex) -> tuple[Searcher, _Counting]:
    counting = _Counting(store)
    s = Searcher(counting, vindex, lambda: pytest.fail("no model is needed"), "m", config=SearchConfig())  # type: ignore[arg-type]
    return s, counting


def _key(moments):
    return [(m.file_id, round(m.start, 4), round(m.end, 4), round(m.score, 6)) for m in moments]


@pytest.mark.parametrize("offline", [set(), {0, 3, 5, 8, 13, 21}])
def test_two_stage_looks_up_files_for_the_reranked_candidates_only_and_answers_the_same(tmp_path, offline):
    store, vindex, q, offline_ids = _library(tmp_path, offline)
    s, counting = _searcher(store, vindex)
    cfg = s.config
    reranked = max(cfg.stage2_segments, 20)
    # The old path looks up every one of the stage1_k candidates.
    s._stage1(q, Filters(), cfg.stage1_k)
    assert counting.looked_up == cfg.stage1_k
    eager = s._stage1(q, Filters(include_offline=False), cfg.stage1_k)
    for filters in (Filters(), Filters(include_offline=False)):
        counting.looked_up = 0
        lazy = s._stage1(q, filters, cfg.stage1_k, need=reranked)
        full = s._stage1(q, filters, cfg.stage1_k)
        assert [c.segment_id for c in lazy[:reranked]] == [c.segment_id for c in full[:reranked]]
        if not filters.include_offline and offline:
            assert [c.segment_id for c in full] == [c.segment_id for c in eager]
    # A whole search: the same moments, with the look-up down to the re-ranked candidates when
    # nothing is filtered out, and all of the stage-1 list only when filters dropped some.
    for filters in (Filters(), Filters(include_offline=False)):
        counting.looked_up = 0
        got, median = s.raw_moments(q, limit=20, filters=filters)
        looked = counting.looked_up
        want = s._stage2(q, s._stage1(q, filters, cfg.stage1_k)[:reranked], median)
        assert _key(got) == _key(_cap_per_file(want, cfg.per_file)[:20])
        assert got, "the planted query finds moments"
        if filters.include_offline or not offline:
            assert looked == reranked
        else:
            assert reranked < looked <= cfg.stage1_k
            assert not {m.file_id for m in got} & offline_ids


def test_single_stage_still_looks_up_the_whole_stage1_list(tmp_path):
    store, vindex, q, _ = _library(tmp_path, set())
    s, counting = _searcher(store, vindex)
    s.raw_moments(q, limit=20, two_stage=False)
    assert counting.looked_up == s.config.stage1_k
