"""Query syntax: then-steps, weighted terms, negatives, quoting, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from reelseek.core.moments import Found
from reelseek.core.query_syntax import QuerySyntaxError, Term, is_sequence, parse_query, plain_text
from reelseek.core.search import parse_text
from reelseek.core.then_search import _Hit, chains, follows
from reelseek.core.types import Query
from reelseek.core.weighted_query import query_vector, step_vector
from reelseek.core.words.query import parse_words_query


def _steps(text: str) -> list[list[tuple[str, float, bool]]]:
    return [[(t.text, t.weight, t.negative) for t in s.terms] for s in parse_query(text).steps]


def test_plain_queries_read_as_before():
    assert _steps("woman at a door") == [[("woman at a door", 1.0, False)]]
    assert _steps('woman at a door -night -"red car"') == [
        [("woman at a door", 1.0, False), ("night", 0.0, True), ("red car", 0.0, True)]
    ]
    assert _steps("well-lit room") == [[("well-lit room", 1.0, False)]]
    assert _steps("-night") == [[("night", 0.0, True)]]
    assert _steps('"red car" night') == [[("red car night", 1.0, False)]]
    # Colons that are not weights: a slate, a clock time, a URL.
    assert _steps("SC 12: interior") == [[("SC 12: interior", 1.0, False)]]
    assert _steps("10:30 clock") == [[("10:30 clock", 1.0, False)]]
    assert _steps("http://x") == [[("http://x", 1.0, False)]]
    assert parse_query("").steps == () and parse_query("   ").steps == ()


def test_weighted_terms():
    assert _steps('2:"red car" night') == [[("red car", 2.0, False), ("night", 1.0, False)]]
    assert _steps("0.5:red circle 3:blue") == [[("red", 0.5, False), ("circle", 1.0, False), ("blue", 3.0, False)]]
    (neg,) = parse_query("-0.25:night").steps[0].terms
    assert neg == Term("night", 0.25, True, explicit=True)
    assert parse_query('-2:"red car" sky').steps[0].describe() == '-2:"red car" sky'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (":red", "empty weight"),
        ("0:red", "more than 0"),
        ("--2:red", "minus first"),
        ("2:-red", "the minus goes first"),
        ("nan:red", "finite"),
        ("inf:red", "finite"),
        ("1e999:red", "finite"),
        ("1.2.3:red", "not a number"),
        ('red "car', "unbalanced quote"),
        ('"red car', "unbalanced quote"),
        ('2:"red car', "unbalanced quote"),
        ("then red", "at the start"),
        (">> red", "at the start"),
        ("red then", "at the end"),
        ("red >>", "at the end"),
        ("red then then blue", "twice in a row"),
        ("red then -blue", "only -terms"),
        ("-red then blue", "only -terms"),
        ("red then<x> blue", "number of seconds"),
        ("red then<-3s> blue", "0 seconds or more"),
        ("red then<nan> blue", "0 seconds or more"),
    ],
)
def test_bad_input_gets_a_clear_message(text, message):
    with pytest.raises(QuerySyntaxError, match=message):
        parse_query(text)
    assert isinstance(QuerySyntaxError("x"), ValueError)  # the CLI and library report ValueErrors as usage errors


def test_then_steps_and_windows():
    p = parse_query("car stops then door opens")
    assert p.is_sequence and _steps("car stops then door opens") == [
        [("car stops", 1.0, False)],
        [("door opens", 1.0, False)],
    ]
    p = parse_query("a THEN b >> c then<5s> d then<2.5> e")
    assert [s.terms[0].text for s in p.steps] == ["a", "b", "c", "d", "e"]
    assert p.windows == (None, None, 5.0, 2.5)
    assert p.window(0, 10.0) == 10.0 and p.window(2, 10.0) == 5.0
    # Negatives and weights belong to their step.
    assert _steps("red -night then 2:blue sky") == [
        [("red", 1.0, False), ("night", 0.0, True)],
        [("blue", 2.0, False), ("sky", 1.0, False)],
    ]
    # A quoted "then" is the word itself; so is "then" inside a longer word.
    assert not parse_query('"then" and now').is_sequence
    assert _steps('"then" and now') == [[("then and now", 1.0, False)]]
    assert not parse_query('"now and then" sign').is_sequence
    assert not parse_query("thence authentic").is_sequence
    assert is_sequence("a then b") and not is_sequence("a then") and not is_sequence('"a then b"')


def test_words_side_sees_plain_words():
    assert plain_text('2:"red car" night then -3:blue sky >> x then<4s> y "then"') == (
        '"red car" night -blue sky x y "then"'
    )
    assert plain_text('broken "quote') == 'broken "quote'  # lenient: the visual side reports it
    q = parse_words_query('said:2:"out of time" -0.5:take')
    assert q.phrases == ("out of time",) and q.negatives == ("take",) and q.sources == ("said",)
    assert q.raw_without_prefix == '2:"out of time" -0.5:take'  # the visual searcher parses the weights
    q = parse_words_query("door opens then car stops")
    assert q.sequence and q.terms == ("door", "opens", "car", "stops")
    assert parse_text("red -night") == ("red", ["night"])  # the older helper keeps working


class _FakeSearcher:
    """Text vectors by word: orthogonal axes, so the weights show in the result."""

    def __init__(self) -> None:
        self.axes = {"red": 0, "blue": 1, "night": 2, "car": 3}
        self.embedded: list[str] = []

    def embed_text(self, text: str) -> np.ndarray:
        self.embedded.append(text)
        v = np.zeros(4, dtype=np.float32)
        for w in text.split():
            v[self.axes[w]] += 1
        return v / np.linalg.norm(v)


def test_weights_scale_each_term_and_negatives():
    s = _FakeSearcher()
    v = query_vector(s, Query(text="3:red 1:blue"))  # type: ignore[arg-type]
    assert v[0] / v[1] == pytest.approx(3.0) and np.linalg.norm(v) == pytest.approx(1.0)
    v = query_vector(s, Query(text="red 2:blue"))  # type: ignore[arg-type]
    assert v[1] / v[0] == pytest.approx(2.0)
    # One unweighted phrase is embedded whole, as before weights existed.
    s.embedded.clear()
    query_vector(s, Query(text="red car"))  # type: ignore[arg-type]
    assert s.embedded == ["red car"]
    strong = query_vector(s, Query(text="red blue -2:night"))  # type: ignore[arg-type]
    weak = query_vector(s, Query(text="red blue -night"))  # type: ignore[arg-type]
    assert strong[2] < weak[2] < 0
    with pytest.raises(QuerySyntaxError, match="one vector per step"):
        query_vector(s, Query(text="red then blue"))  # type: ignore[arg-type]
    step = parse_query("red then 2:blue").steps[1]
    assert np.argmax(step_vector(s, step, Query(text=""), media=False)) == 1  # type: ignore[arg-type]


def _hit(start: float, end: float, best: float, conf: float = 0.9) -> _Hit:
    return _Hit(Found(start, end, conf, best), conf, conf * 10)


def test_chains_keep_time_order_and_the_window():
    a, b = _hit(0, 4, 2), _hit(4, 8, 6)
    assert follows(a.found, b.found, 10) and not follows(b.found, a.found, 10)
    assert [[h.found for h in c] for c in chains([[a], [b]], [10.0])] == [[a.found, b.found]]
    assert chains([[b], [a]], [10.0]) == []  # reverse order never matches
    late = _hit(20, 24, 22)
    assert chains([[a], [late]], [10.0]) == [] and chains([[a], [late]], [16.0])
    # Three steps; the best chain by its weakest step wins, overlapping ones are dropped.
    c = _hit(8, 12, 10)
    weak_b = _hit(3, 7, 5, conf=0.4)
    found = chains([[a], [weak_b, b], [c]], [10.0, 10.0])
    assert len(found) == 1 and found[0][1] is b
    # Two separate occurrences give two chains.
    a2, b2 = _hit(30, 34, 32), _hit(34, 38, 36)
    assert len(chains([[a, a2], [b, b2]], [10.0])) == 2
