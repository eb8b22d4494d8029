"""Relevance feedback math, the undoable marks of a query, and a moment's stored vector (more like this)."""

from __future__ import annotations

import numpy as np
import pytest

from reelseek.core.feedback import IRRELEVANT, RELEVANT, FeedbackMarks, Rocchio, normalise, refine
from reelseek.core.similar import MomentNotFound, MomentRef, parse_moment, parse_seconds, resolve
from reelseek.core.store import NewSegment, Store

DIM = 8


def _unit(*xs: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(xs)] = xs
    return normalise(v)


# -- Rocchio ---------------------------------------------------------------------------------------


def test_no_marks_leaves_the_query_as_it_was():
    q = _unit(1, 2, 3)
    assert np.allclose(refine(q), q)


def test_refine_is_the_documented_formula_normalised():
    q, r1, r2, n = _unit(1), _unit(0, 1), _unit(0, 0, 1), _unit(0, 0, 0, 1)
    w = Rocchio(alpha=1.0, beta=0.75, gamma=0.15)
    want = 1.0 * q + 0.75 * (r1 + r2) / 2 - 0.15 * n
    got = refine(q, [r1, r2], [n], w)
    assert np.allclose(got, want / np.linalg.norm(want), atol=1e-6)
    assert np.isclose(np.linalg.norm(got), 1.0, atol=1e-6)


def test_relevant_pulls_the_query_towards_it_and_irrelevant_pushes_away():
    rng = np.random.default_rng(3)
    q, rel, irr = (normalise(rng.normal(size=DIM)) for _ in range(3))
    up = refine(q, [rel])
    down = refine(q, irrelevant=[irr])
    assert up @ rel > q @ rel
    assert down @ irr < q @ irr
    # Unnormalised inputs weigh the same as normalised ones (a moment's mean frame is not unit length).
    assert np.allclose(refine(q, [rel * 7.0]), up, atol=1e-6)


def test_cancelled_out_weights_fall_back_to_the_query():
    q = _unit(1)
    assert np.allclose(refine(q, irrelevant=[q], weights=Rocchio(1.0, 0.0, 1.0)), q)


# -- marks and undo --------------------------------------------------------------------------------


def test_a_thumb_toggles_flips_and_every_click_undoes():
    fb = FeedbackMarks()
    assert not fb and not fb.can_undo()
    assert fb.mark("/a.mp4", 0, 4, RELEVANT) == RELEVANT
    assert fb.mark("/b.mp4", 2, 3, IRRELEVANT) == IRRELEVANT
    assert [m.path for m in fb.relevant()] == ["/a.mp4"] and [m.path for m in fb.irrelevant()] == ["/b.mp4"]
    # A re-ranked card localised a little differently is still the marked moment.
    assert fb.value_of("/a.mp4", 0.5, 4.5) == RELEVANT
    assert fb.value_of("/a.mp4", 5, 6) == 0
    assert fb.mark("/a.mp4", 0.5, 3.5, IRRELEVANT) == IRRELEVANT  # flipped, not added twice
    assert len(fb.marks()) == 2
    assert fb.mark("/a.mp4", 0, 4, IRRELEVANT) == 0  # the same thumb again clears it
    assert [m.path for m in fb.marks()] == ["/b.mp4"]
    assert fb.undo() and fb.value_of("/a.mp4", 0, 4) == IRRELEVANT
    assert fb.undo() and fb.value_of("/a.mp4", 0, 4) == RELEVANT
    assert fb.undo() and fb.undo()
    assert not fb and not fb.undo()


def test_a_mark_is_plus_or_minus_one():
    with pytest.raises(ValueError):
        FeedbackMarks().mark("/a.mp4", 0, 1, 2)


# -- naming a moment -------------------------------------------------------------------------------


def test_parse_moment_forms(tmp_path):
    f = tmp_path / "take@home.mov"
    assert parse_moment(f"{f}@1.5-4") == MomentRef(str(f), 1.5, 4.0)
    assert parse_moment(f"{f}@1:02") == MomentRef(str(f), 62.0, 62.0)
    assert parse_moment(str(f)) == MomentRef(str(f), None, None)  # the @ belongs to the name
    assert parse_moment(str(f), at=3.0) == MomentRef(str(f), 3.0, 3.0)
    with pytest.raises(MomentNotFound, match="before it starts"):
        parse_moment(f"{f}@5-2")
    with pytest.raises(MomentNotFound, match="not both"):
        parse_moment(f"{f}@5", at=2.0)
    with pytest.raises(ValueError):
        parse_seconds("-3")


def _frames(start: float, end: float, direction: np.ndarray, n: int = 4) -> NewSegment:
    rng = np.random.default_rng(int(start * 10))
    frames = np.stack([normalise(direction + 0.05 * rng.normal(size=DIM)) for _ in range(n)])
    times = np.linspace(start, end, n, endpoint=False)
    return NewSegment(start, end, start, normalise(frames.mean(0)), times, frames, None)


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "lib.db")
    video = tmp_path / "a.mp4"
    fid = s.upsert_file(video, None, 10, 1, "fp")
    s.commit_file(fid, "m", [_frames(0, 4, _unit(1)), _frames(4, 8, _unit(0, 1))], duration=8.0, width=64, height=64)
    yield s, video
    s.close()


def test_resolve_reads_the_moments_own_stored_frames(store):
    s, video = store
    first = resolve(s, "m", MomentRef(str(video), 0.0, 3.0))
    assert (first.start, first.end) == (0.0, 3.0)
    assert first.vector @ _unit(1) > 0.95 and np.isclose(np.linalg.norm(first.vector), 1, atol=1e-5)
    # A single time is the shot around it (the frames that look like it), cut at the segment edge.
    shot = resolve(s, "m", MomentRef(str(video), 5.0, 5.0))
    assert (shot.start, shot.end) == (4.0, 8.0) and shot.vector @ _unit(0, 1) > 0.95
    # A range straddling the cut averages both shots.
    both = resolve(s, "m", MomentRef(str(video), 2.0, 6.0))
    assert both.vector @ _unit(1) > 0.5 and both.vector @ _unit(0, 1) > 0.5
    whole = resolve(s, "m", MomentRef(str(video)))
    assert (whole.start, whole.end) == (0.0, 8.0)


def test_a_single_time_in_a_one_segment_file_is_its_own_shot_only(tmp_path):
    """Short files are one segment whatever they show: the shot comes from the frames."""
    s = Store(tmp_path / "lib.db")
    video = tmp_path / "short.mp4"
    fid = s.upsert_file(video, None, 10, 1, "fp")
    a, b = _frames(0, 4, _unit(1)), _frames(4, 8, _unit(0, 1))
    one = NewSegment(
        0.0, 8.0, 1.0, a.vector, np.concatenate([a.times, b.times]), np.concatenate([a.frames, b.frames]), None
    )
    s.commit_file(fid, "m", [one], duration=8.0, width=64, height=64)
    shot = resolve(s, "m", MomentRef(str(video), 6.0, 6.0))
    # Frames at 4, 5, 6, 7 s; the first one's cell starts halfway from the last frame before it.
    assert (shot.start, shot.end) == (3.5, 8.0), shot
    assert shot.vector @ _unit(0, 1) > 0.95
    s.close()


def test_resolve_refuses_what_is_not_in_the_library(store, tmp_path):
    s, video = store
    with pytest.raises(MomentNotFound, match="not in the library"):
        resolve(s, "m", MomentRef(str(tmp_path / "b.mp4"), 0, 1))
    with pytest.raises(MomentNotFound, match=r"outside a\.mp4"):
        resolve(s, "m", MomentRef(str(video), 9.0, 12.0))
    with pytest.raises(MomentNotFound, match="no indexed frames"):
        resolve(s, "another-model", MomentRef(str(video), 1.0, 2.0))
