"""The words side of a query: source restriction (``said:``, ``written:``, ``sub:``, ``seen:``), phrases, terms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .types import SAID, SUBTITLE, WRITTEN

SEEN = "seen"  # the visual index
ALL_SOURCES = (SEEN, SAID, WRITTEN, SUBTITLE)
SOURCE_ALIASES = {
    "seen": SEEN,
    "look": SEEN,
    "said": SAID,
    "speech": SAID,
    "written": WRITTEN,
    "text": WRITTEN,
    "ocr": WRITTEN,
    "sub": SUBTITLE,
    "subs": SUBTITLE,
    "subtitle": SUBTITLE,
    "subtitles": SUBTITLE,
}
# One or more source names before a colon at the very start: "said:", "said,sub:".
_PREFIX = re.compile(r"^\s*((?:[A-Za-z]+\s*,\s*)*[A-Za-z]+):(?!//)")
_PHRASE = re.compile(r'"([^"]+)"')
_PUNCT = ".,;:!?()[]{}'\u201c\u201d\u2018\u2019"  # around a loose word, not part of what was said


@dataclass(frozen=True)
class WordsQuery:
    """A text query split for the sources: what the visual model reads, what the words search reads."""

    sources: tuple[str, ...]  # which of ALL_SOURCES may answer
    visual_text: str  # positive text for the image model (no quotes, no source prefix)
    terms: tuple[str, ...]  # every one must be in a line: single words and quoted phrases
    phrases: tuple[str, ...]  # the quoted ones among terms
    negatives: tuple[str, ...]  # lines containing any of these are left out
    full_text: str  # the positive text as typed (phrase bonus when a line holds it whole)
    raw_without_prefix: str  # the text to hand to the visual searcher (its full syntax: query_syntax.py)
    sequence: bool = False  # an "A then B" query: the visual side orders the steps in time


def split_source_prefix(text: str) -> tuple[tuple[str, ...], str]:
    """``said,sub: out of time`` -> (("said", "subtitle"), " out of time"); unknown prefixes stay text."""
    m = _PREFIX.match(text)
    if not m:
        return (), text
    names = [n.strip().lower() for n in m.group(1).split(",")]
    if not all(n in SOURCE_ALIASES for n in names):
        return (), text  # "SC 12: interior" is a query, not a restriction
    out: list[str] = []
    for n in names:
        if SOURCE_ALIASES[n] not in out:
            out.append(SOURCE_ALIASES[n])
    return tuple(out), text[m.end() :]


def parse_words_query(text: str, sources: Sequence[str] = ()) -> WordsQuery:
    """Parse the search box text; ``sources`` (e.g. from ``--source``) intersects with a prefix."""
    from ..query_syntax import is_sequence, plain_text
    from ..search import parse_text

    prefix, rest = split_source_prefix(text)
    allowed = [s for s in ALL_SOURCES if (not prefix or s in prefix) and (not sources or s in sources)]
    # Lines are matched on the words alone: weights (2:red) and "then" steps are the visual side's.
    positive, negatives = parse_text(plain_text(rest))
    phrases = tuple(p.strip() for p in _PHRASE.findall(positive) if p.strip())
    loose = [t.strip(_PUNCT) for t in _PHRASE.sub(" ", positive).replace('"', " ").split()]
    loose = [t for t in loose if t]
    terms = tuple(dict.fromkeys([*phrases, *loose]))
    visual = " ".join(positive.replace('"', " ").split())
    return WordsQuery(
        sources=tuple(allowed),
        visual_text=visual,
        terms=terms,
        phrases=phrases,
        negatives=tuple(negatives),
        full_text=visual,
        raw_without_prefix=rest,  # quotes kept: they group weighted terms and a literal "then"
        sequence=is_sequence(rest),
    )
