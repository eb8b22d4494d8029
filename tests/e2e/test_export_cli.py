"""The real reelseek-cli: search shows source timecode, collections persist (reopen, model switch,
unplugged drive), and export writes files OpenTimelineIO reads back to the frame."""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from reelseek.core import cli_export, export
from reelseek.core.timecode import Rate, SourceClock, parse_tc
from tests.e2e.conftest import run_cli, search_json
from tests.tc_clips import write_tc_clip

# name -> (rate, drop, start tag)
CLIPS = {
    "A cam 25.mov": (Fraction(25), False, "01:00:00:00"),
    "B cam 2997 ü.mp4": (Fraction(30000, 1001), True, "23:59:50;00"),
}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tcfootage")
    for name, (rate, _, tag) in CLIPS.items():
        write_tc_clip(root / name, rate, tag, seconds=6.0, size=(96, 64))
    home = tmp_path_factory.mktemp("home")
    summary = json.loads(run_cli(home, "index", root, "--json").stdout)
    assert summary["indexed"] == 2, summary
    return home, root


def _clock(path: str) -> SourceClock:
    rate, drop, tag = CLIPS[Path(path).name]
    return SourceClock.parse(Rate(rate, drop), tag)


def test_search_shows_source_timecode(library) -> None:
    home, _ = library
    moments = search_json(home, "a red square", "-n", "4")
    assert moments
    for m in moments:
        clock = _clock(str(m["path"]))
        # JSON seconds are rounded to the millisecond: the label is that time's frame, give or take one
        for key, t in (("timecode_in", "start"), ("timecode_out", "end")):
            assert abs(parse_tc(str(m[key]), clock.rate) - clock.frame(float(m[t]))) <= 1  # type: ignore[arg-type]
        assert m["rate"] == clock.rate.label and m["start_tc"] == clock.start_tc
    text = run_cli(home, "search", "a red square", "-n", "4").stdout
    assert str(moments[0]["timecode_in"]) in text
    secs = run_cli(home, "search", "a red square", "-n", "4", "--seconds").stdout
    assert re.search(r"\b\d\d:\d\d:\d\d\.\d{3} - \d\d:\d\d:\d\d\.\d{3}\b", secs)
    assert not re.search(r"\b\d\d:\d\d:\d\d[:;]\d\d - ", secs)
    assert re.search(r"\b\d\d:\d\d:\d\d[:;]\d\d - \d\d:\d\d:\d\d[:;]\d\d\b", text)


def test_collections_and_export_through_the_cli(library, tmp_path: Path) -> None:
    home, root = library
    a = root / "A cam 25.mov"
    assert "added" in run_cli(home, "collections", "add", "Sel", "--query", "a red square", "--pick", "1,2").stdout
    run_cli(home, "collections", "add", "Sel", "--file", a, "--in", "01:00:01:00", "--out", "01:00:02:12")
    run_cli(home, "collections", "add", "Sel", "--file", a, "--in", "3", "--out", "4.5", "--note", "wide & <tight>")
    items = json.loads(run_cli(home, "collections", "show", "Sel", "--json").stdout)
    assert len(items) == 4
    assert (items[2]["timecode_in"], items[2]["timecode_out"], items[2]["rate"]) == ("01:00:01:00", "01:00:02:12", "25")
    assert items[3]["timecode_in"] == "01:00:03:00" and items[3]["note"] == "wide & <tight>"
    run_cli(home, "collections", "remove", "Sel", "1")
    run_cli(home, "collections", "move", "Sel", "3", "1")
    run_cli(home, "collections", "rename", "Sel", "Best")
    assert "Best  (3 items)" in run_cli(home, "collections", "list").stdout
    items = json.loads(run_cli(home, "collections", "show", "Best", "--json").stdout)
    assert items[0]["note"] == "wide & <tight>"
    # Export the collection to every format; what OTIO reads back matches the items to the frame.
    for fmt, ext in export.FORMATS.items():
        out = tmp_path / f"best{ext}"
        proc = run_cli(home, "export", "--collection", "Best", "-o", out, "--handles", "2")
        assert f"wrote 3 clip(s) to {out}" in proc.stdout
        if fmt == "csv":
            assert out.read_text(encoding="utf-8").count("\n") == 4
            continue
        if fmt == "edl":
            # Mixed 25/29.97 selects: one EDL cannot be read at one rate by OTIO; check the text.
            event = next(ln for ln in out.read_text(encoding="utf-8").splitlines() if ln.startswith("001 "))
            assert event.split()[4:6] == ["01:00:02:23", "01:00:04:15"]
            continue
        clips = list(otio.adapters.read_from_file(str(out)).find_clips())
        assert len(clips) == 3
        first = clips[0]  # A cam 25: 01:00:03:00-01:00:04:12, +2 frames of handles each side
        fps = Fraction(25)
        sr = first.source_range
        got = (
            round(sr.start_time.value * 25 / sr.start_time.rate),
            round(sr.end_time_exclusive().value * 25 / sr.start_time.rate),
        )
        assert got == (parse_tc("01:00:02:23", Rate(fps)), parse_tc("01:00:04:15", Rate(fps))), fmt
    # Export a search directly
    proc = run_cli(home, "export", "a red square", "-n", "2", "--format", "edl", "-o", tmp_path / "q.edl")
    assert "wrote 2 clip(s)" in proc.stdout
    assert "* FROM CLIP NAME:" in (tmp_path / "q.edl").read_text(encoding="utf-8")


def test_collections_survive_a_model_switch_and_an_unplugged_drive(library, tmp_path: Path) -> None:
    home, root = library
    b = root / "B cam 2997 ü.mp4"
    run_cli(home, "collections", "add", "Night", "--file", b, "--in", "23:59:51;00", "--out", "23:59:53;00")
    from reelseek.core.models import list_models

    other = next(s.id for s in list_models() if s.id != "reelseek-test-tiny")
    shown = run_cli(home, "--model", other, "collections", "show", "Night").stdout
    assert "23:59:51;00 - 23:59:53;00" in shown and "29.97 DF" in shown
    # Unplug: the footage folder disappears; the item is offline and still exports by its path.
    away = tmp_path / "unplugged"
    shutil.move(str(root), away)
    try:
        items = json.loads(run_cli(home, "collections", "show", "Night", "--json").stdout)
        assert items[0]["offline"] is True
        proc = run_cli(home, "export", "--collection", "Night", "-o", tmp_path / "n.fcpxml")
        assert "offline" in proc.stderr
        text = (tmp_path / "n.fcpxml").read_text(encoding="utf-8")
        assert "B%20cam%202997%20%C3%BC.mp4" in text and 'tcFormat="DF"' in text
    finally:
        shutil.move(str(away), root)


def test_cli_errors_are_clear(library, tmp_path: Path) -> None:
    home, root = library
    proc = run_cli(home, "export", "--collection", "Nope", "-o", tmp_path / "x.edl", check=False)
    assert proc.returncode == 2 and "no collection called 'Nope'" in proc.stderr
    proc = run_cli(home, "export", "--collection", "Nope", "-o", tmp_path / "x.doc", check=False)
    assert proc.returncode == 2 and "--format" in proc.stderr
    a = root / "A cam 25.mov"
    proc = run_cli(home, "collections", "add", "E", "--file", a, "--in", "5", "--out", "2", check=False)
    assert proc.returncode == 2 and "out point" in proc.stderr
    proc = run_cli(home, "collections", "add", "E", "--file", a, "--in", "01:00:00:30", "--out", "2", check=False)
    assert proc.returncode == 2
    proc = run_cli(home, "collections", "remove", "Best-not-there", "1", check=False)
    assert proc.returncode == 2
    assert cli_export.FORMATS == export.FORMATS


def test_a_10_fps_clip_exports_to_every_format(tmp_path: Path) -> None:
    # The project's generated clips are 10 fps, a rate SMPTE timecode does not define: EDL and FCP7
    # export raised OpenTimelineIO's "SMPTE timecode does not support this rate".
    root, home = tmp_path / "footage", tmp_path / "home"
    root.mkdir()
    clip = write_tc_clip(root / "screen 10fps.mp4", Fraction(10), "01:00:00:00", seconds=5.0, size=(96, 64))
    assert json.loads(run_cli(home, "index", root, "--json").stdout)["indexed"] == 1
    run_cli(home, "collections", "add", "Ten", "--file", clip, "--in", "01:00:01:05", "--out", "01:00:03:00")
    [item] = json.loads(run_cli(home, "collections", "show", "Ten", "--json").stdout)
    assert (item["timecode_in"], item["rate"]) == ("01:00:01:05", "10")
    for fmt, ext in export.FORMATS.items():
        out = tmp_path / f"ten{ext}"
        proc = run_cli(home, "export", "--collection", "Ten", "--format", fmt, "-o", out)
        assert "timeline 10 fps" in proc.stdout
        text = out.read_text(encoding="utf-8")
        if fmt == "edl":
            assert "no SMPTE timecode" in proc.stderr
            assert " 01:00:01:05 01:00:03:00 00:00:00:00 00:00:01:05" in text
            assert "* SOURCE FRAME RATE: 10" in text
        elif fmt == "csv":
            assert ",01:00:01:05,01:00:03:00," in text
        else:
            adapter = {"fcp7": "fcp_xml", "fcpxml": "fcpx_xml", "otio": "otio_json"}[fmt]
            [c] = otio.adapters.read_from_string(text, adapter).find_clips()
            assert (c.source_range.start_time.value, c.source_range.end_time_exclusive().value) == (36015, 36030)
            assert c.source_range.start_time.rate == 10
