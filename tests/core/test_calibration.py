"""Unit tests of core/calibration.py: the confidence scale, the tail cut, the cached sidecar."""

from __future__ import annotations

import json
import os
import stat

import pytest

from reelseek.core import calibration as cal_mod
from reelseek.core.calibration import GOOD, Calibration, confidence, cut_tail, rate, relative
from reelseek.core.types import Moment, SearchResult
from reelseek.core.words.fusion import fuse


def _cal(ceiling: float = 0.1, generation: int = 3, segments: int = 100) -> Calibration:
    return Calibration("m", generation, segments, 500, ceiling, null_gaps=[0.05, 0.08, ceiling], background=0.4)


def _moment(score: float, file_id: int = 1, start: float = 0.0) -> Moment:
    return Moment(f"/f{file_id}.mp4", file_id, start, start + 1.0, score, start)


def test_confidence_is_half_at_the_null_ceiling_and_monotone():
    assert confidence(0.1, 0.1) == pytest.approx(0.5)
    gaps = [-0.2, 0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8]
    confs = [confidence(g, 0.1) for g in gaps]
    assert confs == sorted(confs) and confs[0] == 0.0 and confs[-1] > 0.99
    assert confidence(0.2, 0.1) > 0.9 and confidence(0.05, 0.1) < 0.1
    # Scale-free: the same ratio to the ceiling reads the same in any model's cosine units.
    assert confidence(0.02, 0.01) == pytest.approx(confidence(0.4, 0.2))


def test_ceiling_is_a_high_quantile_so_one_matching_null_query_cannot_lift_it():
    gaps = [0.05] * 30 + [0.9]
    assert cal_mod.ceiling_of(gaps) == pytest.approx(0.05)
    assert cal_mod.ceiling_of([]) == cal_mod.MIN_CEILING


def test_rate_orders_by_score_and_confidence_alike():
    ms = [_moment(s, i) for i, s in enumerate([0.45, 0.9, 0.62, 0.8, 0.5])]
    out = rate(ms, median=0.4, cal=_cal())
    assert [m.score for m in out] == sorted((m.score for m in ms), reverse=True)
    assert [m.confidence for m in out] == sorted((m.confidence for m in out), reverse=True)
    # The best keeps its absolute confidence; a moment with a fraction of its gap drops.
    assert out[0].confidence == pytest.approx(confidence(0.5, 0.1))
    assert relative(0.5, 0.5) == pytest.approx(1.0) and relative(0.1, 0.5) < 0.01


def test_tail_cut_where_confidence_drops_and_best_always_shown():
    good = rate([_moment(s, i) for i, s in enumerate([0.9, 0.88, 0.86, 0.6, 0.55, 0.5])], 0.4, _cal())
    head, tail = cut_tail(good)
    assert [m.score for m in head] == [0.9, 0.88, 0.86]
    assert all(m.confidence >= GOOD for m in head) and all(m.confidence < GOOD for m in tail)
    weak = rate([_moment(s, i) for i, s in enumerate([0.48, 0.47, 0.42])], 0.4, _cal())
    head, tail = cut_tail(weak)
    assert head[0].score == 0.48 and head[0].confidence < GOOD
    assert all(m.confidence >= 0.5 * head[0].confidence for m in head)
    assert cut_tail([]) == ([], [])


def test_stale_only_when_the_library_moved_enough():
    c = _cal(generation=3, segments=100)
    assert not c.stale(3, 500)  # same generation: same library
    assert not c.stale(4, 105)  # a few more segments: the ceiling barely moves
    assert c.stale(4, 120) and c.stale(4, 80)


def test_sidecar_round_trip_and_bad_sidecars_are_ignored(tmp_path):
    path = cal_mod.sidecar_path(tmp_path, "org/model:v1")
    assert path.parent == tmp_path and "/" not in path.name[len("calibration-") :]
    c = _cal()
    assert cal_mod.save(path, c)
    assert cal_mod.load(path, "m") == c
    assert cal_mod.load(path, "another-model") is None
    assert cal_mod.load(tmp_path / "missing.json", "m") is None
    for junk in ("", "{", "[]", json.dumps({"model_id": "m"}), json.dumps({**c.to_json(), "version": 99})):
        path.write_text(junk, encoding="utf-8")
        assert cal_mod.load(path, "m") is None, junk
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert cal_mod.load(path, "m") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_save_on_a_read_only_folder_is_a_quiet_no(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert not cal_mod.save(cal_mod.sidecar_path(folder, "m"), _cal())
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_compute_runs_every_null_query_and_skips_empty_ones():
    seen = []

    def stats(text: str) -> tuple[float, float]:
        seen.append(text)
        if text == cal_mod.NULL_QUERIES[0]:
            raise ValueError("empty after tokenizing")
        return 0.5 + 0.001 * len(seen), 0.45

    c = cal_mod.compute("m", 7, 42, 300, stats)
    assert seen == list(cal_mod.NULL_QUERIES)
    assert len(c.null_gaps) == len(cal_mod.NULL_QUERIES) - 1
    assert c.ceiling == pytest.approx(cal_mod.ceiling_of(c.null_gaps))
    assert (c.generation, c.segments, c.sample_frames, c.background) == (7, 42, 300, pytest.approx(0.45))
    j = c.to_json()
    assert j["null_queries"] == len(c.null_gaps) and j["null_ceiling"] == round(c.ceiling, 5)


def test_a_words_hit_is_good_on_the_same_scale():
    """Word hits (0.63..0.99, words/search.py) sit above GOOD; fused with weak visual moments they lead."""
    from reelseek.core.words.search import P_ALL_TERMS, P_SHORT_QUERY

    assert min(P_ALL_TERMS, P_SHORT_QUERY) * 0.75 >= GOOD  # the weakest: a short query heard at 0 confidence
    visual = rate([_moment(0.46, 1), _moment(0.45, 2)], 0.4, _cal())
    words = [Moment("/f3.mp4", 3, 2.0, 3.0, 0.9, 2.0, confidence=0.9, sources=("subtitle",))]
    fused = fuse(visual, words, per_file=3, limit=10)
    assert fused[0].file_id == 3 and fused[0].confidence >= GOOD
    assert SearchResult(fused).no_good_match is False
