"""Time formatting used on cards, the player and the status bar."""

from __future__ import annotations

import pytest

from reelseek.desktop.timecode import clock, eta_text, timecode, timecode_range


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00.000"),
        (4.5, "00:00:04.500"),
        (61.0014, "00:01:01.001"),
        (3723.25, "01:02:03.250"),
        (-1, "00:00:00.000"),
        (float("nan"), "00:00:00.000"),
        (59.9996, "00:01:00.000"),
    ],
)
def test_timecode(seconds: float, text: str) -> None:
    assert timecode(seconds) == text


def test_range_and_clock() -> None:
    assert timecode_range(1, 2.5) == "00:00:01.000 – 00:00:02.500"
    assert clock(42) == "0:42"
    assert clock(3723) == "1:02:03"
    assert eta_text(None) == "ETA –"
    assert eta_text(125) == "ETA 2:05"
