"""Relevance feedback: Rocchio refinement of a query vector, and the undoable marks of one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RELEVANT = 1
IRRELEVANT = -1


@dataclass(frozen=True)
class Rocchio:
    """q' = alpha·q + beta·mean(relevant) − gamma·mean(irrelevant), normalised.

    The constants are the textbook ones (Manning, Raghavan & Schütze, *Introduction to
    Information Retrieval* §9.1.1: α=1, β=0.75, γ=0.15): positive feedback is worth far more
    than negative, because "not this" says little about what *is* wanted, and a strong γ
    pushes the query off into empty space. They suit CLIP vectors too: a marked moment's
    frames score ~0.9 against their own mean and ~0.3–0.6 against other scenes, while a text
    query's frame scores sit within ~0.1 of each other, so β=0.75 is enough for "more of this
    kind" to dominate the ranking and γ=0.15 moves a rejected kind down without
    overwhelming the original query. Measured on the e2e library (tests/e2e/test_like.py).
    """

    alpha: float = 1.0
    beta: float = 0.75
    gamma: float = 0.15


ROCCHIO = Rocchio()


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def refine(
    q: np.ndarray,
    relevant: Sequence[np.ndarray] = (),
    irrelevant: Sequence[np.ndarray] = (),
    weights: Rocchio = ROCCHIO,
) -> np.ndarray:
    """The Rocchio-refined, normalised query vector (q itself when nothing is marked)."""
    out = weights.alpha * normalise(q)
    if relevant:
        out = out + weights.beta * np.mean([normalise(v) for v in relevant], axis=0)
    if irrelevant:
        out = out - weights.gamma * np.mean([normalise(v) for v in irrelevant], axis=0)
    refined = normalise(out)
    # All weight cancelled out (only possible with odd constants): keep the query as it was.
    return refined if float(np.linalg.norm(refined)) > 0 else normalise(q)


@dataclass(frozen=True)
class Mark:
    """A moment the user marked: a file (by path) and its range, and +1 (relevant) or −1."""

    path: str
    start: float
    end: float
    value: int

    def same_moment(self, path: str, start: float, end: float) -> bool:
        """The same file and overlapping ranges: a re-ranked list may localise a moment a
        little differently, and it is still the card the user marked."""
        return path == self.path and min(end, self.end) > max(start, self.start) - 1e-6


class FeedbackMarks:
    """The marks of the current query, with an undo stack of every change.

    Marking a moment again with the same value clears the mark (a thumb toggles); with the
    other value it flips it. Every change pushes the previous state, so undo walks back one
    click at a time. A new query starts a new FeedbackMarks (marks are per query).
    """

    def __init__(self) -> None:
        self._marks: tuple[Mark, ...] = ()
        self._history: list[tuple[Mark, ...]] = []

    def mark(self, path: str, start: float, end: float, value: int) -> int:
        """Toggle a mark; returns the moment's mark after the click (+1, −1 or 0)."""
        if value not in (RELEVANT, IRRELEVANT):
            raise ValueError(f"a mark is +1 (relevant) or -1 (irrelevant), not {value!r}")
        current = self.value_of(path, start, end)
        kept = tuple(m for m in self._marks if not m.same_moment(path, start, end))
        self._history.append(self._marks)
        if current == value:
            self._marks = kept
            return 0
        self._marks = (*kept, Mark(path, start, end, value))
        return value

    def undo(self) -> bool:
        """Back to the marks before the last change; False when there is nothing to undo."""
        if not self._history:
            return False
        self._marks = self._history.pop()
        return True

    def can_undo(self) -> bool:
        return bool(self._history)

    def value_of(self, path: str, start: float, end: float) -> int:
        for m in self._marks:
            if m.same_moment(path, start, end):
                return m.value
        return 0

    def marks(self) -> tuple[Mark, ...]:
        return self._marks

    def relevant(self) -> list[Mark]:
        return [m for m in self._marks if m.value == RELEVANT]

    def irrelevant(self) -> list[Mark]:
        return [m for m in self._marks if m.value == IRRELEVANT]

    def __bool__(self) -> bool:
        return bool(self._marks)
