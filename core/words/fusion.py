"""Fusing word moments with visual moments: one list, one entry per range, calibrated probabilities."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..types import Moment
from .query import SEEN

SEEN_MIN = 0.5  # a visual moment counts as a matching source ("seen") from this confidence up
NEIGHBOUR_GAP_S = 1.0  # word hits closer than this in one file are one moment (a phrase over two cues)


def merge_neighbours(moments: Sequence[Moment], gap: float = NEIGHBOUR_GAP_S) -> list[Moment]:
    """Join word moments of the same file that overlap or nearly touch; the stronger one leads."""
    out: list[Moment] = []
    for m in sorted(moments, key=lambda m: (m.file_id, m.start)):
        last = out[-1] if out else None
        if last is not None and last.file_id == m.file_id and m.start <= last.end + gap:
            out[-1] = _join(last, m, start=min(last.start, m.start), end=max(last.end, m.end))
        else:
            out.append(m)
    return out


def fuse(visual: Sequence[Moment], words: Sequence[Moment], *, per_file: int, limit: int) -> list[Moment]:
    """One ranked list from visual moments (confidence calibrated per query against the library)
    and word moments (confidence from match quality, see words/search.py).

    A word moment that overlaps a visual moment of the same file takes it over: the range is
    the words' range (words are precise in time, a visual range is a whole stretch of look-alike
    frames), the sources are both, and the probability is a noisy-OR of the two,
    1 - (1 - p_seen)(1 - p_words): independent evidence adds up, and either alone keeps its
    own strength, so a strong subtitle hit is never buried under weak visual ones.
    """
    remaining = list(visual)
    fused: list[Moment] = []
    for w in words:
        hit = next(
            (v for v in remaining if v.file_id == w.file_id and min(v.end, w.end) - max(v.start, w.start) > 0), None
        )
        if hit is None:
            fused.append(w)
            continue
        remaining.remove(hit)
        fused.append(
            dataclasses.replace(
                w,
                score=hit.score,
                confidence=noisy_or(hit.confidence, w.confidence),
                # A visual moment that only looks like noise for this query is absorbed (not
                # listed twice) but does not claim the match.
                sources=_sources(hit.sources if hit.confidence >= SEEN_MIN else (), w.sources),
            )
        )
    fused += remaining
    fused.sort(key=lambda m: (m.confidence, m.score), reverse=True)
    counts: dict[int, int] = {}
    out = []
    for m in fused:
        if counts.get(m.file_id, 0) < per_file:
            out.append(m)
            counts[m.file_id] = counts.get(m.file_id, 0) + 1
    return out[:limit]


def noisy_or(*ps: float) -> float:
    q = 1.0
    for p in ps:
        q *= 1.0 - min(max(p, 0.0), 1.0)
    return 1.0 - q


def _sources(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
    order = (SEEN, "said", "written", "subtitle")
    got = set(a) | set(b)
    return tuple(s for s in order if s in got)


def _join(a: Moment, b: Moment, *, start: float, end: float) -> Moment:
    lead = a if a.confidence >= b.confidence else b
    words = tuple(sorted({*a.words, *b.words}))
    return dataclasses.replace(
        lead,
        start=start,
        end=end,
        best_time=lead.best_time,
        confidence=noisy_or(a.confidence, b.confidence) if a.sources != b.sources else lead.confidence,
        sources=_sources(a.sources, b.sources),
        words=words,
    )
