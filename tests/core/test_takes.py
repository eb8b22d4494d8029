"""Takes: frame-sequence alignment and grouping of moments that show the same shot."""

from __future__ import annotations

import numpy as np
import pytest

from reelseek.core import takes
from reelseek.core.takes import Shot, TakesConfig, TakesStats, align, group_moments, same_shot
from reelseek.core.types import Moment

DIM = 32


def _walk(seed: int, n: int) -> np.ndarray:
    """A shot: frame vectors that change as the picture moves (stationary AR(1), unit length)."""
    rng = np.random.default_rng(seed)
    v = np.empty((n, DIM))
    v[0] = rng.normal(size=DIM)
    for i in range(1, n):
        v[i] = 0.7 * v[i - 1] + 0.71 * rng.normal(size=DIM)  # neighbours ~0.7 alike, as a moving shot
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _noisy(frames: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """The same pictures through another encoder: a little noise on every vector."""
    rng = np.random.default_rng(seed)
    v = frames + rng.normal(scale=scale, size=frames.shape).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


SHOT = _walk(1, 20)  # 20 s of a shot sampled every second
TIMES = np.arange(20, dtype=np.float64)


def _moment(file_id: int, start: float, end: float, score: float = 0.5) -> Moment:
    return Moment(f"/f/{file_id}.mp4", file_id, start, end, score, start)


def test_align_finds_the_offset_of_a_trimmed_copy() -> None:
    # The copy starts 3 s into the shot and samples half a second off the original's grid.
    tb = np.arange(17, dtype=np.float64) + 0.5
    fb = _noisy(SHOT[3:], 0.01, 2)
    al = align(TIMES[5:12], SHOT[5:12], tb, fb, 0.9)
    assert al is not None
    assert al.offset == pytest.approx(-3.0, abs=0.6)
    assert al.overlap == 7 and al.matched == 7


def test_same_shot_across_reencode_trim_and_proxy() -> None:
    cfg, st = TakesConfig(), TakesStats()
    a = _moment(1, 6, 12)
    sa = Shot(TIMES, SHOT)
    trimmed = Shot(TIMES[:17], _noisy(SHOT[3:], 0.02, 3))  # 3 s cut off the start
    assert same_shot(a, sa, _moment(2, 3, 9), trimmed, cfg, st)
    proxy = Shot(TIMES, _noisy(SHOT, 0.04, 4), pixels=128 * 72)
    assert same_shot(a, sa, _moment(3, 6, 12), proxy, cfg, st)
    assert st.alignments == 2


def test_different_shot_of_the_same_kind_stays_apart() -> None:
    # Another shot sharing most of its look (a common component) but not the same pictures.
    common = _walk(9, 1)[0]
    mix = _walk(5, 20) * 0.5 + common * 0.85
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    base = SHOT * 0.5 + common * 0.85
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    st = TakesStats()
    cos = float(np.mean(np.sum(base * mix, axis=1)))
    assert 0.65 < cos < 0.8  # as alike as the red circles on grass and on sand measured (max 0.743)
    assert not same_shot(_moment(1, 4, 10), Shot(TIMES, base), _moment(2, 4, 10), Shot(TIMES, mix), TakesConfig(), st)


def test_a_glancing_overlap_is_not_the_same_shot() -> None:
    # Only the last frame of A's 6 s range has a partner in B: too little to call it one shot.
    a, sa = _moment(1, 6, 12), Shot(TIMES, SHOT)
    b, sb = _moment(2, 0, 6), Shot(TIMES[:7], _noisy(SHOT[11:18], 0.01, 5))
    stats = TakesStats()
    assert not same_shot(a, sa, b, sb, TakesConfig(), stats)


def test_identical_files_decide_by_fingerprint_without_aligning() -> None:
    st = TakesStats()
    sa = Shot(TIMES, SHOT, fingerprint="abc")
    assert same_shot(_moment(1, 2, 6), sa, _moment(2, 3, 7), Shot(TIMES, SHOT, fingerprint="abc"), TakesConfig(), st)
    assert (st.fingerprint_same, st.alignments) == (1, 0)


def test_lengths_far_apart_are_rejected_cheaply() -> None:
    st = TakesStats()
    sb = Shot(TIMES, SHOT)
    assert not same_shot(_moment(1, 0, 16), Shot(TIMES, SHOT), _moment(2, 5, 6), sb, TakesConfig(), st)
    assert (st.cheap_rejects, st.alignments) == (1, 0)


def test_group_faces_the_best_take_and_ties_go_to_the_larger_picture() -> None:
    other = _walk(7, 20) * 0.0 + _walk(8, 20)  # an unrelated shot
    moments = [
        _moment(3, 6, 12, 0.801),  # proxy, scores a hair higher
        _moment(1, 6, 12, 0.800),  # original
        _moment(4, 1, 7, 0.650),  # unrelated
        _moment(2, 3, 9, 0.600),  # trimmed copy
    ]
    shots = {
        1: Shot(TIMES, SHOT, pixels=1920 * 1080, duration=20),
        2: Shot(TIMES[:17], _noisy(SHOT[3:], 0.02, 3), pixels=1920 * 1080, duration=17),
        3: Shot(TIMES, _noisy(SHOT, 0.04, 4), pixels=480 * 270, duration=20),
        4: Shot(TIMES, other, pixels=1920 * 1080, duration=20),
    }
    out = group_moments(moments, lambda m: shots[m.file_id])
    assert [m.file_id for m in out] == [1, 4]
    assert sorted(t.file_id for t in out[0].takes) == [2, 3]
    assert out[1].takes == ()


def test_a_clear_winner_stays_the_face_even_as_a_proxy() -> None:
    moments = [_moment(3, 6, 12, 0.9), _moment(1, 6, 12, 0.7)]
    shots = {1: Shot(TIMES, SHOT, pixels=1920 * 1080), 3: Shot(TIMES, _noisy(SHOT, 0.04, 4), pixels=480 * 270)}
    out = group_moments(moments, lambda m: shots[m.file_id])
    assert [m.file_id for m in out] == [3] and [t.file_id for t in out[0].takes] == [1]


def test_moments_of_one_file_never_group() -> None:
    moments = [_moment(1, 0, 6), _moment(1, 6, 12)]
    out = group_moments(moments, lambda m: Shot(TIMES, SHOT))
    assert len(out) == 2 and all(m.takes == () for m in out)


def test_grouping_only_touches_the_window_it_is_given() -> None:
    """Work is bounded by the top moments: shots fetched once each, pairs at most n(n-1)/2."""
    n = 12
    fetched: list[int] = []
    shots = {i: Shot(TIMES, _walk(100 + i, 20)) for i in range(n)}

    def shot_of(m: Moment) -> Shot:
        fetched.append(m.file_id)
        return shots[m.file_id]

    st = TakesStats()
    out = group_moments([_moment(i, 2, 8, 1 - i / 100) for i in range(n)], shot_of, stats=st)
    assert len(out) == n  # all different shots
    assert sorted(fetched) == list(range(n))
    assert st.moments == n and st.pairs <= n * (n - 1) // 2
    assert st.alignments <= st.pairs


def test_each_moment_is_summarised_once_not_once_per_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    """The moment's frames in range and their mean are computed once each: per pair they were
    recomputed ~1,000 times a search at 100 k segments."""
    n = 12
    cores: list[int] = []
    real = takes._core
    monkeypatch.setattr(takes, "_core", lambda m, s: (cores.append(m.file_id), real(m, s))[1])
    shots = {i: Shot(TIMES, _walk(100 + i, 20)) for i in range(n)}
    st = TakesStats()
    group_moments([_moment(i, 2, 8, 1 - i / 100) for i in range(n)], lambda m: shots[m.file_id], stats=st)
    assert st.pairs == n * (n - 1) // 2  # every pair compared (all different shots) ...
    assert sorted(cores) == list(range(n))  # ... from one summary per moment


def test_window_is_a_bounded_multiple_of_the_limit() -> None:
    assert takes.window(10) == 30
    assert takes.window(50) == 90
    assert takes.window(200) == 200


def test_the_pairwise_gate_groups_and_counts_exactly_like_checking_each_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random windows mixing copies, proxies, trims, other shots, empty shots, identical files, odd
    lengths and ranges with no frame inside: the array gate must leave the groups, their order and
    every counter as they were when each pair went through same_shot's cheap checks one by one."""
    rng = np.random.default_rng(12)
    shots_pool = [_walk(100 + k, 20) for k in range(4)]
    for case in range(60):
        moments, shots = [], {}
        for i in range(int(rng.integers(2, 25))):
            base = shots_pool[int(rng.integers(0, 4))]
            kind = int(rng.integers(0, 6))
            frames = base if kind == 0 else _noisy(base, 0.03, case * 100 + i)
            times = TIMES.copy()
            if kind == 3:
                frames, times = np.zeros((0, DIM), np.float32), np.zeros(0)  # no frames stored
            start = float(rng.integers(0, 12)) if kind != 5 else 30.0  # 5: frames, none inside the range
            length = float(rng.choice([0.0005, 2.0, 5.0, 8.0]))
            fp = "same" if kind == 4 else None
            m = Moment(f"/f/{i}.mp4", i + 1 if rng.random() > 0.1 else 1, start, start + length, 1.0 - 0.01 * i, start)
            moments.append(m)
            shots[id(m)] = Shot(times, frames, fingerprint=fp)
        results = []
        for gated in (True, False):
            if not gated:
                monkeypatch.setattr(takes, "_may_match", lambda *a: None)
            st = TakesStats()
            out = group_moments(moments, lambda m, shots=shots: shots[id(m)], stats=st)
            results.append(([(o.file_id, o.start, tuple((t.file_id, t.start) for t in o.takes)) for o in out], st))
            monkeypatch.undo()
        assert results[0][0] == results[1][0], case
        assert results[0][1] == results[1][1], case
