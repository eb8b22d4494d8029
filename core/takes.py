"""Retakes and duplicates: result moments that show the same shot, grouped from their stored frame vectors."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .types import Moment, SearchResult

if TYPE_CHECKING:
    from .store import SegmentRow, Store


@dataclass(frozen=True)
class TakesConfig:
    """Thresholds measured on generated libraries with the test model (see docs/search.md, "Takes")."""

    window_factor: int = 3  # the top limit x this many moments are compared, never the whole library
    window_max: int = 90
    # Two aligned frames this similar show the same picture. Measured with the test model: frames of
    # one shot across re-encodes, trims and proxies >= 0.982 (5th percentile); frames of different
    # shots, the same red circle on another background included, <= 0.743.
    frame_cos: float = 0.90
    match_share: float = 0.8  # share of the overlap's frames that must show the same picture
    min_overlap: int = 2  # aligned frames needed before anything is called the same shot
    min_length_ratio: float = 0.25  # ranges this unequal in length are not one shot's moment
    pad: float = 3.0  # seconds of context around the other range, so offsets/trims still align
    tie: float = 0.01  # raw score gap within which the higher-resolution take becomes the face


@dataclass(frozen=True)
class Shot:
    """What the grouping knows of one moment: its frames (with times), file fingerprint and picture size."""

    times: np.ndarray  # (n,) seconds of the sampled frames around the moment (range +- pad)
    frames: np.ndarray  # (n, dim) float32 normalised frame vectors
    fingerprint: str | None = None
    pixels: int = 0  # width x height of the file, to prefer originals over proxies
    duration: float = 0.0  # of the whole file, to prefer the untrimmed original over a trimmed copy


@dataclass
class TakesStats:
    """Work done, counted so tests can prove the grouping stays on the top results."""

    moments: int = 0  # moments looked at (the window)
    pairs: int = 0  # pairs compared
    fingerprint_same: int = 0  # decided by the identical-file fingerprint
    cheap_rejects: int = 0  # decided by length ratio or mean-vector cosine, without aligning
    alignments: int = 0  # frame-sequence alignments run


@dataclass(frozen=True)
class Alignment:
    offset: float  # seconds to add to a time in A to reach the same picture in B
    overlap: int  # A frames that have a B frame at the aligned time
    matched: int  # of those, frames at least frame_cos alike
    mean_cos: float


def window(limit: int, config: TakesConfig | None = None) -> int:
    """How many ranked moments to fetch so that `limit` cards remain after takes collapse."""
    cfg = config or TakesConfig()
    return max(limit, min(limit * cfg.window_factor, cfg.window_max))


def align(ta: np.ndarray, fa: np.ndarray, tb: np.ndarray, fb: np.ndarray, frame_cos: float) -> Alignment | None:
    """Best time offset between two frame sequences, and how well the frames agree at it.

    Candidate offsets come from each A frame's most similar B frame; every candidate is scored
    by pairing each A frame with the B frame nearest its shifted time (within 0.6 of the sampling
    step, so a copy trimmed off the sampling grid still pairs up).
    """
    if len(ta) == 0 or len(tb) == 0:
        return None
    sims = fa @ fb.T
    step = _step(ta, tb)
    offs = np.array(sorted({round(float(tb[j] - ta[i]), 3) for i, j in enumerate(sims.argmax(axis=1))}))
    # Every candidate offset at once (one row each): this ran in a Python loop per offset and
    # was most of a search's time at 100 k segments (about 100 offsets x 10 numpy calls a pair).
    pos = ta[None, :] + offs[:, None]
    if len(tb) > 1:
        k = np.searchsorted(tb, pos).clip(1, len(tb) - 1)
        left = k - 1
        k = np.where(np.abs(tb[left] - pos) <= np.abs(tb[k] - pos), left, k)
    else:
        k = np.zeros(pos.shape, dtype=np.intp)
    near = np.abs(tb[k] - pos) <= 0.6 * step
    overlap = near.sum(axis=1)
    if not overlap.any():
        return None
    c = sims[np.arange(len(ta))[None, :], k]
    matched = ((c >= frame_cos) & near).sum(axis=1)
    mean = np.where(overlap > 0, np.where(near, c, 0.0).sum(axis=1) / np.maximum(overlap, 1), -np.inf)
    ok = np.flatnonzero(overlap > 0)
    # Most frames alike, then the highest mean cosine; on a tie the smallest offset (as before).
    best = ok[np.lexsort((-ok, mean[ok], matched[ok]))[-1]]
    return Alignment(float(offs[best]), int(overlap[best]), int(matched[best]), float(mean[best]))


def _step(ta: np.ndarray, tb: np.ndarray) -> float:
    diffs = np.concatenate([np.diff(ta), np.diff(tb)])
    diffs = diffs[diffs > 1e-6]
    return float(np.median(diffs)) if len(diffs) else 1.0


@dataclass(frozen=True)
class _Core:
    """A moment's frames inside its own range, and their unit mean: computed once per moment,
    not once per pair (the pairs of a 60-moment window recomputed them ~1,000 times a search)."""

    mask: np.ndarray  # frames of the shot inside the moment's range
    mean: np.ndarray | None  # unit mean of those frames (all frames if none is inside); None if no frames


def _core(m: Moment, s: Shot) -> _Core:
    mask = (s.times >= m.start - 1e-3) & (s.times <= m.end + 1e-3)
    frames = s.frames[mask] if mask.any() else s.frames
    return _Core(mask, _unit(frames.mean(axis=0)) if len(frames) else None)


def same_shot(
    a: Moment,
    sa: Shot,
    b: Moment,
    sb: Shot,
    cfg: TakesConfig,
    stats: TakesStats,
    cores: tuple[_Core, _Core] | None = None,
) -> bool:
    """Whether two moments of different files show the same shot: cheap checks first, then alignment."""
    stats.pairs += 1
    if sa.fingerprint and sa.fingerprint == sb.fingerprint:
        # Byte-identical files: the same shot wherever the two ranges overlap.
        stats.fingerprint_same += 1
        if min(a.end, b.end) > max(a.start, b.start):
            return True
    la, lb = max(a.end - a.start, 1e-3), max(b.end - b.start, 1e-3)
    ca, cb = cores if cores is not None else (_core(a, sa), _core(b, sb))
    core_a, core_b = ca.mask, cb.mask
    if min(la, lb) / max(la, lb) < cfg.min_length_ratio or not core_a.any() or len(sb.times) == 0:
        stats.cheap_rejects += 1
        return False
    assert ca.mean is not None and cb.mean is not None  # both have frames (checked just above)
    # The means of two runs of the same pictures sit close together; far apart, no offset can help.
    if float(ca.mean @ cb.mean) < cfg.frame_cos - 0.15:
        stats.cheap_rejects += 1
        return False
    stats.alignments += 1
    al = align(sa.times[core_a], sa.frames[core_a], sb.times, sb.frames, cfg.frame_cos)
    if al is None:
        return False
    n_a, n_b = int(core_a.sum()), max(int(core_b.sum()), 1)
    # Most of the shorter range must line up: a glancing overlap of two shots proves nothing.
    need = max(min(cfg.min_overlap, n_a, n_b), int(0.5 * min(n_a, n_b)), 1)
    return al.overlap >= need and al.matched >= cfg.match_share * al.overlap


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


@dataclass
class _Group:
    members: list[int] = field(default_factory=list)  # indexes into the window, best rank first


def group_moments(
    moments: Sequence[Moment],
    shot_of: Callable[[Moment], Shot],
    *,
    config: TakesConfig | None = None,
    stats: TakesStats | None = None,
) -> list[Moment]:
    """Moments in rank order with the takes of one shot folded into one: the face carries `takes`.

    The face is the best-scoring take; takes within `tie` of it go to the larger picture (the
    original over its proxy). Groups keep the rank of their best member.
    """
    cfg = config or TakesConfig()
    stats = stats if stats is not None else TakesStats()
    stats.moments += len(moments)
    shots = [shot_of(m) for m in moments]
    cores = [_core(m, s) for m, s in zip(moments, shots, strict=True)]
    may = _may_match(moments, shots, cores, cfg)
    groups: list[_Group] = []
    for i in range(len(moments)):
        home = next((g for g in groups if _joins(i, g, moments, shots, cores, cfg, stats, may)), None)
        if home is None:
            groups.append(_Group([i]))
        else:
            home.members.append(i)
    out = []
    for g in groups:
        top = moments[g.members[0]].score
        face = max(
            (i for i in g.members if moments[i].score >= top - cfg.tie),
            key=lambda i: (shots[i].pixels, shots[i].duration, moments[i].score),
        )
        others = tuple(moments[i] for i in g.members if i != face)
        out.append(replace(moments[face], takes=others) if others else moments[face])
    return out


def _may_match(moments: Sequence[Moment], shots: list[Shot], cores: list[_Core], cfg: TakesConfig) -> np.ndarray:
    """``may[a, b]``: whether ``same_shot(a, b)`` can pass its cheap checks, for every pair at once.

    Those checks (length ratio, frames present, the means' cosine) rejected almost all of the
    ~1,800 pairs of a 60-moment window one Python call at a time (18 ms a search at 1 M
    segments); here they are three array operations. A pair this lets through still gets every
    check in ``same_shot``; the cosine bar is lowered by a rounding margin, so a borderline pair
    is decided there, exactly as before.
    """
    n = len(moments)
    if n == 0:
        return np.zeros((0, 0), bool)
    length = np.array([max(m.end - m.start, 1e-3) for m in moments])
    ratio_ok = np.minimum.outer(length, length) / np.maximum.outer(length, length) >= cfg.min_length_ratio
    dim = max((len(c.mean) for c in cores if c.mean is not None), default=1)
    means = np.zeros((n, dim), np.float64)
    for k, c in enumerate(cores):
        if c.mean is not None and len(c.mean) == dim:
            means[k] = c.mean
    close = means @ means.T >= cfg.frame_cos - 0.15 - 1e-6
    has_core = np.array([bool(c.mask.any()) for c in cores])
    has_frames = np.array([len(s.times) > 0 for s in shots])
    may: np.ndarray = ratio_ok & close & has_core[:, None] & has_frames[None, :]
    prints = [s.fingerprint for s in shots]
    for a in range(n):
        if prints[a]:
            for b in range(n):
                if prints[b] == prints[a]:
                    may[a, b] = True  # identical files: same_shot's own first check decides
    return may


def _joins(
    i: int,
    g: _Group,
    moments: Sequence[Moment],
    shots: list[Shot],
    cores: list[_Core],
    cfg: TakesConfig,
    st: TakesStats,
    may: np.ndarray | None = None,
) -> bool:
    m = moments[i]
    for j in g.members:
        other = moments[j]
        if other.file_id == m.file_id:
            return False  # one file's moments are different moments (the per-file cap keeps them apart)
    for j in g.members:
        if may is not None and not may[j, i]:
            st.pairs += 1  # counted as same_shot counts a pair its cheap checks reject
            st.cheap_rejects += 1
            continue
        if same_shot(moments[j], shots[j], m, shots[i], cfg, st, (cores[j], cores[i])):
            return True
    return False


def group_result(
    result: SearchResult,
    store: Store,
    model_id: str,
    limit: int,
    *,
    config: TakesConfig | None = None,
    stats: TakesStats | None = None,
) -> SearchResult:
    """A ranked result (fetched `window(limit)` deep) with takes folded together, cut to `limit` cards."""
    from .store import frames_f32

    cfg = config or TakesConfig()
    files: dict[int, tuple[str | None, int, float]] = {}
    # Every moment's neighbourhood in one statement (it was one query per moment, 60 a search).
    windows = [(m.file_id, m.start - cfg.pad, m.end + cfg.pad) for m in result.moments]
    by_file: dict[int, list[SegmentRow]] = {}
    for seg in store.segments_in_windows(model_id, windows) if windows else []:
        by_file.setdefault(seg.file_id, []).append(seg)
    for file_segs in by_file.values():
        file_segs.sort(key=lambda s: s.start)
    for fid, row in store.files_by_ids([m.file_id for m in result.moments]).items():
        files[fid] = (row.fingerprint, row.width * row.height, row.duration)

    def shot_of(m: Moment) -> Shot:
        if m.file_id not in files:  # removed since the search read it
            files[m.file_id] = (None, 0, 0.0)
        lo, hi = m.start - cfg.pad, m.end + cfg.pad
        segs = [s for s in by_file.get(m.file_id, ()) if s.end >= lo and s.start <= hi]

        times = np.concatenate([s.times for s in segs]).astype(np.float64) if segs else np.zeros(0)
        frames = frames_f32([s.frames for s in segs]) if segs else np.zeros((0, 1))
        keep = (times >= m.start - cfg.pad) & (times <= m.end + cfg.pad)
        order = np.argsort(times[keep], kind="stable")
        return Shot(times[keep][order], frames[keep][order], *files[m.file_id])

    t = time.perf_counter()
    grouped = group_moments(result.moments, shot_of, config=cfg, stats=stats)
    timings = {**result.timings, "takes": time.perf_counter() - t}
    return replace(result, moments=grouped[:limit], timings=timings)
