"""Exports read back with OpenTimelineIO's own readers give the same source in/out to the frame,
for every rate, across midnight, with handles, mixed rates, odd names and offline files."""

from __future__ import annotations

import csv
import io
import os
import urllib.parse
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from reelseek.core import media
from reelseek.core.export import ExportClip, ExportError, build_timeline, export, render
from reelseek.core.media.timecode import SourceTimecode
from reelseek.core.timecode import Rate, frames_per_day, parse_tc, seconds_to_frames
from tests.tc_clips import RATES, write_tc_clip

ADAPTERS = {"edl": "cmx_3600", "fcp7": "fcp_xml", "fcpxml": "fcpx_xml", "otio": "otio_json"}


def _clip(path: Path, in_s: float, out_s: float, **kw: object) -> ExportClip:
    info = media.probe(path)
    return ExportClip(str(path), in_s, out_s, info.source_tc, info.duration, **kw)  # type: ignore[arg-type]


def _read(text: str, fmt: str, rate: Fraction | None = None) -> list[otio.schema.Clip]:
    # OTIO's EDL reader rejects a source range whose labels wrap past midnight (out < in) unless
    # told to take the duration from the record side.
    kw = {"rate": float(rate), "ignore_timecode_mismatch": True} if fmt == "edl" and rate is not None else {}
    result = otio.adapters.read_from_string(text, ADAPTERS[fmt], **kw)
    return list(result.find_clips())


def _frames(t: otio.opentime.RationalTime, fps: Fraction) -> int:
    return round(t.value * float(fps) / t.rate)


@pytest.fixture(scope="module")
def clips_by_rate(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Per rate: a clip starting at 01:00:00:00 and one at 23:59:59:00 (crosses midnight)."""
    root = tmp_path_factory.mktemp("tc")
    out = {}
    for i, (label, rate, drop) in enumerate(RATES):
        sep = ";" if drop else ":"
        ext = "mov" if i % 2 else "mp4"
        a = write_tc_clip(root / f"{label} one.{ext}", rate, f"01:00:00{sep}00", seconds=3.0)
        b = write_tc_clip(root / f"{label} midnight.{ext}", rate, f"23:59:59{sep}00", seconds=3.0, where="stream")
        out[label] = (a, b)
    return out


@pytest.mark.parametrize("fmt", list(ADAPTERS))
@pytest.mark.parametrize(("label", "rate", "drop"), RATES, ids=[r[0] for r in RATES])
def test_round_trip_through_otio_readers(clips_by_rate, tmp_path: Path, fmt: str, label: str, rate, drop) -> None:
    a, b = clips_by_rate[label]
    planned = export([_clip(a, 0.5, 2.0), _clip(b, 0.5, 2.5)], fmt, tmp_path / f"x.{fmt}")
    text = (tmp_path / f"x.{fmt}").read_text(encoding="utf-8")
    assert [p.rate for p in planned.clips] == [Rate(rate, drop)] * 2
    assert planned.clips[1].tc_out.startswith("00:00:01")  # 23:59:59 + 2.5 s crossed midnight
    read = _read(text, fmt, rate)
    assert len(read) == 2
    day = frames_per_day(Rate(rate, drop))
    for c, p in zip(read, planned.clips, strict=True):
        got_in = _frames(c.source_range.start_time, rate)
        got_out = _frames(c.source_range.end_time_exclusive(), rate)
        if fmt == "fcpxml" and rate.denominator != 1:
            # OTIO's fcpx_xml reader truncates 29.97 to 29 fps and frame counts with int(): it can
            # only give these back to within a couple of frames an hour in. Check that, then read the
            # rational times ourselves, exactly (docs/export.md).
            assert abs(got_in - p.src_in) <= 2 and abs(got_out - p.src_out) <= 2
            got_in, got_out = _fcpxml_exact(text, p.clip.name, rate)
        if fmt == "edl":  # EDL timecodes are labels: they wrap at 24 h
            assert (got_in % day, got_out % day) == (p.src_in % day, p.src_out % day), (c.name, p.tc_in)
        else:
            assert (got_in, got_out) == (p.src_in, p.src_out), c.name
    if fmt == "edl":
        sep = ";" if drop else ":"
        assert f" {planned.clips[0].tc_in} {planned.clips[0].tc_out} " in text
        assert planned.clips[0].tc_in == f"01:00:00{sep}" + f"{seconds_to_frames(0.5, Rate(rate)):02d}"


def _fcpxml_exact(text: str, name: str, rate: Fraction) -> tuple[int, int]:
    root = ET.fromstring(text)
    clip = next(e for e in root.iter("asset-clip") if e.get("name") == name and e.get("offset") is not None)
    seconds = Fraction(clip.get("start", "0s").rstrip("s"))
    fmt = root.find(f"./resources/format[@id='{clip.get('format')}']")
    assert fmt is not None and Fraction(fmt.get("frameDuration", "").rstrip("s")) == 1 / rate
    start = seconds * rate
    assert start.denominator == 1  # on the clip's own frame grid
    # the spine duration is on the sequence grid; the source out is the nearest clip frame to its end
    out = (seconds + Fraction(clip.get("duration", "0s").rstrip("s"))) * rate
    return int(start), round(out)


def test_mixed_25_and_29_97_each_clip_keeps_its_timecode(clips_by_rate, tmp_path: Path) -> None:
    c25 = _clip(clips_by_rate["25"][0], 1.0, 2.0)
    c2997 = _clip(clips_by_rate["29.97DF"][0], 1.0, 2.0)
    c2997b = _clip(clips_by_rate["29.97DF"][0], 2.0, 2.5)
    planned = build_timeline([c25, c2997, c2997b])
    assert planned.rate == Rate(Fraction(30000, 1001), True)  # the most common rate
    edl = render(planned, "edl")
    lines = edl.splitlines()
    ev = [ln for ln in lines if ln[:3].isdigit()]
    assert ev[0].split()[4:6] == ["01:00:01:00", "01:00:02:00"]  # 25 fps: colons, its own frames
    assert ev[1].split()[4:6] == ["01:00:01;00", "01:00:02;00"]
    assert lines.index("FCM: NON-DROP FRAME") < lines.index(ev[0]) < lines.index("FCM: DROP FRAME") < lines.index(ev[1])
    assert "* SOURCE FRAME RATE: 25" in lines
    assert "* FROM CLIP NAME:  25 one.mp4" in lines
    # What the adapter alone writes for the same timeline (the bug the issue reports):
    raw = otio.adapters.write_to_string(planned.timeline, "cmx_3600", rate=float(planned.rate.fps))
    assert "01:00:01;00 01:00:02;00" in raw.splitlines()[2]  # the 25 fps clip came out drop-frame
    # Read back at the EDL's rate: the 29.97 clips are exact, the 25 fps labels are preserved.
    read = _read(edl, "edl", Fraction(30000, 1001))
    assert otio.opentime.to_timecode(read[0].source_range.start_time, read[0].source_range.start_time.rate, False) == (
        "01:00:01:00"
    )
    assert _frames(read[1].source_range.start_time, Fraction(30000, 1001)) == planned.clips[1].src_in
    # FCP7 and FCPXML carry per-clip rates: exact for both.
    for fmt in ("fcp7", "otio"):
        got = _read(render(planned, fmt), fmt)
        for c, p in zip(got, planned.clips, strict=True):
            assert _frames(c.source_range.start_time, p.rate.fps) == p.src_in
            assert _frames(c.source_range.end_time_exclusive(), p.rate.fps) == p.src_out
    x = render(planned, "fcp7")
    assert "<displayformat>DF</displayformat>" in x and "<string>01:00:00;00</string>" in x
    fx = render(planned, "fcpxml")
    assert 'frameDuration=""' not in fx and 'frameDuration="1001/30000s"' in fx and 'frameDuration="1/25s"' in fx


def test_handles_clamp_at_the_media_edges(clips_by_rate) -> None:
    path = clips_by_rate["25"][0]
    start = 90000  # 01:00:00:00 at 25
    edge = build_timeline([_clip(path, 0.04, 2.96)], handles=10).clips[0]
    assert (edge.src_in, edge.src_out) == (start, start + 75)  # 3 s = 75 frames: clamped both ends
    mid = build_timeline([_clip(path, 1.0, 2.0)], handles=5).clips[0]
    assert (mid.src_in, mid.src_out) == (start + 20, start + 55)
    with pytest.raises(ExportError, match="handles"):
        build_timeline([_clip(path, 1.0, 2.0)], handles=-1)


ODD_NAMES = [
    "Ünïcödé 日本語 clip.mov".encode(),
    b"a&b <c> \"quoted\" 'x'.mov",
    b"raw \xff\xfe latin \xe9.mov",  # not UTF-8
]


def test_odd_and_non_utf8_names_survive_every_format(tmp_path: Path) -> None:
    paths = [write_tc_clip(bytes(tmp_path) + b"/" + n, Fraction(24), "02:00:00:00", seconds=1.0) for n in ODD_NAMES]
    clips = [_clip(p, 0.0, 0.5, query="door & <night>", note="tab\there") for p in paths]
    planned = build_timeline(clips, name="Sel & <ects>")
    for p, raw in zip(planned.clips, ODD_NAMES, strict=True):
        assert urllib.parse.unquote_to_bytes(p.url.removeprefix("file://")) == bytes(tmp_path) + b"/" + raw
    for fmt in ("fcp7", "fcpxml", "otio"):
        text = render(planned, fmt)
        read = _read(text, fmt)
        urls = [c.media_reference.target_url for c in read]
        assert urls == [p.url for p in planned.clips], fmt
        assert read[0].name == "Ünïcödé 日本語 clip.mov"
        assert read[1].name == "a&b <c> \"quoted\" 'x'.mov"
        assert "\ufffd" in read[2].name
    edl = render(planned, "edl")
    assert "* FROM CLIP NAME:  Ünïcödé 日本語 clip.mov" in edl
    reels = [ln.split()[1] for ln in edl.splitlines() if ln[:3].isdigit()]
    assert all(len(r) <= 8 and r.isascii() for r in reels) and len(set(reels)) == 3


def test_csv_round_trip(tmp_path: Path) -> None:
    paths = [write_tc_clip(bytes(tmp_path) + b"/" + n, Fraction(30000, 1001), "00:00:59;00", seconds=2.0)
             for n in ODD_NAMES]  # fmt: skip
    clips = [_clip(p, 1.0, 1.5, score=0.25, query='red "door"', note="a, b\nc", source="visual") for p in paths]
    planned = export(clips, "csv", tmp_path / "out.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 3
    for row, p, raw in zip(rows, planned.clips, ODD_NAMES, strict=True):
        assert urllib.parse.unquote_to_bytes(row["file_url"].removeprefix("file://")) == bytes(tmp_path) + b"/" + raw
        assert row["timecode_in"] == "00:01:00;02"  # 00:00:59;00 + 1 s: the ;00 and ;01 labels are skipped
        assert row["timecode_in"] == p.tc_in and row["timecode_out"] == p.tc_out
        assert Fraction(row["in_seconds"]) * Fraction(30000, 1001) == pytest.approx(p.src_in - p.media_start)
        assert (row["rate"], row["drop_frame"], row["start_timecode"]) == ("30000/1001", "1", "00:00:59;00")
        assert (row["score"], row["query"], row["note"], row["source"]) == (
            "0.25000",
            'red "door"',
            "a, b\nc",
            "visual",
        )


def test_offline_files_export_with_their_last_known_path(tmp_path: Path) -> None:
    path = write_tc_clip(tmp_path / "gone.mov", Fraction(25), "05:00:00:00", seconds=1.0)
    clip = _clip(path, 0.2, 0.6)
    os.unlink(path)
    gone = ExportClip(clip.path, clip.in_s, clip.out_s, clip.source_tc, clip.duration, offline=True)
    edl = render(build_timeline([gone]), "edl")
    assert "05:00:00:05 05:00:00:15" in edl and "gone.mov" in edl


def test_bad_exports_give_clear_errors_and_leave_no_file(tmp_path: Path, clips_by_rate) -> None:
    with pytest.raises(ExportError, match="nothing to export"):
        export([], "edl", tmp_path / "a.edl")
    c = _clip(clips_by_rate["24"][0], 0.0, 1.0)
    with pytest.raises(ExportError, match="unknown format"):
        export([c], "aaf", tmp_path / "a.aaf")
    with pytest.raises(ExportError, match="cannot write"):
        export([c], "edl", tmp_path / "no such folder" / "a.edl")
    target = tmp_path / "a folder.edl"
    target.mkdir()
    with pytest.raises(ExportError, match="cannot write"):
        export([c], "edl", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a folder.edl"]  # no half-written file left


def test_frame_sizes_reach_the_xml_formats(clips_by_rate, tmp_path: Path) -> None:
    from dataclasses import replace

    from reelseek.core.export import fill_sizes
    from reelseek.core.store import Store

    path = clips_by_rate["50"][0]
    store = Store(tmp_path / "lib.db")
    fid = store.upsert_file(path, None, 1, 1, "fp")
    store.commit_file(fid, "m", [], duration=3.0, width=64, height=48)
    [sized] = fill_sizes([_clip(path, 0.0, 1.0)], store)
    assert (sized.width, sized.height) == (64, 48)
    planned = build_timeline([sized, replace(_clip(clips_by_rate["25"][0], 0.0, 1.0), width=1920, height=1080)])
    fx = ET.fromstring(render(planned, "fcpxml"))
    sizes = {(f.get("frameDuration"), f.get("width"), f.get("height")) for f in fx.iter("format")}
    assert sizes == {("1/50s", "64", "48"), ("1/25s", "1920", "1080")}
    x7 = ET.fromstring(render(planned, "fcp7"))
    seq = x7.find(".//sequence/media/video/format/samplecharacteristics")
    assert seq is not None and (seq.findtext("width"), seq.findtext("rate/timebase")) == ("64", "50")
    files = x7.findall(".//clipitem/file/media/video/samplecharacteristics")
    assert [(f.findtext("width"), f.findtext("height")) for f in files] == [("64", "48"), ("1920", "1080")]
    for fmt in ("fcp7", "fcpxml"):
        assert len(_read(render(planned, fmt), fmt)) == 2


def _edl_events(text: str) -> list[tuple[list[str], list[str]]]:
    """(event fields, the comment lines after it) for each event of an EDL we wrote."""
    events: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines():
        if line[:3].isdigit():
            events.append((line.split(), []))
        elif line.startswith("*") and events:
            events[-1][1].append(line)
    return events


@pytest.mark.parametrize("fmt", ["edl", "fcp7", "fcpxml", "otio", "csv"])
@pytest.mark.parametrize("fps", [10, 15])
def test_non_smpte_rates_export_every_format(tmp_path: Path, fmt: str, fps: int) -> None:
    # OpenTimelineIO's to_timecode refuses 10/15 fps ("SMPTE timecode does not support this rate"):
    # the EDL and FCP7 writers raised. Each clip's frames are counted at its own integer rate.
    rate = Rate(Fraction(fps))
    path = write_tc_clip(tmp_path / f"screen {fps}.mp4", Fraction(fps), "01:00:00:00", seconds=3.0)
    clips = [_clip(path, 0.5, 2.0), _clip(path, 1.0, 2.9)]
    planned = export(clips, fmt, tmp_path / f"x.{fmt}", handles=2)
    text = (tmp_path / f"x.{fmt}").read_text(encoding="utf-8")
    start = fps * 3600  # 01:00:00:00 at fps frames a second
    assert [p.rate for p in planned.clips] == [rate, rate] and planned.rate == rate and not rate.smpte
    assert [(p.src_in, p.src_out) for p in planned.clips] == [
        (start + seconds_to_frames(0.5, rate) - 2, start + seconds_to_frames(2.0, rate) + 2),
        (start + seconds_to_frames(1.0, rate) - 2, start + 3 * fps),  # handles clamped at the end
    ]
    if fmt in ("fcp7", "fcpxml", "otio"):
        read = _read(text, fmt)
        assert len(read) == 2
        for c, p in zip(read, planned.clips, strict=True):
            assert c.source_range.start_time.rate == fps
            assert _frames(c.source_range.start_time, rate.fps) == p.src_in
            assert _frames(c.source_range.end_time_exclusive(), rate.fps) == p.src_out
    if fmt == "fcp7":
        root = ET.fromstring(text)
        assert {e.text for e in root.iter("timebase")} == {str(fps)}  # no stand-in rate left behind
        assert [e.text for e in root.iter("string")] == ["01:00:00:00", "00:00:00:00"]
    if fmt == "edl":
        with pytest.raises(ValueError, match="SMPTE"):  # OTIO's reader cannot read it: parse it ourselves
            _read(text, fmt, Fraction(fps))
        events = _edl_events(text)
        assert len(events) == 2
        for (fields, comments), p in zip(events, planned.clips, strict=True):
            assert [parse_tc(t, rate) for t in fields[4:6]] == [p.src_in, p.src_out]
            assert [parse_tc(t, rate) for t in fields[6:8]] == [p.rec_in, p.rec_out]
            assert f"* SOURCE FRAME RATE: {fps}" in comments
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(r["rate"], r["timecode_in"], r["start_timecode"]) for r in rows] == [
            (f"{fps}/1", p.tc_in, "01:00:00:00") for p in planned.clips
        ]
        assert [parse_tc(r["timecode_out"], rate) for r in rows] == [p.src_out for p in planned.clips]


@pytest.mark.parametrize("fmt", ["edl", "fcp7", "fcpxml", "otio", "csv"])
def test_other_non_smpte_rates_and_mixed_with_25(tmp_path: Path, fmt: str) -> None:
    # 12 fps, 100 fps and a variable-rate average (14.985) next to a 25 fps clip: no error, each
    # clip's source in/out on its own rate.
    odd = [
        ExportClip("/nowhere/tl 12.mov", 1.0, 2.0, SourceTimecode("00:10:00:00", Fraction(12)), 4.0),
        ExportClip("/nowhere/hfr.mov", 1.0, 2.0, SourceTimecode(None, Fraction(100)), 4.0),
        ExportClip("/nowhere/phone.mp4", 1.0, 2.0, SourceTimecode(None, Fraction(2997, 200), vfr=True), 4.0),
        ExportClip("/nowhere/a 25.mov", 1.0, 2.0, SourceTimecode("01:00:00:00", Fraction(25)), 4.0),
        ExportClip("/nowhere/b 25.mov", 1.0, 2.0, SourceTimecode("01:00:00:00", Fraction(25)), 4.0),
    ]
    planned = export(odd, fmt, tmp_path / f"x.{fmt}")
    text = (tmp_path / f"x.{fmt}").read_text(encoding="utf-8")
    assert planned.rate == Rate(Fraction(25))
    assert [p.rate.smpte for p in planned.clips] == [False, False, False, True, True]
    assert planned.clips[0].tc_in == "00:10:01:00" and planned.clips[2].rate.vfr
    if fmt in ("fcp7", "otio"):
        for c, p in zip(_read(text, fmt), planned.clips, strict=True):
            assert _frames(c.source_range.start_time, p.rate.fps) == p.src_in, c.name
    if fmt == "fcp7":
        assert sorted({e.text for e in ET.fromstring(text).iter("timebase")}) == ["100", "12", "15", "25"]
    if fmt == "edl":
        events = _edl_events(text)
        for (fields, comments), p in zip(events, planned.clips, strict=True):
            assert [parse_tc(t, p.rate) for t in fields[4:6]] == [p.src_in, p.src_out]
            assert (f"* SOURCE FRAME RATE: {p.rate.label}" in comments) == (not p.rate.smpte)


def test_smpte_rates_are_the_ones_opentimelineio_labels() -> None:
    for fps in [Fraction(n) for n in (10, 12, 15, 24, 25, 30, 48, 50, 60, 72, 90, 96, 100, 120, 240)] + [
        Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120, 240)
    ]:
        try:
            otio.opentime.to_timecode(otio.opentime.RationalTime(1, float(fps)), float(fps))
            accepted = True
        except ValueError:
            accepted = False
        assert Rate(fps).smpte == accepted, fps


@pytest.mark.parametrize("fmt", ["edl", "fcp7", "fcpxml", "otio", "csv"])
@pytest.mark.parametrize("fps", [25, 10])
def test_unknown_media_duration_exports_every_format(tmp_path: Path, fmt: str, fps: int) -> None:
    # A file scanned but not indexed yet, or offline and never probed: duration 0. The FCP7 writer
    # raised "'NoneType' object has no attribute 'start_time'", the FCPXML one on .duration.
    rate = Rate(Fraction(fps))
    tc = SourceTimecode("02:00:00:00", Fraction(fps))
    clips = [
        ExportClip("/offline/never probed.mov", 1.0, 2.5, tc, 0.0, offline=True),
        ExportClip("/offline/never probed.mov", 3.0, 3.5, tc, 0.0, offline=True),
    ]
    planned = export(clips, fmt, tmp_path / f"x.{fmt}", handles=3)
    text = (tmp_path / f"x.{fmt}").read_text(encoding="utf-8")
    start = fps * 7200
    assert [(p.src_in, p.src_out, p.media_frames) for p in planned.clips] == [
        (start + fps - 3, start + seconds_to_frames(2.5, rate) + 3, None),  # handles not clamped at the end
        (start + 3 * fps - 3, start + seconds_to_frames(3.5, rate) + 3, None),
    ]
    known = max(p.src_out for p in planned.clips) - start  # what we know of the media: up to the last out
    if fmt in ("fcp7", "fcpxml", "otio"):
        for c, p in zip(_read(text, fmt), planned.clips, strict=True):
            assert _frames(c.source_range.start_time, rate.fps) == p.src_in
            assert _frames(c.source_range.end_time_exclusive(), rate.fps) == p.src_out
            if fmt == "otio":
                assert c.media_reference.available_range is None  # unknown stays unknown in .otio
            else:
                avail = c.media_reference.available_range
                assert _frames(avail.start_time, rate.fps) == start
                assert _frames(avail.end_time_exclusive(), rate.fps) >= p.src_out
    if fmt == "fcp7":
        durations = [int(e.text or 0) for e in ET.fromstring(text).iter("duration")]
        assert durations and min(durations[1:]) >= planned.clips[0].src_out - start and known > 0
    if fmt == "edl":
        events = _edl_events(text)
        assert [[parse_tc(t, rate) for t in f[4:6]] for f, _ in events] == [
            [p.src_in, p.src_out] for p in planned.clips
        ]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(r["timecode_in"], r["offline"]) for r in rows] == [(p.tc_in, "1") for p in planned.clips]
