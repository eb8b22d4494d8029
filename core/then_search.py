"""``A then B``: moments where each step's frame-score peak follows the previous one within a window."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .moments import Found, LocalizeConfig, edges_for, localize
from .query_syntax import ParsedQuery, QuerySyntaxError
from .store import OFFLINE, SegmentRow, frames_f32, fs_path
from .store_search import SegmentFile
from .types import Filters, Moment, Query, SearchResult
from .weighted_query import step_vector

if TYPE_CHECKING:
    from .search import Searcher


@dataclass(frozen=True)
class ThenConfig:
    peaks_per_run: int = 8  # ranges taken from each step's curve over a run of frames
    # A step's range counts when it is clearly above the library's background for that step
    # (calibrated confidence, 0.5 at z = 3) and reaches this share of the way from that background
    # to the step's best range among the candidates. The share does most of the work: a step whose
    # background is wide (many similar frames) gets a low z even for its right scene, while a
    # weak bump of A after B stays under the share. Chosen on a generated 10-file library
    # (docs/query-syntax.md): 0.3/0.5 found 20 of 24 scene pairs, 0.1/0.6 all 24 with 2 stray files.
    min_step_confidence: float = 0.1
    min_share_of_best: float = 0.6
    max_files: int = 96  # files whose frames are scored (those found by every step in stage 1)


@dataclass(frozen=True)
class _Hit:
    found: Found
    confidence: float
    z: float = 0.0  # standard scores above the step's background: orders ranges whose confidence saturates


def search_sequence(
    searcher: Searcher,
    query: Query,
    parsed: ParsedQuery,
    *,
    limit: int = 20,
    filters: Filters | None = None,
    config: ThenConfig | None = None,
) -> SearchResult:
    """Rank moments where step 1, then step 2, ... match in that order, each within its window.

    Every step gets its own query vector and calibration (``_background_stats``); on each candidate
    file the per-frame score curve of every step is localized into ranges, and chains of ranges in
    time order are kept. A chain is as good as its weakest step; its moment covers all steps.
    """
    if query.images or query.clips:
        raise QuerySyntaxError("'then' works on described steps: remove the dropped still or clip, or the 'then'")
    from .search import _cap_per_file

    cfg = config or ThenConfig()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    vecs = [step_vector(searcher, s, query, media=False) for s in parsed.steps]
    windows = [parsed.window(i, query.then_window) for i in range(len(vecs) - 1)]
    timings["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    stats = [searcher._background_stats(v) for v in vecs]
    files = _candidate_files(searcher, vecs, filters or Filters(), limit, cfg.max_files)
    timings["stage1"] = time.perf_counter() - t
    t = time.perf_counter()
    loc = dataclasses.replace(searcher.config.localize, max_per_run=cfg.peaks_per_run)
    reach = sum(windows)
    per_file: list[tuple[SegmentFile, list[list[_Hit]]]] = []
    for info, (lo, hi) in files:
        segs = searcher.store.neighbour_segments(info.file_id, searcher.model_id, lo - reach, hi + reach)
        per_file.append((info, _step_hits(segs, vecs, stats, loc)))
    tops = [max((h.found.score for _i, hits in per_file for h in hits[i]), default=0.0) for i in range(len(vecs))]
    floors = [m + cfg.min_share_of_best * (top - m) for (m, _s, _t), top in zip(stats, tops, strict=True)]
    moments: list[Moment] = []
    order: list[tuple[float, float]] = []  # (weakest confidence, weakest z) of each moment
    for file, hits in per_file:
        kept = [
            [h for h in step if h.confidence >= cfg.min_step_confidence and h.found.score >= floor]
            for step, floor in zip(hits, floors, strict=True)
        ]
        for chain in chains(kept, windows):
            weakest = min(chain, key=lambda h: (h.confidence, h.z))
            order.append((weakest.confidence, min(h.z for h in chain)))
            moments.append(
                Moment(
                    fs_path(file.key),
                    file.file_id,
                    min(h.found.start for h in chain),
                    max(h.found.end for h in chain),
                    weakest.found.score,
                    chain[0].found.best_time,
                    confidence=weakest.confidence,
                    offline=file.status == OFFLINE,
                    duration=file.duration,
                    steps=tuple((h.found.start, h.found.end, h.confidence) for h in chain),
                )
            )
    ranked = sorted(range(len(moments)), key=lambda k: order[k], reverse=True)
    moments = [moments[k] for k in ranked]
    moments = _cap_per_file(moments, searcher.config.per_file)[:limit]
    timings["stage2"] = time.perf_counter() - t
    # Every step of a kept chain already stood out of its own background; none kept means no match.
    return SearchResult(moments=moments, no_good_match=not moments, timings=timings)


def _step_hits(
    segs: list[SegmentRow], vecs: list[np.ndarray], stats: list[tuple[float, float, float]], loc: LocalizeConfig
) -> list[list[_Hit]]:
    """Every step's ranges over a file's loaded segments, with their calibrated confidence."""
    from .search import _runs, _with_confidence

    hits: list[list[_Hit]] = [[] for _ in vecs]
    for run in _runs(segs):
        times = np.concatenate([s.times for s in run]).astype(np.float64)
        if len(times) == 0:
            continue
        frames = frames_f32([s.frames for s in run])
        edges = edges_for(times, run[0].start, run[-1].end)
        for i, (v, (median, spread, _top)) in enumerate(zip(vecs, stats, strict=True)):
            for f in localize(times, frames @ v, edges, median, loc):
                probe = Moment("", 0, f.start, f.end, f.score, f.best_time)
                conf = _with_confidence(probe, median, spread).confidence
                hits[i].append(_Hit(f, conf, (f.score - median) / spread))
    return hits


def _candidate_files(
    searcher: Searcher, vecs: list[np.ndarray], filters: Filters, limit: int, max_files: int
) -> list[tuple[SegmentFile, tuple[float, float]]]:
    """Files that every step's stage 1 found, best (by summed rank) first, with the span of those segments."""
    cfg = searcher.config
    per_step: list[dict[int, int]] = []
    info: dict[int, SegmentFile] = {}
    seg_ids: list[int] = []
    for v in vecs:
        ranks: dict[int, int] = {}
        for rank, c in enumerate(searcher._stage1(v, filters, max(cfg.stage1_k, limit * 4))):
            ranks.setdefault(c.file.file_id, rank)
            info[c.file.file_id] = c.file
            seg_ids.append(c.segment_id)
        per_step.append(ranks)
    common = set(per_step[0]).intersection(*per_step[1:])
    best = sorted(common, key=lambda fid: sum(r[fid] for r in per_step))[:max_files]
    spans: dict[int, tuple[float, float]] = {}
    wanted = set(best)
    for s in searcher.store.segments_by_ids(sorted(set(seg_ids))):
        if s.file_id in wanted:
            lo, hi = spans.get(s.file_id, (s.start, s.end))
            spans[s.file_id] = (min(lo, s.start), max(hi, s.end))
    return [(info[fid], spans[fid]) for fid in best if fid in spans]


def follows(a: Found, b: Found, window: float) -> bool:
    """B comes after A: its peak later, its range not starting or ending earlier, the gap at most ``window``."""
    return b.best_time > a.best_time and b.start >= a.start and b.end >= a.end and b.start - a.end <= window


def chains(hits: list[list[_Hit]], windows: list[float]) -> list[list[_Hit]]:
    """For each range of the last step, the best chain of ranges (one per step, in order) ending there.

    Best = the highest weakest (confidence, z) (dynamic programming over steps), then the highest sum of z.
    Chains that overlap a better one are dropped, so one occurrence gives one moment.
    """
    best: list[tuple[tuple[float, float, float], list[_Hit]]] = [((h.confidence, h.z, h.z), [h]) for h in hits[0]]
    for i in range(1, len(hits)):
        nxt = []
        for h in hits[i]:
            options = [
                ((*min(k[:2], (h.confidence, h.z)), k[2] + h.z), [*c, h])
                for k, c in best
                if follows(c[-1].found, h.found, windows[i - 1])
            ]
            if options:
                nxt.append(max(options, key=lambda o: o[0]))
        best = nxt
    best.sort(key=lambda o: o[0], reverse=True)
    kept: list[list[_Hit]] = []
    for _k, c in best:
        lo, hi = c[0].found.start, max(h.found.end for h in c)
        if all(hi <= k[0].found.start or lo >= max(h.found.end for h in k) for k in kept):
            kept.append(c)
    return kept
