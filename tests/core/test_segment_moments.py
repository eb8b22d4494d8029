"""Segmentation of frame vectors and temporal localization of moments."""

from __future__ import annotations

import itertools

import numpy as np

from reelseek.core.moments import edges_for, localize
from reelseek.core.search import parse_text
from reelseek.core.segment import SegmentConfig, segment


def _scenes(lengths, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    vecs = []
    for n in lengths:
        base = rng.normal(size=dim)
        for _ in range(n):
            v = base + 0.05 * rng.normal(size=dim)
            vecs.append(v / np.linalg.norm(v))
    return np.asarray(vecs, dtype=np.float32)


def test_segments_cover_the_file_without_gaps():
    v = _scenes([5, 7, 4, 30])
    t = np.arange(len(v), dtype=np.float32) + 0.5
    spans = segment(t, v, duration=float(len(v)), config=SegmentConfig(min_len=8, max_len=24))
    assert spans[0].start == 0 and spans[-1].end == len(v)
    for a, b in itertools.pairwise(spans):
        assert a.end == b.start and a.last + 1 == b.first
    assert all(s.end - s.start <= 24 * 1.25 + 1e-6 for s in spans)


def test_cuts_fall_on_shot_boundaries():
    v = _scenes([10, 10, 10])
    t = np.arange(30, dtype=np.float32)
    spans = segment(t, v, 30.0, SegmentConfig(min_len=5, max_len=20))
    assert [s.first for s in spans] == [0, 10, 20]
    for s in spans:
        assert np.isclose(np.linalg.norm(s.vector), 1.0, atol=1e-5)
        assert s.first <= s.best <= s.last


def test_short_shots_merge_and_long_shots_split():
    v = _scenes([2, 2, 2, 60])
    t = np.arange(len(v), dtype=np.float32)
    spans = segment(t, v, float(len(v)), SegmentConfig(min_len=6, max_len=20))
    assert spans[0].first == 0 and spans[0].last >= 5  # the three 2-s shots merged
    assert len(spans) >= 4  # the 60-s shot split into pieces of <= 20 s


def test_localize_finds_the_range_of_a_bump():
    t = np.arange(20, dtype=np.float64)
    scores = np.full(20, 0.2)
    scores[8:13] = 0.6
    found = localize(t, scores, edges_for(t, 0.0, 20.0), background=0.2)
    best = found[0]
    assert 7.0 <= best.start <= 8.0 and 12.5 <= best.end <= 13.5
    assert 8 <= best.best_time <= 12


def test_localize_ranks_a_sustained_match_above_a_single_spike():
    t = np.arange(30, dtype=np.float64)
    s = np.full(30, 0.2)
    s[3] = 0.62  # one lucky frame
    s[15:20] = 0.6  # a real moment
    found = localize(t, s, edges_for(t, 0.0, 30.0), background=0.2)
    assert 15 <= found[0].best_time <= 19


def test_parse_text_negatives():
    assert parse_text('woman at a door -night -"red car"') == ("woman at a door", ["night", "red car"])
    assert parse_text("well-lit room") == ("well-lit room", [])
    assert parse_text("-night") == ("", ["night"])


def _localize_arrays(times, scores, edges, background, cfg):
    """localize as it was written on numpy arrays (before round 6), the reference."""
    from reelseek.core.moments import Found, smooth

    n = len(times)
    if n == 0:
        return []
    curve = smooth(scores) if cfg.smooth else scores.astype(np.float32)
    used = np.zeros(n, dtype=bool)
    found = []
    while len(found) < cfg.max_per_run and not used.all():
        peak = int(np.argmax(np.where(used, -np.inf, curve)))
        top = float(curve[peak])
        if found and top <= background:
            break
        threshold = top - max(cfg.min_drop, cfg.drop * (top - background))
        lo = peak
        while lo > 0 and not used[lo - 1] and curve[lo - 1] >= threshold:
            lo -= 1
        hi = peak
        while hi < n - 1 and not used[hi + 1] and curve[hi + 1] >= threshold:
            hi += 1
        used[lo : hi + 1] = True
        best = lo + int(np.argmax(scores[lo : hi + 1]))
        score = 0.5 * top + 0.5 * float(scores[best])
        found.append(Found(float(edges[lo]), float(edges[hi + 1]), score, float(times[best])))
    found.sort(key=lambda f: f.score, reverse=True)
    return found


def test_localize_gives_exactly_what_the_array_version_gave_on_random_and_tied_curves():
    from reelseek.core.moments import LocalizeConfig, edges_for, localize

    rng = np.random.default_rng(21)
    for case in range(3000):
        n = int(rng.integers(1, 40))
        times = np.sort(rng.uniform(0, 60, n)).astype(np.float32)
        kind = case % 4
        if kind == 0:
            scores = rng.normal(0.25, 0.05, n).astype(np.float32)
        elif kind == 1:  # plateaus and exact ties: the first maximum must win, as argmax's
            scores = np.round(rng.normal(0.25, 0.05, n), 2).astype(np.float32)
        elif kind == 2:  # float64 scores (other callers), values near the float32 threshold
            scores = 0.3 + rng.integers(-3, 4, n) * 1e-9
        else:
            scores = np.full(n, 0.2, np.float32)
        background = float(rng.choice([0.2, 0.25, float(np.median(scores)), 0.3]))
        cfg = LocalizeConfig(smooth=bool(case % 3), max_per_run=int(rng.integers(1, 5)))
        edges = edges_for(times.astype(np.float64), float(times[0]) - 0.5, float(times[-1]) + 0.5)
        assert localize(times, scores, edges, background, cfg) == _localize_arrays(
            times, scores, edges, background, cfg
        ), case
