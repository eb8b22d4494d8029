"""One query vector per step: weighted text terms, stills and clips, minus the -terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .query_syntax import ParsedQuery, QuerySyntaxError, Step, parse_query
from .types import Query

if TYPE_CHECKING:
    from .search import Searcher


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def step_vector(searcher: Searcher, step: Step, query: Query, *, media: bool = True) -> np.ndarray:
    """Normalised vector of one step.

    The positive terms are summed by weight and normalised, so ``text_weight`` keeps its meaning
    against the stills and clips (a query of one phrase gives exactly the vector it always did);
    each -term is then subtracted with its own weight, or the query's ``negative_weight``.
    """
    parts: list[np.ndarray] = []
    positives = step.positives
    if positives:
        text = np.sum([t.weight * searcher.embed_text(t.text) for t in positives], axis=0)
        parts.append(query.text_weight * _normalise(text))
    if media:
        parts += [query.image_weight * searcher.embed_image(p) for p in query.images]
        parts += [query.clip_weight * searcher.embed_clip(p) for p in query.clips]
    negatives = step.negatives
    if not parts and not negatives:
        raise ValueError("empty query: give text, an image or a clip")
    q = _normalise(np.sum(parts, axis=0)) if parts else np.zeros_like(searcher.embed_text(negatives[0].text))
    for t in negatives:
        q = q - (t.weight if t.explicit else query.negative_weight) * searcher.embed_text(t.text)
    return _normalise(q)


def query_vector(searcher: Searcher, query: Query, parsed: ParsedQuery | None = None) -> np.ndarray:
    """The single vector of a query without ``then`` steps."""
    parsed = parsed or parse_query(query.text)
    if parsed.is_sequence:
        raise QuerySyntaxError("a 'then' query has one vector per step; search it instead of asking for one vector")
    step = parsed.steps[0] if parsed.steps else Step(())
    return step_vector(searcher, step, query, media=True)
