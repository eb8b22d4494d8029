"""Temporal localization: turn per-frame scores along a file into ranked time ranges."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LocalizeConfig:
    drop: float = 0.5  # a range ends where the curve falls this fraction of the way to the background
    min_drop: float = 0.01  # ... but never tighter than this (cosine units)
    max_per_run: int = 3  # moments taken from one contiguous run of frames
    smooth: bool = True


@dataclass(frozen=True)
class Found:
    start: float
    end: float
    score: float
    best_time: float


def edges_for(times: np.ndarray, first_edge: float, last_edge: float) -> np.ndarray:
    """Boundaries of the time cell each sample stands for: first_edge, midpoints, last_edge."""
    mids = (times[:-1] + times[1:]) / 2 if len(times) > 1 else np.zeros(0)
    return np.concatenate([[first_edge], mids, [last_edge]])


def smooth(scores: np.ndarray) -> np.ndarray:
    """A [1, 2, 1]/4 filter: one noisy frame neither makes nor breaks a moment."""
    if len(scores) < 3:
        return scores.astype(np.float32)
    padded = np.concatenate([scores[:1], scores, scores[-1:]]).astype(np.float32)
    return (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4


def localize(
    times: np.ndarray,
    scores: np.ndarray,
    edges: np.ndarray,
    background: float,
    config: LocalizeConfig | None = None,
) -> list[Found]:
    """Find peaks in a run of frame scores and grow each into a range.

    Args:
        times: (n,) sample times of a contiguous run of frames.
        scores: (n,) similarity of each frame to the query.
        edges: (n + 1,) time boundaries of each frame's cell (see ``edges_for``).
        background: the score of an unrelated frame for this query (for example the mean
            over a random sample of the library); ranges stop where the curve has fallen
            ``drop`` of the way from the peak towards it.
        config: thresholds.

    Returns:
        Non-overlapping ranges, best first.
    """
    cfg = config or LocalizeConfig()
    n = len(times)
    if n == 0:
        return []
    curve32 = smooth(scores) if cfg.smooth else scores.astype(np.float32)
    # Walked as Python floats (a search runs this ~70 times; numpy scalar reads were most of
    # it). Each value is a float32 held exactly; the threshold is rounded to float32 too, so
    # every comparison is the float32 comparison numpy made on the arrays.
    curve: list[float] = curve32.tolist()
    raw: list[float] = np.asarray(scores).tolist()
    used = [False] * n
    left = n
    found: list[Found] = []
    while len(found) < cfg.max_per_run and left:
        peak = max((i for i in range(n) if not used[i]), key=curve.__getitem__)  # first of equal maxima
        top = curve[peak]
        if found and top <= background:
            break
        threshold = float(np.float32(top - max(cfg.min_drop, cfg.drop * (top - background))))
        lo = peak
        while lo > 0 and not used[lo - 1] and curve[lo - 1] >= threshold:
            lo -= 1
        hi = peak
        while hi < n - 1 and not used[hi + 1] and curve[hi + 1] >= threshold:
            hi += 1
        for i in range(lo, hi + 1):
            used[i] = True
        left -= hi + 1 - lo
        best = max(range(lo, hi + 1), key=raw.__getitem__)
        # The range's score mixes its peak and its raw best frame, so a single lucky frame
        # next to weak neighbours ranks below a sustained match.
        score = 0.5 * top + 0.5 * raw[best]
        found.append(Found(float(edges[lo]), float(edges[hi + 1]), score, float(times[best])))
    found.sort(key=lambda f: f.score, reverse=True)
    return found
