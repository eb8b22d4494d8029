"""Cut a file's frame vectors into segments: the coarse units that stage 1 searches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SegmentConfig:
    """Segments are groups of whole shots, a few seconds to tens of seconds long.

    They are deliberately coarser than a moment: stage 1 only has to put the right segment
    in its short list, and stage 2 finds the moment inside it on the frame vectors. Coarse
    segments keep the ANN index small (1 M segments is thousands of hours of footage).
    """

    cut_threshold: float = 0.85  # cosine between consecutive frames below which a shot ends
    min_len: float = 8.0  # seconds: shorter shots are merged with their neighbours
    max_len: float = 24.0  # seconds: longer shots are split evenly


@dataclass(frozen=True)
class Span:
    first: int  # index of the first frame
    last: int  # index of the last frame (inclusive)
    start: float  # seconds
    end: float
    best: int  # index of the most typical frame (closest to the segment mean)
    vector: np.ndarray  # normalised mean of the frame vectors


def shot_boundaries(vectors: np.ndarray, threshold: float) -> list[int]:
    """Indices i where a new shot starts at frame i (cosine(v[i-1], v[i]) < threshold)."""
    if len(vectors) < 2:
        return []
    sims = np.einsum("ij,ij->i", vectors[:-1], vectors[1:])
    return [int(i) + 1 for i in np.flatnonzero(sims < threshold)]


def _edges(times: np.ndarray, duration: float) -> np.ndarray:
    """Time boundaries between samples: 0, midpoints, duration."""
    mids = (times[:-1] + times[1:]) / 2 if len(times) > 1 else np.zeros(0)
    end = max(float(duration), float(times[-1])) if len(times) else float(duration)
    return np.concatenate([[0.0], mids, [end]])


def segment(times: np.ndarray, vectors: np.ndarray, duration: float, config: SegmentConfig | None = None) -> list[Span]:
    """Group frames into segments.

    Args:
        times: (n,) sample times in seconds, increasing.
        vectors: (n, dim) L2-normalised frame vectors.
        duration: the file's duration (the last segment ends there).
        config: thresholds and lengths.

    Returns:
        Spans covering [0, duration] without gaps or overlaps.
    """
    cfg = config or SegmentConfig()
    n = len(times)
    if n == 0:
        return []
    edges = _edges(np.asarray(times, dtype=np.float64), duration)
    cuts = [0, *shot_boundaries(vectors, cfg.cut_threshold), n]
    shots = [(cuts[i], cuts[i + 1] - 1) for i in range(len(cuts) - 1)]

    def length(a: int, b: int) -> float:
        return float(edges[b + 1] - edges[a])

    # Split over-long shots evenly.
    pieces: list[tuple[int, int]] = []
    for a, b in shots:
        total = length(a, b)
        k = int(np.ceil(total / cfg.max_len)) if total > cfg.max_len else 1
        if k == 1:
            pieces.append((a, b))
            continue
        bounds = np.linspace(edges[a], edges[b + 1], k + 1)
        idx = [a] + [int(np.searchsorted(edges[a : b + 2], t) + a) for t in bounds[1:-1]] + [b + 1]
        for i in range(k):
            if idx[i + 1] > idx[i]:
                pieces.append((idx[i], idx[i + 1] - 1))

    # Merge short pieces with their neighbours, never past max_len.
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        if merged:
            pa, pb = merged[-1]
            if length(pa, pb) < cfg.min_len and length(pa, b) <= cfg.max_len:
                merged[-1] = (pa, b)
                continue
        merged.append((a, b))
    if len(merged) > 1:
        pa, pb = merged[-2]
        la, lb = merged[-1]
        if length(la, lb) < cfg.min_len / 2 and length(pa, lb) <= cfg.max_len * 1.25:
            merged[-2:] = [(pa, lb)]

    spans = []
    for a, b in merged:
        v = vectors[a : b + 1].astype(np.float32)
        mean = v.mean(axis=0)
        mean /= np.linalg.norm(mean) + 1e-12
        best = a + int(np.argmax(v @ mean))
        spans.append(Span(a, b, float(edges[a]), float(edges[b + 1]), best, mean))
    return spans
