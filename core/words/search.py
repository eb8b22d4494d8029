"""Search over words: matching lines become moments with a match-quality probability, fused with visual ones."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..calibration import GOOD
from ..store import OFFLINE, fs_path
from ..store_words import LineHit, WordsStore
from ..types import Filters, Moment, Query, SearchResult
from .fusion import fuse, merge_neighbours
from .query import SEEN, WordsQuery, parse_words_query

if TYPE_CHECKING:
    from ..library import Library

# Word-hit probabilities (see docs/architecture.md, "Words in search"). Every query term is in
# the line (AND), which for typed words is strong evidence; these steps order hits among
# themselves and against the visual confidence (a sigmoid of the z-score, 0.5 at z = 3).
P_ALL_TERMS = 0.90  # every term found in one line
P_SHORT_QUERY = 0.70  # ... when the query is under 4 letters (1-2 CJK characters): weak evidence
BONUS_PHRASE = 0.05  # the whole query text stands in the line as typed
BONUS_WHOLE_WORDS = 0.04  # every term matches whole words, not the inside of longer words
PER_FILE = 3


def _weight(text: str) -> int:
    # A CJK character carries about a word's meaning; count it double against latin letters.
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text if not c.isspace())


def line_probability(hit: LineHit, wq: WordsQuery) -> float:
    """How sure a line is what the user typed: 0.63 .. 0.99."""
    text = hit.text.lower()
    p = P_ALL_TERMS if _weight(" ".join(wq.terms)) >= 4 else P_SHORT_QUERY
    if len(wq.terms) > 1 and wq.full_text.lower() in text:
        p += BONUS_PHRASE
    if all(re.search(rf"(?<!\w){re.escape(t.lower())}(?!\w)", text) for t in wq.terms):
        p += BONUS_WHOLE_WORDS
    if hit.confidence is not None:  # speech / OCR say how sure they were of the text itself
        p *= 0.75 + 0.25 * min(max(hit.confidence, 0.0), 1.0)
    return min(p, 0.99)


def matched_span(hit: LineHit, terms: Sequence[str]) -> tuple[float, float, str]:
    """The time range and text of the matched words when the source timed each word, else the line."""
    if not hit.words:
        return hit.start, hit.end, hit.text
    spans, joined = [], ""
    for a, b, w in hit.words:
        w = w.strip()
        spans.append((len(joined), len(joined) + len(w), a, b, w))
        joined += w + " "
    low = joined.lower()
    picked: set[int] = set()
    for t in terms:
        tl = t.lower()
        i = low.find(tl)
        while i >= 0 and tl:
            picked |= {k for k, s in enumerate(spans) if s[0] < i + len(tl) and s[1] > i}
            i = low.find(tl, i + 1)
    if not picked:
        return hit.start, hit.end, hit.text
    lo, hi = min(picked), max(picked)
    return spans[lo][2], spans[hi][3], " ".join(s[4] for s in spans[lo : hi + 1])


def word_moments(store: WordsStore, wq: WordsQuery, filters: Filters | None, limit_lines: int = 2000) -> list[Moment]:
    """Moments from stored lines that hold every term, after the search filters."""
    from ..search import _needs_mtime, _passes
    from ..store_search import SegmentFile

    word_sources = [s for s in wq.sources if s != SEEN]
    if not word_sources or not wq.terms:
        return []
    hits = store.search(wq.terms, sources=word_sources, exclude=wq.negatives, limit=limit_lines)
    if not hits:
        return []
    filters = filters or Filters()
    infos = store.file_infos(sorted({h.file_id for h in hits}))
    mtimes = {fid: v[5] for fid, v in infos.items()} if _needs_mtime(filters) else {}
    out = []
    for h in hits:
        info = infos.get(h.file_id)
        if info is None or not _passes(SegmentFile(*info[:5]), filters, mtimes):
            continue
        fid, key, status, duration, _h, _m = info
        start, end, text = matched_span(h, wq.terms)
        p = line_probability(h, wq)
        out.append(
            Moment(
                fs_path(key),
                fid,
                start,
                max(end, start + 0.04),
                p,
                start,
                confidence=p,
                offline=status == OFFLINE,
                duration=duration,
                sources=(h.source,),
                words=((start, end, text, h.source),),
            )
        )
    return merge_neighbours(out)


def fused_search(
    lib: Library, query: Query, *, limit: int = 20, filters: Filters | None = None, two_stage: bool = True
) -> SearchResult:
    """The visual search and the words search for one query, fused into one ranked list."""
    wq = parse_words_query(query.text, query.sources)
    # A query of negatives alone ("-night") is still a visual query: away from those words.
    visual_wanted = SEEN in wq.sources and bool(wq.visual_text or wq.negatives or query.images or query.clips)
    # Lines hold no time order: a "then" query that the visual side may answer is left to it.
    words_wanted = any(s != SEEN for s in wq.sources) and bool(wq.terms) and not (visual_wanted and wq.sequence)
    if not visual_wanted and not words_wanted:
        raise ValueError('empty query: type words after the source (e.g. said:"out of time")')
    timings: dict[str, float] = {}
    visual = SearchResult(no_good_match=True)
    if visual_wanted:
        vq = dataclasses.replace(query, text=wq.raw_without_prefix, sources=())
        visual = lib.searcher().search(vq, limit=limit * 2, filters=filters, two_stage=two_stage)
        timings.update(visual.timings)
    t = time.perf_counter()
    found = word_moments(WordsStore(lib.store), wq, filters) if words_wanted else []
    timings["words"] = time.perf_counter() - t
    if not found:
        return SearchResult(visual.moments[:limit], visual.no_good_match, timings, more=_more(visual, limit))
    # A words hit is exact evidence (every typed term is in the line): its probability is
    # always above calibration.GOOD, so a query with one is never "no good match".
    moments = fuse(visual.moments, found, per_file=PER_FILE, limit=limit)
    # Visual moments that only look like noise for this query are the tail, not the answer.
    head = [m for m in moments if m.confidence >= GOOD]
    tail = [m for m in moments if m.confidence < GOOD]
    return SearchResult(head, no_good_match=False, timings=timings, more=tail + visual.more)


def _more(visual: SearchResult, limit: int) -> list[Moment]:
    """The visual moments beyond the limit, then the weak tail: what "show more" adds."""
    return visual.moments[limit:] + visual.more
