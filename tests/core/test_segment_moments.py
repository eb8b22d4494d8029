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
