"""Stage 2's batched reads: segment spans and every segment in a set of windows, in few statements."""

from __future__ import annotations

import numpy as np

from reelseek.core.store import NewSegment, Store


def _seg(start: float, end: float, seed: int, dim: int = 4, n: int = 3) -> NewSegment:
    rng = np.random.default_rng(seed)
    frames = rng.normal(size=(n, dim)).astype(np.float32)
    frames /= np.linalg.norm(frames, axis=1, keepdims=True)
    v = frames.mean(0)
    return NewSegment(start, end, start, v / np.linalg.norm(v), np.linspace(start, end, n), frames, None)


def _library(tmp_path, files: int = 6, per_file: int = 8) -> tuple[Store, dict[int, list[int]]]:
    s = Store(tmp_path / "lib.db")
    ids: dict[int, list[int]] = {}
    for f in range(files):
        fid = s.upsert_file(f"/f{f}.mp4", None, 1, 1, f"fp{f}")
        segs = [_seg(5.0 * i, 5.0 * (i + 1), seed=100 * f + i) for i in range(per_file)]
        _, new = s.commit_file(fid, "m", segs, duration=5.0 * per_file, width=4, height=3)
        # The same file under a second model: its segments overlap the same times and must not be read.
        s.commit_file(fid, "other", [_seg(0.0, 5.0 * per_file, seed=9)], duration=5.0 * per_file, width=4, height=3)
        ids[fid] = sorted(new)
    return s, ids


def test_segment_spans_give_file_and_times_of_each_id(tmp_path):
    s, ids = _library(tmp_path)
    fid = next(iter(ids))
    picked = [ids[fid][0], ids[fid][3]]
    spans = {sp.id: sp for sp in s.segment_spans([*picked, 10**9])}  # an unknown id is skipped
    assert set(spans) == set(picked)
    assert spans[picked[1]].file_id == fid
    assert (spans[picked[1]].start, spans[picked[1]].end) == (15.0, 20.0)


def test_windows_read_the_same_segments_as_one_read_per_window(tmp_path):
    s, ids = _library(tmp_path)
    fids = list(ids)
    windows = [
        (fids[0], 9.99, 15.01),  # touches segments 1, 2 and 3 at their edges
        (fids[0], 14.99, 20.01),  # overlaps the previous window: segment 3 must come once
        (fids[1], -0.01, 40.01),  # the whole file
        (fids[2], 100.0, 200.0),  # past the end: nothing
    ]
    got = s.segments_in_windows("m", windows)
    want = {n.id: n for w in windows for n in s.neighbour_segments(w[0], "m", w[1], w[2])}
    assert sorted(g.id for g in got) == sorted(want)
    assert len(got) == len({g.id for g in got})
    for g in got:
        np.testing.assert_array_equal(g.frames, want[g.id].frames)
        np.testing.assert_array_equal(g.times, want[g.id].times)
        assert (g.file_id, g.start, g.end, g.best_time) == (
            want[g.id].file_id,
            want[g.id].start,
            want[g.id].end,
            want[g.id].best_time,
        )


def test_many_windows_span_statements_and_still_come_once(tmp_path):
    s, ids = _library(tmp_path, files=3, per_file=4)
    # 700 windows: three statements; every window of a file covers all of it.
    windows = [(fid, -1.0, 100.0) for fid in ids for _ in range(240)][:700]
    got = s.segments_in_windows("m", windows)
    assert sorted(g.id for g in got) == sorted(i for v in ids.values() for i in v)
    assert s.segments_in_windows("m", []) == []


def test_takes_read_every_moments_neighbourhood_in_one_statement_with_the_same_shots(tmp_path, monkeypatch):
    from reelseek.core import takes
    from reelseek.core.types import Moment, SearchResult

    s, ids = _library(tmp_path)
    fids = list(ids)
    moments = [
        Moment(f"/f{f}.mp4", fid, start, start + 4.0, 0.9 - 0.01 * i, start)
        for i, (f, fid) in enumerate(zip(range(6), fids, strict=True))
        for start in (3.0, 17.5)
    ]
    seen: list[list[takes.Shot]] = []
    real_group = takes.group_moments

    def spy(ms, shot_of, **kw):
        seen.append([shot_of(m) for m in ms])
        return real_group(ms, shot_of, **kw)

    monkeypatch.setattr(takes, "group_moments", spy)
    calls = {"windows": 0, "neighbours": 0, "file": 0}
    real_windows, real_neighbours = s.segments_in_windows, s.neighbour_segments
    monkeypatch.setattr(s, "file_by_id", lambda *a: calls.__setitem__("file", calls["file"] + 1))

    def windows(*a, **kw):
        calls["windows"] += 1
        return real_windows(*a, **kw)

    def neighbours(*a, **kw):
        calls["neighbours"] += 1
        return real_neighbours(*a, **kw)

    monkeypatch.setattr(s, "segments_in_windows", windows)
    monkeypatch.setattr(s, "neighbour_segments", neighbours)
    takes.group_result(SearchResult(moments), s, "m", 20)
    assert calls == {"windows": 1, "neighbours": 0, "file": 0}
    pad = takes.TakesConfig().pad
    for m, shot in zip(moments, seen[0], strict=True):
        segs = real_neighbours(m.file_id, "m", m.start - pad, m.end + pad)  # one read per moment: the old way
        times = np.concatenate([g.times for g in segs]).astype(np.float64)
        keep = (times >= m.start - pad) & (times <= m.end + pad)
        np.testing.assert_array_equal(shot.times, times[keep][np.argsort(times[keep], kind="stable")])
        frames = np.concatenate([g.frames for g in segs]).astype(np.float32)[keep]
        np.testing.assert_array_equal(shot.frames, frames[np.argsort(times[keep], kind="stable")])


def test_files_by_ids_reads_the_rows_that_exist_in_chunks(tmp_path):
    s, ids = _library(tmp_path, files=3, per_file=1)
    fids = list(ids)
    got = s.files_by_ids([*fids, fids[0], 10**9, *range(10**6, 10**6 + 1200)])  # repeats, unknowns, >500 ids
    assert set(got) == set(fids)
    for fid in fids:
        assert got[fid] == s.file_by_id(fid)
    assert s.files_by_ids([]) == {}


def test_frames_f32_joins_float16_blocks_into_the_same_float32_values_as_numpy():
    from reelseek.core.store import frames_f32

    rng = np.random.default_rng(4)
    blocks = [rng.normal(size=(n, 16)).astype(np.float16) for n in (3, 0, 5, 1)]
    blocks[0][0, :4] = [np.inf, -0.0, 6.1e-5, 65504]  # infinity, signed zero, subnormal, the largest
    got = frames_f32(blocks)
    assert got.dtype == np.float32 and got.flags.c_contiguous and got.shape == (9, 16)
    np.testing.assert_array_equal(got, np.concatenate(blocks).astype(np.float32))
    f32 = [b.astype(np.float32) for b in blocks]  # float32 blocks pass through as they are
    np.testing.assert_array_equal(frames_f32(f32), np.concatenate(f32))
    assert frames_f32([]).shape == (0, 0) and frames_f32([blocks[1]]).shape == (0, 16)
