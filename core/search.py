"""Queries: embedding (text, still, clip, negatives), two-stage retrieval, filters and calibration."""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from .moments import LocalizeConfig, edges_for, localize
from .store import OFFLINE, SegmentRow, Store, display_path, frames_f32, fs_path, path_key
from .store_search import Candidate, SegmentFile, SegmentSpan, Window
from .types import Filters, Moment, Query, SearchResult

if TYPE_CHECKING:
    from .calibration import Calibration
    from .index import VectorIndex
    from .models.embedder import Embedder
    from .models.text_encoder import TextEncoder

    TextEncoderLike: TypeAlias = Embedder | TextEncoder

DEFAULT_TEMPLATES = ("{}", "a photo of {}.", "a video frame of {}.", "a film still of {}.")
_NEG = re.compile(r'(?:(?<=\s)|^)-(?:"([^"]+)"|(\S+))')


def parse_text(text: str) -> tuple[str, list[str]]:
    """Split ``woman at a door -night -"red car"`` into the positive text and negative terms."""
    negatives = [a or b for a, b in _NEG.findall(text)]
    positive = _NEG.sub(" ", text)
    return " ".join(positive.split()), [n.strip() for n in negatives if n.strip()]


@dataclass(frozen=True)
class SearchConfig:
    stage1_k: int = 256  # segments fetched from the ANN index before filters
    stage2_segments: int = 96  # best stage-1 segments re-ranked on their frames
    per_file: int = 3  # moments kept per file
    calibration_sample: int = 4000  # frame vectors used as the background for confidence
    clip_frames: int = 16  # frames sampled from a query clip
    localize: LocalizeConfig = field(default_factory=LocalizeConfig)


class Searcher:
    """Stage 1 over segment vectors in usearch, stage 2 on the candidates' frame vectors.

    Thread-safe for concurrent searches: store reads use per-thread connections, the vector
    index has its own lock and the encoder runs inference only.
    """

    def __init__(
        self,
        store: Store,
        vindex: VectorIndex,
        embedder: Callable[[], Embedder],
        model_id: str,
        *,
        sample_every: float = 1.0,
        config: SearchConfig | None = None,
        text_encoder: Callable[[], TextEncoderLike] | None = None,
        calibration_path: Path | None = None,
        persist_calibration: bool = False,
    ) -> None:
        self.store = store
        self.vindex = vindex
        self._embedder = embedder
        # Text queries need only the text tower: a torch-free one when the library offers it.
        self._text_encoder = text_encoder or embedder
        self.model_id = model_id
        self.sample_every = sample_every
        self.config = config or SearchConfig()
        self._text_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._background: tuple[int, np.ndarray] | None = None
        # Null-query calibration (core/calibration.py): a sidecar next to the index, written
        # only by a process that may write the library (readers compute it in memory).
        self.calibration_path = calibration_path
        self.persist_calibration = persist_calibration
        self._calibration: Calibration | None = None
        self._calibration_lock = threading.Lock()

    # -- query embedding -----------------------------------------------------------------------
    def embed_text(self, text: str) -> np.ndarray:
        """Average of the text under several prompt templates (normalised)."""
        with self._lock:
            hit = self._text_cache.get(text)
            if hit is not None:
                self._text_cache.move_to_end(text)
                return hit
        emb = self._text_encoder()
        from .search_lang import templates_for

        templates = templates_for(emb.spec, text, DEFAULT_TEMPLATES)  # per language, by the query's script
        vecs = emb.encode_texts([t.format(text) for t in templates])
        v = _normalise(vecs.mean(axis=0))
        with self._lock:
            self._text_cache[text] = v
            while len(self._text_cache) > 256:
                self._text_cache.popitem(last=False)
        return v

    def embed_image(self, path: Path) -> np.ndarray:
        from . import media

        emb = self._embedder()
        pixels = media.load_image(Path(path), emb.image_size)
        return _normalise(emb.encode_frames(pixels[None])[0])

    def embed_clip(self, path: Path) -> np.ndarray:
        from . import media

        emb = self._embedder()
        info = media.probe(Path(path))
        every = max(self.sample_every, info.duration / self.config.clip_frames) if info.duration else 1.0
        frames = [f.pixels for f in media.sample_frames(Path(path), every=every, size=emb.image_size, info=info)]
        if not frames:
            raise media.MediaError(f"{Path(path).name}: no frames could be decoded")
        vecs = emb.encode_frames(np.stack(frames[: self.config.clip_frames * 2]))
        return _normalise(vecs.mean(axis=0))

    def query_vector(self, query: Query) -> np.ndarray:
        """One normalised vector for the whole query (weighted terms and media, minus negatives)."""
        from .weighted_query import query_vector

        return query_vector(self, query)

    # -- retrieval -----------------------------------------------------------------------------
    def search(
        self,
        query: Query | str,
        *,
        limit: int = 20,
        filters: Filters | None = None,
        two_stage: bool = True,
    ) -> SearchResult:
        if isinstance(query, str):
            query = Query(text=query)
        from .query_syntax import parse_query
        from .weighted_query import query_vector

        parsed = parse_query(query.text)
        if parsed.is_sequence:  # "A then B": steps in time order (then_search.py)
            from .then_search import search_sequence

            return search_sequence(self, query, parsed, limit=limit, filters=filters)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        q = query_vector(self, query, parsed)
        timings["embed"] = time.perf_counter() - t
        return self.search_vector(q, limit=limit, filters=filters, two_stage=two_stage, timings=timings)

    def search_vector(
        self,
        q: np.ndarray,
        *,
        limit: int = 20,
        filters: Filters | None = None,
        two_stage: bool = True,
        timings: dict[str, float] | None = None,
    ) -> SearchResult:
        """Moments for a query vector with calibrated confidence; the weak tail goes to ``more``."""
        from . import calibration

        timings = timings if timings is not None else {}
        moments, median = self.raw_moments(q, limit=limit, filters=filters, two_stage=two_stage, timings=timings)
        if not moments:  # nothing indexed (or filtered out): nothing to calibrate against
            return SearchResult(moments=[], no_good_match=True, timings=timings)
        rated = calibration.rate(moments, median, self.calibration())
        head, tail = calibration.cut_tail(rated)
        no_match = not head or head[0].confidence < calibration.GOOD
        return SearchResult(moments=head, no_good_match=no_match, timings=timings, more=tail)

    def raw_moments(
        self,
        q: np.ndarray,
        *,
        limit: int = 20,
        filters: Filters | None = None,
        two_stage: bool = True,
        timings: dict[str, float] | None = None,
    ) -> tuple[list[Moment], float]:
        """Up to ``limit`` moments by raw score (no confidence yet) and the query's background median."""
        timings = timings if timings is not None else {}
        cfg = self.config
        t = time.perf_counter()
        reranked = max(cfg.stage2_segments, limit)
        candidates = self._stage1(
            q, filters or Filters(), max(cfg.stage1_k, limit * 4), need=reranked if two_stage else None
        )
        timings["stage1"] = time.perf_counter() - t
        t = time.perf_counter()
        background, _spread, _top = self._background_stats(q)
        moments = self._stage2(q, candidates[:reranked], background) if two_stage else self._single_stage(candidates)
        moments = _cap_per_file(moments, cfg.per_file)[:limit]
        timings["stage2"] = time.perf_counter() - t
        return moments, background

    def calibration(self) -> Calibration:
        """This library's null-query calibration for the model: from memory, the sidecar, or
        computed now (once per REFRESH_GROWTH change of the library)."""
        from . import calibration

        gen = self.store.generation(self.model_id)
        size = len(self.vindex)
        with self._calibration_lock:
            cal = self._calibration
            if cal is None and self.calibration_path is not None:
                cal = calibration.load(self.calibration_path, self.model_id)
            if cal is None or cal.stale(gen, size):
                cal = calibration.compute(self.model_id, gen, size, self._sample_size(), self._null_stats)
                if self.persist_calibration and self.calibration_path is not None:
                    calibration.save(self.calibration_path, cal)
            self._calibration = cal
            return cal

    def warm_up(self) -> None:
        """Load what the first search would otherwise load: the calibration (from its sidecar,
        or computed) and the background frame sample (a scan of the segments table)."""
        if len(self.vindex):  # an empty library has nothing to calibrate against
            self.calibration()
        self._background_sample()

    def cached_calibration(self) -> Calibration | None:
        """The calibration this searcher already has, without loading or computing one."""
        return self._calibration

    def _null_stats(self, text: str) -> tuple[float, float]:
        """(best moment score, own background median) of a query that has no answer."""
        q = self.embed_text(text)
        moments, median = self.raw_moments(q, limit=1)
        return (moments[0].score if moments else median), median

    def _sample_size(self) -> int:
        return len(self._background_sample())

    def _stage1(self, q: np.ndarray, filters: Filters, k: int, need: int | None = None) -> list[Candidate]:
        """Top segments that pass the filters; over-fetches until enough pass (no lost recall).

        ``need``: the caller uses only the best ``need`` of the ``k`` (stage 2 re-ranks 96 of
        256). Files are then looked up for the best ``need`` segments first and for the rest
        only if too few of those pass, instead of for all ``k`` (at 100 k segments this took
        stage 1 from 8.0 to 6.6 ms, median). At least ``need`` candidates come back when that
        many pass, in the same order as with ``need=None``.
        """
        total = len(self.vindex)
        target = min(k, need) if need else k
        want = k
        while True:
            keys, sims = self.vindex.search(q, want)
            ids, scores = keys.tolist(), sims.tolist()
            out: list[Candidate] = []
            pos = 0
            while pos < len(ids) and len(out) < target:
                # The first look-up covers exactly what is needed; a second, only when filters
                # dropped some, covers the rest of this stage-1 list.
                end = pos + target if pos == 0 else len(ids)
                chunk = ids[pos:end]
                info = self.store.file_info_for_segments(chunk)
                mtimes = self.store.file_mtimes([v.file_id for v in info.values()]) if _needs_mtime(filters) else {}
                out += [
                    Candidate(int(sid), float(sim), info[int(sid)])
                    for sid, sim in zip(chunk, scores[pos:end], strict=True)
                    if int(sid) in info and _passes(info[int(sid)], filters, mtimes)
                ]
                pos = end
            if len(out) >= target or want >= total:
                return out
            want = min(total, want * 4)

    def _single_stage(self, candidates: list[Candidate]) -> list[Moment]:
        segs = {s.id: s for s in self.store.segments_by_ids([c.segment_id for c in candidates])}
        out = []
        for c in candidates:
            s = segs.get(c.segment_id)
            if s is None:
                continue
            f = c.file
            out.append(
                Moment(
                    fs_path(f.key),
                    f.file_id,
                    s.start,
                    s.end,
                    c.similarity,
                    s.best_time,
                    offline=f.status == OFFLINE,
                    duration=f.duration,
                )
            )
        return out

    def _stage2(self, q: np.ndarray, candidates: list[Candidate], background: float) -> list[Moment]:
        if not candidates:
            return []
        meta = {c.file.file_id: c.file for c in candidates}
        # Neighbours let a moment that straddles a segment boundary grow across it: around each
        # candidate of a file with few, across the whole span of a file with many. The spans
        # come first (no blobs), then every segment of every window in one read.
        spans: dict[int, list[SegmentSpan]] = {}
        for sp in self.store.segment_spans([c.segment_id for c in candidates]):
            spans.setdefault(sp.file_id, []).append(sp)
        windows: list[Window] = []
        for fid, sps in spans.items():
            if len(sps) <= 4:
                windows += [(fid, sp.start - 0.01, sp.end + 0.01) for sp in sps]
            else:
                windows.append((fid, min(sp.start for sp in sps) - 0.01, max(sp.end for sp in sps) + 0.01))
        by_file: dict[int, dict[int, SegmentRow]] = {fid: {} for fid in spans}
        for seg in self.store.segments_in_windows(self.model_id, windows):
            by_file[seg.file_id][seg.id] = seg
        scored = _frame_scores([seg for segs in by_file.values() for seg in segs.values()], q)
        moments: list[Moment] = []
        for fid, segs in by_file.items():
            file = meta[fid]
            for run in _runs(sorted(segs.values(), key=lambda s: s.start)):
                times = np.concatenate([s.times for s in run]).astype(np.float64)
                if len(times) == 0:
                    continue
                scores = np.concatenate([scored[s.id] for s in run])
                edges = edges_for(times, run[0].start, run[-1].end)
                for f in localize(times, scores, edges, background, self.config.localize):
                    moments.append(
                        Moment(
                            fs_path(file.key),
                            fid,
                            f.start,
                            f.end,
                            f.score,
                            f.best_time,
                            offline=file.status == OFFLINE,
                            duration=file.duration,
                        )
                    )
        moments.sort(key=lambda m: m.score, reverse=True)
        return moments

    # -- calibration ---------------------------------------------------------------------------
    def _background_stats(self, q: np.ndarray) -> tuple[float, float, float]:
        """Median, spread and maximum of the query's score over a fixed random sample of library frames.

        Raw cosine values mean little across models and queries; how far a moment stands
        above the library's typical frame for the same query is what says "good match".
        """
        frames = self._background_sample()
        if len(frames) < 2:
            return 0.0, 1.0, -1.0
        s = _dot(frames, q)
        # Median and MAD, not mean and std: in a small library the right scene is a sizeable
        # share of the sample and would inflate a plain std (measured: the share of true
        # captions flagged "no good match" on a 4-video library fell from ~25% to ~10%).
        median = _median(s)
        spread = 1.4826 * _median(np.abs(s - median))
        return median, max(spread, 1e-3), float(s.max())

    def _background_sample(self) -> np.ndarray:
        """The fixed frame sample, refreshed when the store's generation moves."""
        gen = self.store.generation(self.model_id)
        bg = self._background
        if bg is None or bg[0] != gen:
            bg = (gen, self._sample_frames(self.config.calibration_sample))
            self._background = bg
        return bg[1]

    def _sample_frames(self, n: int) -> np.ndarray:
        rows = self.store.sample_segment_frames(self.model_id, max(1, n // 8))
        parts = []
        for frames, times in rows:
            count = len(times) // 4  # float32 timestamps (not `n`: that is the sample size)
            if count:
                # Every third frame: neighbours are near-duplicates and add nothing.
                parts.append(np.frombuffer(frames, dtype=np.float16).reshape(count, -1)[::3])
        if not parts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.concatenate(parts)[:n].astype(np.float32)


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _dot(rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """float32 ``rows @ q`` through numkong, not BLAS: a matrix-vector product through BLAS wakes
    its thread pool, which cost more than the product on a loaded machine (see stage1.rescore_rows)."""
    import numkong as nk

    out = np.empty(len(rows), np.float32)
    if len(rows):
        data = np.ascontiguousarray(rows, dtype=np.float32)
        nk.dot(data, np.ascontiguousarray(q, dtype=np.float32), out=out, out_dtype="f32")
    return out


def _frame_scores(segs: list[SegmentRow], q: np.ndarray) -> dict[int, np.ndarray]:
    """Each segment's frame scores against ``q``: every frame of every segment in one product
    (stage 2 used to convert and multiply once per run of segments, ~700 small calls a search)."""
    have = [s for s in segs if len(s.times)]
    out: dict[int, np.ndarray] = {s.id: np.zeros(0, np.float32) for s in segs}
    if not have:
        return out
    scores = _dot(frames_f32([s.frames for s in have]), q)
    cuts = np.cumsum([len(s.times) for s in have])[:-1]
    for s, part in zip(have, np.split(scores, cuts), strict=True):
        out[s.id] = part
    return out


def _median(a: np.ndarray) -> float:
    """``np.median`` of a 1-D finite array by partition: the same value, without np.median's
    NaN check, which imports numpy.ma (15-45 ms of every cold search)."""
    n = len(a)
    k = n // 2
    if n % 2:
        return float(np.partition(a, k)[k])
    p = np.partition(a, (k - 1, k))
    return float((p[k - 1] + p[k]) / 2)


def _runs(segs: list[SegmentRow]) -> list[list[SegmentRow]]:
    """Split a file's segments into runs of adjacent ones."""
    runs: list[list[SegmentRow]] = []
    for s in segs:
        if runs and abs(runs[-1][-1].end - s.start) < 1e-3:
            runs[-1].append(s)
        else:
            runs.append([s])
    return runs


def _cap_per_file(moments: list[Moment], per_file: int) -> list[Moment]:
    seen: dict[int, int] = {}
    out = []
    for m in moments:
        if seen.get(m.file_id, 0) < per_file:
            out.append(m)
            seen[m.file_id] = seen.get(m.file_id, 0) + 1
    return out


def _with_confidence(m: Moment, background: float, spread: float, ceiling: float | None = None) -> Moment:
    """The moment with its calibrated confidence (see core/calibration.py); pass the library's
    ``Searcher.calibration().ceiling``. Without it, 3 background spreads stand in for it."""
    from .calibration import confidence

    conf = confidence(m.score - background, 3.0 * spread if ceiling is None else ceiling)
    return dataclasses.replace(m, confidence=conf)


def _needs_mtime(f: Filters) -> bool:
    return f.modified_after is not None or f.modified_before is not None


def _passes(info: SegmentFile, f: Filters, mtimes: dict[int, int]) -> bool:
    fid, key, status, duration, height = info
    if not f.include_offline and status == OFFLINE:
        return False
    if f.folders and not any(key.startswith(path_key(d).rstrip(b"/") + b"/") for d in f.folders):
        return False
    if f.min_duration is not None and duration < f.min_duration:
        return False
    if f.max_duration is not None and duration > f.max_duration:
        return False
    if f.extensions and os.path.splitext(display_path(key))[1].lower() not in f.extensions:
        return False
    if f.min_height is not None and height < f.min_height:
        return False
    if mtimes:
        mt = mtimes.get(fid, 0) / 1e9
        if f.modified_after is not None and mt < f.modified_after:
            return False
        if f.modified_before is not None and mt > f.modified_before:
            return False
    return True
