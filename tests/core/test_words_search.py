"""Words in search: query syntax, match-quality probabilities, neighbour merging and fusion with visual moments."""

from __future__ import annotations

import pytest

from reelseek.core.store_words import LineHit
from reelseek.core.types import Moment
from reelseek.core.words.fusion import fuse, merge_neighbours, noisy_or
from reelseek.core.words.query import parse_words_query, split_source_prefix
from reelseek.core.words.search import line_probability, matched_span
from reelseek.core.words.sources import parse_sources


def test_source_prefixes_and_flags():
    assert split_source_prefix('said:"we\'re out of time"') == (("said",), '"we\'re out of time"')
    assert split_source_prefix("sub,written: SC 12")[0] == ("subtitle", "written")
    assert split_source_prefix("SC 12: interior") == ((), "SC 12: interior")  # not a known source
    q = parse_words_query('written:SC 12 -"take two"')
    assert q.sources == ("written",) and q.terms == ("SC", "12") and q.negatives == ("take two",)
    q = parse_words_query('said:"out of time"', sources=("said", "seen"))
    assert q.sources == ("said",) and q.phrases == ("out of time",) and q.visual_text == "out of time"
    assert parse_words_query("seen:red circle").sources == ("seen",)
    assert parse_words_query("hello", sources=("subtitle",)).sources == ("subtitle",)
    assert parse_sources("said, sub,seen") == ("said", "subtitle", "seen")
    with pytest.raises(ValueError, match="unknown source"):
        parse_sources("heard")


def _hit(text, source="subtitle", conf=None, words=(), start=1.0, end=2.0, fid=1):
    return LineHit(1, fid, source, None, start, end, text, tuple(words), 0.0, conf)


def test_probability_orders_hits_by_match_quality():
    q = parse_words_query("out of time")
    exact = line_probability(_hit("we're out of time"), q)
    scattered = line_probability(_hit("time ran out of my hands"), q)  # all terms, not as a phrase
    inside = line_probability(_hit("outstanding offer of timetables"), q)  # substrings only
    unsure = line_probability(_hit("we're out of time", "said", conf=0.3), q)
    assert 0.9 < exact <= 0.99
    assert exact > scattered > inside
    assert unsure < exact
    tiny = line_probability(_hit("a b"), parse_words_query("a"))
    assert tiny < inside  # a one-letter query is weak evidence


def test_matched_span_uses_word_times():
    words = [(10.0, 10.3, "so"), (10.3, 10.6, "we're"), (10.6, 10.8, "out"), (10.8, 10.9, "of"), (10.9, 11.4, "time")]
    h = _hit("so we're out of time", "said", words=words, start=10.0, end=11.4)
    assert matched_span(h, ["out of time"]) == (10.6, 11.4, "out of time")
    assert matched_span(_hit("no word times"), ["word"]) == (1.0, 2.0, "no word times")


def _m(fid, a, b, conf, sources=("seen",), words=()):
    return Moment(f"/f{fid}.mp4", fid, a, b, conf, a, conf, sources=sources, words=words)


def test_fusion_merges_overlaps_and_keeps_strong_words_on_top():
    visual = [_m(1, 0, 8, 0.2), _m(2, 0, 5, 0.15), _m(3, 0, 5, 0.1), _m(4, 2, 6, 0.95)]
    words = [_m(2, 3, 4, 0.94, ("subtitle",), ((3, 4, "out of time", "subtitle"),))]
    out = fuse(visual, words, per_file=3, limit=10)
    assert [m.file_id for m in out] == [4, 2, 1, 3]  # a sure visual match, then the words hit
    top_word = out[1]
    assert (top_word.start, top_word.end) == (3, 4)  # the words' range, not the whole shot
    assert top_word.sources == ("subtitle",)  # a weak look-alike does not claim the match
    assert top_word.confidence == pytest.approx(noisy_or(0.94, 0.15))
    assert len([m for m in out if m.file_id == 2]) == 1  # one range, not listed twice


def test_fusion_with_a_real_visual_match_keeps_both_sources():
    out = fuse([_m(1, 0, 8, 0.8)], [_m(1, 2, 3, 0.9, ("said",))], per_file=3, limit=5)
    assert len(out) == 1 and out[0].sources == ("seen", "said")
    assert out[0].confidence == pytest.approx(1 - 0.2 * 0.1)


def test_neighbouring_word_hits_become_one_moment():
    a = _m(1, 1.0, 2.0, 0.9, ("subtitle",), ((1.0, 2.0, "out of", "subtitle"),))
    b = _m(1, 2.5, 3.0, 0.95, ("said",), ((2.5, 3.0, "out of", "said"),))
    c = _m(1, 9.0, 10.0, 0.9, ("subtitle",))
    merged = merge_neighbours([c, b, a])
    assert [(m.start, m.end) for m in merged] == [(1.0, 3.0), (9.0, 10.0)]
    assert merged[0].sources == ("said", "subtitle") and len(merged[0].words) == 2
    assert merged[0].confidence == pytest.approx(noisy_or(0.9, 0.95))
