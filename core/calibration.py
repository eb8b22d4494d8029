"""Per-library, per-model calibration: how far above its own background a query must score to be a match.

A search always returns *something*; what it cannot say by itself is whether the best moment
is a real answer. This module answers that from the library's response to queries that have
no answer (``NULL_QUERIES``: gibberish, out-of-vocabulary words, unrelated abstract concepts,
several scripts). Each is searched through the real two-stage path, and its *gap* (best moment
score minus the query's own median over a fixed frame sample) is recorded. The ceiling that
null queries reach is the calibration; docs/search.md says why gap and not a z-score.

Confidence is then ``1 / (1 + (ceiling / gap) ** STEEPNESS)``: 0.5 exactly at the null ceiling,
monotone in the moment's score for a given query, free of the model's cosine scale. It is
cached per (library, model) in a sidecar JSON next to the index, keyed by the store generation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .types import Moment

log = logging.getLogger(__name__)

# Queries that no footage answers. Mostly nonsense and non-visual abstractions: a null query
# that does match something in a real library would raise the ceiling, so the ceiling is a high
# quantile, not the maximum. Several scripts, since a model may map foreign text anywhere.
NULL_QUERIES: tuple[str, ...] = (
    "zxqv blorft",
    "xyzzy plugh",
    "qwpoe rtzu lkjh",
    "blarg fnord wumpus",
    "asdf jkl semicolon",
    "kjhg wert zuio",
    "vmbn cxyw poiu",
    "grlpht snazzle",
    "lorem ipsum dolor sit amet",
    "quantum tax invoice",
    "quarterly spreadsheet reconciliation",
    "the epistemology of justice",
    "a subordinate clause",
    "irrational numbers and their proofs",
    "terms and conditions apply",
    "hypothetical counterfactual",
    "password reset instructions",
    "the meaning of abstraction",
    "regulatory compliance framework",
    "interest rate derivative",
    "zzz",
    "qqq xxx",
    "ñandú pingüino acción",
    "ελληνικά γράμματα",
    "кириллица словарь",
    "مرحبا بالعالم",
    "עברית מילון",
    "हिन्दी शब्दकोश",
    "漢字辞典",
    "ひらがなカタカナ",
    "무의미한 문장 시험",
    "ภาษาไทย",
    "12345 67890",
    "#$%& *+=",
    "e=mc² ∑∫∂",
    "🙂🚀📎",
)
STEEPNESS = 4.0  # confidence 0.94 at twice the ceiling, 0.06 at half of it
CEILING_QUANTILE = 0.9  # of the null queries' gaps (robust to a null query that really matches)
GOOD = 0.5  # a moment is a good match from this confidence up (the null ceiling)
TAIL_FRACTION = 0.5  # with no good match, moments below this share of the best confidence are the tail
RELATIVE_MID = 0.6  # a moment with this share of the best moment's gap keeps half its confidence
RELATIVE_WIDTH = 0.06  # ... and the relative factor goes from 0.05 to 0.95 over 0.6 +- 0.18
REFRESH_GROWTH = 0.1  # recalibrate once the library's segment count moved this much
MIN_CEILING = 1e-3  # cosine units: a model whose nulls are perfectly flat still needs a scale
VERSION = 1  # of the sidecar format and of the null-query list


@dataclass(frozen=True)
class Calibration:
    """What the null queries reached in one library with one model."""

    model_id: str
    generation: int  # store generation it was computed at
    segments: int  # segment count then (refresh when it moved by REFRESH_GROWTH)
    sample_frames: int  # frames in the background sample
    ceiling: float  # gap (score - own median) that null queries reach: confidence 0.5
    null_gaps: list[float] = field(default_factory=list)  # per null query, in NULL_QUERIES order
    background: float = 0.0  # median over null queries of their frame-background median
    computed_at: float = 0.0  # unix time
    version: int = VERSION

    def confidence(self, score: float, median: float) -> float:
        return confidence(score - median, self.ceiling)

    def stale(self, generation: int, segments: int) -> bool:
        """True once the library grew or shrank enough that the ceiling may have moved."""
        if generation == self.generation:
            return False
        return abs(segments - self.segments) > REFRESH_GROWTH * max(self.segments, 1)

    def to_json(self) -> dict[str, object]:
        g = np.asarray(self.null_gaps or [0.0], dtype=np.float64)
        return {
            "model": self.model_id,
            "generation": self.generation,
            "segments": self.segments,
            "sample_frames": self.sample_frames,
            "null_queries": len(self.null_gaps),
            "null_ceiling": round(self.ceiling, 5),
            "null_gap_median": round(float(np.median(g)), 5),
            "null_gap_max": round(float(g.max()), 5),
            "background": round(self.background, 5),
            "computed_at": round(self.computed_at, 1),
        }


def confidence(gap: float, ceiling: float) -> float:
    """0..1, monotone in the gap; 0.5 where null queries reach (the ceiling)."""
    if gap <= 0.0:
        return 0.0
    return float(1.0 / (1.0 + (max(ceiling, MIN_CEILING) / gap) ** STEEPNESS))


def ceiling_of(gaps: Sequence[float]) -> float:
    if not gaps:
        return MIN_CEILING
    return max(float(np.quantile(np.asarray(gaps, dtype=np.float64), CEILING_QUANTILE)), MIN_CEILING)


def compute(
    model_id: str,
    generation: int,
    segments: int,
    sample_frames: int,
    null_stats: Callable[[str], tuple[float, float]],
) -> Calibration:
    """Run every null query; ``null_stats(text)`` returns (best moment score, own background median)."""
    gaps, medians = [], []
    for text in NULL_QUERIES:
        try:
            best, median = null_stats(text)
        except ValueError:  # a query the tokenizer reduces to nothing: it reaches nothing either
            continue
        gaps.append(round(max(best - median, 0.0), 6))
        medians.append(median)
    return Calibration(
        model_id=model_id,
        generation=generation,
        segments=segments,
        sample_frames=sample_frames,
        ceiling=ceiling_of(gaps),
        null_gaps=gaps,
        background=float(np.median(medians)) if medians else 0.0,
        computed_at=time.time(),
    )


def sidecar_path(data_dir: Path, model_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)
    return Path(data_dir) / f"calibration-{safe}.json"


def load(path: Path, model_id: str) -> Calibration | None:
    """The saved calibration, or None when missing, unreadable, or from another format."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        cal = Calibration(**{k: raw[k] for k in Calibration.__dataclass_fields__ if k in raw})
    except (OSError, ValueError, TypeError, KeyError) as e:
        if not isinstance(e, FileNotFoundError):
            log.info("ignoring calibration %s: %s", path, e)
        return None
    if cal.version != VERSION or cal.model_id != model_id or len(cal.null_gaps) == 0:
        return None
    return cal


def save(path: Path, cal: Calibration) -> bool:
    """Write atomically; a read-only or full disk only means the next process computes it again."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(asdict(cal)), encoding="utf-8")
        os.replace(tmp, path)
        return True
    except OSError as e:
        log.info("calibration not saved (%s): it is recomputed when needed", e)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False


def relative(gap: float, best_gap: float) -> float:
    """How much of the best moment's standing a moment keeps: about 1 from RELATIVE_MID + 3
    widths up, 0.5 at RELATIVE_MID of the best one's gap, about 0 from half of it down."""
    if best_gap <= 0.0:
        return 1.0
    x = min(max(gap / best_gap, 0.0), 1.0)
    top = 1.0 / (1.0 + math.exp(-(1.0 - RELATIVE_MID) / RELATIVE_WIDTH))
    return float(1.0 / (1.0 + math.exp(-(x - RELATIVE_MID) / RELATIVE_WIDTH)) / top)


def rate(moments: Sequence[Moment], median: float, cal: Calibration) -> list[Moment]:
    """The moments with their confidence, best first.

    confidence = absolute (gap against the null ceiling) x relative (gap against the best
    moment's gap). Both grow with the score, so within one result list confidence and score
    give one order; the best moment's confidence is its absolute one (that decides "no good
    match"), and moments far weaker than the best (a red square for "a red circle" when red
    circles exist) drop instead of all reading 99%.
    """
    ordered = sorted(moments, key=lambda m: m.score, reverse=True)
    if not ordered:
        return []
    best_gap = ordered[0].score - median
    return [
        dataclasses.replace(m, confidence=cal.confidence(m.score, median) * relative(m.score - median, best_gap))
        for m in ordered
    ]


def cut_tail(moments: Sequence[Moment]) -> tuple[list[Moment], list[Moment]]:
    """Split rated moments (best first) into the head to show and the tail kept for "more".

    With a good best moment the head is every good moment (confidence >= GOOD). With none
    good (no good match) it is the closest ones, down to half the best one's confidence, for
    "show the closest anyway". The best moment is always in the head; the list is cut once.
    """
    if not moments:
        return [], []
    best = moments[0].confidence
    floor = GOOD if best >= GOOD else best * TAIL_FRACTION
    head = [moments[0]]
    tail: list[Moment] = []
    for m in moments[1:]:
        (head if not tail and m.confidence >= floor else tail).append(m)
    return head, tail
