"""Query syntax for the visual search: weighted terms (``2:"red car"``), negatives and ``A then B`` steps.

Grammar (see docs/query-syntax.md): the text is split on whitespace, double quotes group words.

* ``then`` (any case, unquoted) or ``>>`` separates steps that must follow each other in time;
  ``then<5s>`` sets the longest gap between the two steps it joins (default ``Query.then_window``).
  ``"then"`` in quotes is the plain word.
* ``W:term`` or ``W:"two words"`` gives one term the weight W (a number above 0); the other words
  of a step form one phrase of weight 1, embedded together as before.
* ``-term`` / ``-"two words"`` pushes away with the query's negative weight, ``-W:term`` with W.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_WINDOW = re.compile(r"then<\s*([^>]*?)\s*(?:s|sec|secs|seconds)?\s*>", re.IGNORECASE)
# "2:red", "0.5:red", ":red" (empty weight), "nan:red"; letters-only prefixes (said:, http:) are not weights,
# and a digit right after the colon ("10:30") is a time, not a weighted term.
_WEIGHTED = re.compile(r"((?:[0-9.+\-]+(?:e[+\-]?\d+)?|nan|inf|infinity)?):(?=[^\d\s])(.+)", re.IGNORECASE | re.DOTALL)


class QuerySyntaxError(ValueError):
    """The query text cannot be read; the message says where and how to write it."""


@dataclass(frozen=True)
class Term:
    text: str
    weight: float  # > 0 when explicit; an unweighted -term takes the query's negative weight
    negative: bool = False
    explicit: bool = False  # the weight was written (W:term), not the default


@dataclass(frozen=True)
class Step:
    """One part of a ``then`` sequence (or the whole query): terms embedded and summed by weight."""

    terms: tuple[Term, ...]

    @property
    def positives(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negative)

    @property
    def negatives(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negative)

    def describe(self) -> str:
        """The step as it could be typed again (weights kept)."""
        return " ".join(
            ("-" if t.negative else "") + (f"{t.weight:g}:" if t.explicit else "") + _quote(t.text) for t in self.terms
        )


@dataclass(frozen=True)
class ParsedQuery:
    steps: tuple[Step, ...]
    windows: tuple[float | None, ...]  # one per gap between steps; None = the default window

    @property
    def is_sequence(self) -> bool:
        return len(self.steps) > 1

    def window(self, gap: int, default: float) -> float:
        w = self.windows[gap]
        return default if w is None else w


def _quote(text: str) -> str:
    return f'"{text}"' if (" " in text or text.lower() == "then") else text


def tokens(text: str) -> list[tuple[str, bool]]:
    """Whitespace-separated tokens, double quotes grouping; (token, had quotes). Unbalanced quotes raise."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, quoted, open_at = i, False, -1
        while i < n and (open_at >= 0 or not text[i].isspace()):
            if text[i] == '"':
                quoted = True
                open_at = i if open_at < 0 else -1
            i += 1
        if open_at >= 0:
            raise QuerySyntaxError(
                f'unbalanced quote: the " before {text[open_at + 1 : open_at + 21]!r} is never closed '
                "(close it, or leave quotes out)"
            )
        out.append((text[start:i], quoted))
    return out


def _weight(raw: str, token: str) -> float:
    if not raw:
        raise QuerySyntaxError(f"empty weight in {token!r}: write a number before the colon, e.g. 2:red")
    try:
        w = float(raw)
    except ValueError:
        raise QuerySyntaxError(f"weight {raw!r} in {token!r} is not a number (e.g. 2:red or 0.5:red)") from None
    if not math.isfinite(w):
        raise QuerySyntaxError(f"weight {raw!r} in {token!r} must be a finite number (e.g. 2:red)")
    if w == 0:
        raise QuerySyntaxError(f"weight 0 in {token!r}: a weight must be more than 0 (leave the term out instead)")
    if w < 0:
        raise QuerySyntaxError(
            f"weight {raw} in {token!r} must be more than 0; to push results away put the minus first: -{-w:g}:term"
        )
    return w


def _window(raw: str, token: str) -> float:
    try:
        w = float(raw)
    except ValueError:
        raise QuerySyntaxError(f"{token!r}: the window must be a number of seconds, e.g. then<5s>") from None
    if not math.isfinite(w) or w < 0:
        raise QuerySyntaxError(f"{token!r}: the window must be 0 seconds or more, e.g. then<5s>")
    return w


def _term_text(body: str) -> str:
    return " ".join(body.replace('"', " ").split())


def parse_query(text: str) -> ParsedQuery:
    """Read the search box text (source prefix already removed) into steps of weighted terms."""
    steps: list[Step] = []
    windows: list[float | None] = []
    current: list[Term] = []
    plain: list[str] = []  # unweighted positive words of the current step, one phrase
    plain_at = 0  # where that phrase goes among the step's terms (where its first word was)

    def close_step(before: str) -> None:
        nonlocal current, plain, plain_at
        terms = list(current)
        if plain:
            terms.insert(plain_at, Term(" ".join(plain), 1.0))
        if not terms:
            where = "at the start" if not steps else "twice in a row"
            raise QuerySyntaxError(f"{before!r} {where}: write what comes before it, e.g. car stops then door opens")
        if not any(not t.negative for t in terms) and (steps or before):
            raise QuerySyntaxError(
                f"step {' '.join(_quote(t.text) for t in terms)!r} has only -terms: say what to find in each step"
            )
        steps.append(Step(tuple(terms)))
        current, plain, plain_at = [], [], 0

    last_op = ""
    for tok, quoted in tokens(text):
        low = tok.lower()
        window = _WINDOW.fullmatch(tok)
        if not quoted and (low == "then" or tok == ">>" or window):
            close_step(tok)
            windows.append(_window(window.group(1), tok) if window else None)
            last_op = tok
            continue
        last_op = ""
        negative = tok.startswith("-") and len(tok) > 1
        body = tok[1:] if negative else tok
        m = _WEIGHTED.fullmatch(body) if not body.startswith('"') else None
        if m:
            w = _weight(m.group(1), tok)
            words = _term_text(m.group(2))
            if m.group(2).startswith("-"):
                raise QuerySyntaxError(f"{tok!r}: the minus goes first, e.g. -{m.group(1)}:{m.group(2)[1:]}")
            if words:
                current.append(Term(words, w, negative, explicit=True))
            continue
        words = _term_text(body)
        if not words:
            continue
        if negative:
            current.append(Term(words, 0.0, True))
        else:
            if not plain:
                plain_at = len(current)
            plain.append(words)
    if last_op:
        raise QuerySyntaxError(f"{last_op!r} at the end: say what follows, e.g. car stops then door opens")
    if current or plain or steps:
        close_step("")
    return ParsedQuery(tuple(steps), tuple(windows))


def plain_text(text: str) -> str:
    """The query's words as typed, less weights and step operators, for the words (said/written) search.

    Lenient: text that does not parse is returned as typed, since the visual side reports the error.
    """
    try:
        toks = tokens(text)
    except QuerySyntaxError:
        return text
    out: list[str] = []
    for tok, quoted in toks:
        if not quoted and (tok.lower() == "then" or tok == ">>" or _WINDOW.fullmatch(tok)):
            continue
        sign = "-" if tok.startswith("-") and len(tok) > 1 else ""
        m = _WEIGHTED.fullmatch(tok[len(sign) :])
        out.append(sign + m.group(2) if m else tok)
    return " ".join(out)


def is_sequence(text: str) -> bool:
    """Whether the text has ``then`` steps (False for text that does not parse)."""
    try:
        return parse_query(text).is_sequence
    except QuerySyntaxError:
        return False


def _unquoted(typed: str) -> str:
    """A step shown inside “ ”: one quoted phrase loses its own straight quotes (not “"red car"”)."""
    return typed[1:-1] if typed.count('"') == 2 and typed.startswith('"') and typed.endswith('"') else typed


def no_sequence_message(text: str, window: float) -> str | None:
    """For a then-query with no answer: which steps never followed each other, and what to try."""
    try:
        parsed = parse_query(text)
    except QuerySyntaxError:
        return None
    if not parsed.is_sequence:
        return None
    steps = " → ".join(f"“{_unquoted(s.describe())}”" for s in parsed.steps)
    gaps = ", ".join(dict.fromkeys(f"{parsed.window(i, window):g}" for i in range(len(parsed.steps) - 1)))
    return (
        f"No moment where {steps} follow each other within {gaps} s. "
        "A longer gap: then<30s>; fewer steps or other words find more."
    )
