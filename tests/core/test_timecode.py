"""core/timecode: exact rates, drop-frame labels at minute boundaries, wrapping, round trips."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from reelseek.core.timecode import (
    Rate,
    SourceClock,
    format_range,
    format_tc,
    format_time,
    frames_per_day,
    frames_to_seconds,
    parse_tc,
    seconds_to_frames,
    snap_rate,
    timecode,
)

DF30 = Rate(Fraction(30000, 1001), drop_frame=True)
DF60 = Rate(Fraction(60000, 1001), drop_frame=True)
NDF30 = Rate(Fraction(30000, 1001))
ALL_RATES = [
    Rate(Fraction(24000, 1001)),
    Rate(Fraction(24)),
    Rate(Fraction(25)),
    DF30,
    NDF30,
    Rate(Fraction(30)),
    Rate(Fraction(50)),
    Rate(Fraction(60000, 1001)),
    DF60,
]


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        (23.976, Fraction(24000, 1001)),
        (23.976023976, Fraction(24000, 1001)),
        ("24000/1001", Fraction(24000, 1001)),
        (29.97, Fraction(30000, 1001)),
        (Fraction(2997, 100), Fraction(30000, 1001)),
        (59.94, Fraction(60000, 1001)),
        (25.0, Fraction(25)),
        ("30", Fraction(30)),
        (50, Fraction(50)),
        (24.0001, Fraction(24)),
    ],
)
def test_rates_snap_to_exact_fractions(value: object, exact: Fraction) -> None:
    assert Rate.of(value).fps == exact


def test_odd_rate_kept_and_bad_rates_refused() -> None:
    assert snap_rate(Fraction(1234, 100)) == Fraction(617, 50)
    for bad in (0, -1, float("nan"), "abc", "1/0"):
        with pytest.raises(ValueError):
            Rate.of(bad)


def test_drop_frame_only_where_it_exists() -> None:
    assert not Rate.of(25, drop_frame=True).drop_frame
    assert Rate.of(29.97, drop_frame=True).drop_frame
    assert Rate.of(29.97, drop_frame=True).label == "29.97 DF"
    assert Rate.of(29.97).label == "29.97 NDF"
    assert Rate.of(23.976).label == "23.976"
    assert Rate.of(25, vfr=True).label == "25 VFR"


@pytest.mark.parametrize(
    ("frame", "label"),
    [
        (0, "00:00:00;00"),
        (1799, "00:00:59;29"),
        (1800, "00:01:00;02"),  # ;00 and ;01 are skipped
        (1801, "00:01:00;03"),
        (3597, "00:01:59;29"),
        (3598, "00:02:00;02"),
        (17981, "00:09:59;29"),
        (17982, "00:10:00;00"),  # not skipped on each tenth minute
        (17983, "00:10:00;01"),
        (19780, "00:10:59;28"),
        (19782, "00:11:00;02"),
        (107892, "01:00:00;00"),
    ],
)
def test_drop_frame_labels_at_minute_boundaries(frame: int, label: str) -> None:
    assert format_tc(frame, DF30) == label
    assert parse_tc(label, DF30) == frame


def test_drop_frame_59_94_skips_four() -> None:
    assert format_tc(3599, DF60) == "00:00:59;59"
    assert format_tc(3600, DF60) == "00:01:00;04"
    assert format_tc(35964, DF60) == "00:10:00;00"
    assert parse_tc("00:01:00;04", DF60) == 3600


def test_non_drop_29_97_counts_every_label() -> None:
    assert format_tc(1800, NDF30) == "00:01:00:00"
    assert format_tc(107892, NDF30) == "00:59:56:12"  # an hour of real time is not 01:00:00:00 in NDF


@pytest.mark.parametrize("label", ["00:01:00;00", "00:01:00;01", "23:59:00;01"])
def test_skipped_drop_frame_labels_are_refused(label: str) -> None:
    with pytest.raises(ValueError, match="drop-frame"):
        parse_tc(label, DF30)


@pytest.mark.parametrize("bad", ["", "1:2:3", "00:60:00:00", "00:00:00:25", "ab:cd:ef:gh", "00:00:61:00"])
def test_bad_labels_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_tc(bad, Rate(Fraction(25)))


@pytest.mark.parametrize("rate", ALL_RATES, ids=lambda r: r.label)
def test_round_trip_over_many_frame_counts(rate: Rate) -> None:
    rng = random.Random(7)
    day = frames_per_day(rate)
    frames = list(range(0, 5000)) + [rng.randrange(day) for _ in range(3000)] + [day - 1]
    labels = set()
    for f in frames:
        label = format_tc(f, rate)
        assert parse_tc(label, rate) == f, (f, label)
        labels.add(label)
    assert len(labels) == len(set(frames))  # no two frames share a label
    # consecutive frames never jump by more than one label inside a second
    for f in range(0, 4000):
        a, b = parse_tc(format_tc(f, rate), rate), parse_tc(format_tc(f + 1, rate), rate)
        assert b - a == 1


def test_wraps_past_24_hours() -> None:
    rate = Rate(Fraction(25))
    clk = SourceClock.parse(rate, "23:59:50:00")
    assert clk.tc(0) == "23:59:50:00"
    assert clk.tc(20) == "00:00:10:00"
    assert clk.seconds("00:00:10:00") == 20
    assert format_tc(-1, rate) == "23:59:59:24"
    assert frames_per_day(DF30) == 2589408
    assert format_tc(frames_per_day(DF30), DF30) == "00:00:00;00"


def test_source_clock_offsets_and_drop_flag_from_tag() -> None:
    clk = SourceClock.parse(NDF30, "01:00:00;00")
    assert clk.rate.drop_frame
    assert clk.start_tc == "01:00:00;00"
    assert clk.tc(Fraction(1800 * 1001, 30000)) == "01:01:00;02"  # frame 1800 after the start
    assert clk.tc(60) == "01:00:59;28"  # 60 s of real time is 1798.2 frames
    assert clk.frame(1) == 107892 + 30
    assert SourceClock.parse(Rate(Fraction(24)), None).tc(1.5) == "00:00:01:12"


def test_no_float_drift_over_hours() -> None:
    rate = Rate(Fraction(24000, 1001))
    # 10 hours of frames: the time of each frame converts back to exactly that frame
    for f in (0, 1, 863136, 863137, 24000 * 36 - 1):
        assert seconds_to_frames(frames_to_seconds(f, rate), rate) == f
        assert seconds_to_frames(float(frames_to_seconds(f, rate)), rate) == f


def test_display_modes() -> None:
    clk = SourceClock.parse(Rate(Fraction(25)), "10:00:00:00")
    assert format_time(2.5, clk) == "10:00:02:13"  # 62.5 frames rounds half up
    assert format_time(2.5, clk, mode="seconds") == "00:00:02.500"
    assert format_time(float("nan")) == "00:00:00:00"
    assert format_range(0, 1, clk) == "10:00:00:00 – 10:00:01:00"
    assert timecode(3723.5) == "01:02:03.500"
