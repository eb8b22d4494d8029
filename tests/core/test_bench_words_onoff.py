"""The words on/off benchmark's table says which run is the baseline and how much slower words make indexing."""

from __future__ import annotations

from tests.bench.words_onoff import table


def test_table_compares_against_the_words_off_baseline() -> None:
    r = {
        "model": "m",
        "videos": 3,
        "words_off": {"video_s": 60.0, "wall_s": 10.0, "rate": 6.0},
        "words_on": {"video_s": 60.0, "wall_s": 30.0, "rate": 2.0},
    }
    text = table(r)
    assert "words off (`--no-words`, baseline)" in text
    assert "| 6.00 |" in text and "| 2.00 |" in text
    assert "3.0x slower" in text
