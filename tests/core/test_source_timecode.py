"""Source timecode and exact rate read at probe time from real mov/mp4 files, and the backfill of
files indexed before timecodes were stored."""

from __future__ import annotations

import sqlite3
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlite_utils

from reelseek.core import media, store_collections
from reelseek.core import store as store_mod
from reelseek.core.library import Library
from reelseek.core.media.timecode import read_source_timecode
from reelseek.core.paths import data_paths
from reelseek.core.timecode import Rate
from tests.tc_clips import RATES, write_tc_clip


@pytest.mark.parametrize("ext", ["mov", "mp4"])
@pytest.mark.parametrize(("label", "rate", "drop"), RATES, ids=[r[0] for r in RATES])
def test_probe_reads_start_timecode_and_exact_rate(tmp_path: Path, ext: str, label: str, rate: Fraction, drop: bool):
    tag = "01:00:00;00" if drop else "01:00:00:00"
    path = write_tc_clip(tmp_path / f"clip {label}.{ext}", rate, tag, seconds=1.0)
    stc = media.probe(path).source_tc
    assert stc.start == tag
    assert stc.rate == rate  # exact, not 29.97002997...
    assert stc.drop_frame is drop
    assert stc.clock.start_tc == tag
    assert stc.frame_rate.label == Rate(rate, drop).label


@pytest.mark.parametrize("where", ["container", "stream"])
def test_tag_found_on_the_tmcd_track_or_the_stream(tmp_path: Path, where: str) -> None:
    path = write_tc_clip(tmp_path / "a.mov", Fraction(25), "23:59:50:00", seconds=0.5, where=where)
    stc = media.probe(path).source_tc
    assert stc.start == "23:59:50:00"
    assert stc.clock.tc(20) == "00:00:10:00"  # crosses midnight


def test_no_tag_starts_at_zero_and_bad_tags_are_ignored(tmp_path: Path) -> None:
    plain = write_tc_clip(tmp_path / "plain.mp4", Fraction(24000, 1001), None, seconds=0.5)
    stc = media.probe(plain).source_tc
    assert stc.start is None and stc.rate == Fraction(24000, 1001)
    assert stc.clock.tc(1.0) == "00:00:01:00"


def _fake(video_tags: dict[str, str], data_tags: dict[str, str], container_tags: dict[str, str], rate: object):
    video = SimpleNamespace(type="video", metadata=video_tags, average_rate=rate, guessed_rate=None, base_rate=None)
    data = SimpleNamespace(type="data", metadata=data_tags)
    return SimpleNamespace(streams=[video, data], metadata=container_tags), video


def test_tag_parsing_rules() -> None:
    """Unit test over fake PyAV objects (muxers normalise tags, so bad ones cannot be written)."""
    # frames that do not exist at the rate, or garbage: ignored, counted from zero
    c, v = _fake({"timecode": "01:00:00:27"}, {}, {}, Fraction(25))
    assert read_source_timecode(c, v).start is None
    c, v = _fake({"timecode": "garbage"}, {"timecode": "02:00:00:00"}, {}, Fraction(25))
    assert read_source_timecode(c, v).start == "02:00:00:00"  # the tmcd (data) stream's tag
    c, v = _fake({}, {}, {"timecode": "03:00:00,00"}, Fraction(2997, 100))
    stc = read_source_timecode(c, v)
    assert (stc.start, stc.rate, stc.drop_frame) == ("03:00:00;00", Fraction(30000, 1001), True)
    c, v = _fake({}, {}, {"timecode": "03:00:00;00"}, Fraction(25))
    assert read_source_timecode(c, v).drop_frame is False  # 25 fps has no drop-frame form
    c, v = _fake({}, {}, {}, None)
    stc = read_source_timecode(c, v, vfr=True)
    assert stc.rate is None and stc.vfr and stc.clock.rate.label == "25 VFR"


def test_files_indexed_before_v3_get_their_timecode_by_probe_only(tmp_path: Path) -> None:
    """A v2 library: the next scan probes done files for their timecode and embeds nothing."""
    footage = tmp_path / "footage"
    footage.mkdir()
    clip = write_tc_clip(footage / "old.mov", Fraction(30000, 1001), "10:00:00;00", seconds=0.5)
    home = tmp_path / "home"
    db = data_paths(home).ensure().database
    conn = sqlite3.connect(db, isolation_level=None)
    d = sqlite_utils.Database(conn)
    store_mod._v1(d)
    store_mod._v2(d)
    conn.execute("INSERT INTO meta VALUES('schema_version', '2')")
    conn.execute("INSERT INTO folders(path, added_at) VALUES(?, 0)", (bytes(footage),))
    st = clip.stat()
    conn.execute(
        "INSERT INTO files(path, folder_id, size, mtime_ns, status, duration, model_id) "
        "VALUES(?, 1, ?, ?, 'done', 0.5, 'm')",
        (bytes(clip), st.st_size, st.st_mtime_ns),
    )
    conn.close()
    lib = Library(home)
    try:
        assert [k for _, k in store_collections.files_without_timecode(lib.store)] == [bytes(clip)]
        report = lib.scan()
        assert report.errors == []
        [info] = lib.files()
        assert info.status == "done"  # not re-queued for embedding
        assert info.source_tc.start == "10:00:00;00"
        assert info.source_tc.rate == Fraction(30000, 1001) and info.source_tc.drop_frame
        assert store_collections.files_without_timecode(lib.store) == []
    finally:
        lib.close()


def test_variable_frame_rate_is_flagged(tmp_path: Path) -> None:
    import av
    import numpy as np

    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as c:
        c.metadata["timecode"] = "02:00:00:00"
        s = c.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        t = 0
        for i in range(60):  # frames 33 ms and 60 ms apart, like a phone under load
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 3, np.uint8), format="rgb24")
            f.pts, f.time_base = t, Fraction(1, 1000)
            t += 33 if i % 2 else 60
            for pk in s.encode(f):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    stc = media.probe(path).source_tc
    assert stc.vfr and stc.start == "02:00:00:00"
    assert stc.frame_rate.label.endswith("VFR") and stc.clock.start_tc == "02:00:00:00"


@pytest.mark.parametrize(
    ("fps", "tag"), [(10, "01:00:00:00"), (10, "00:59:59:09"), (12, "10:00:00:11"), (15, "01:00:00:14")]
)
def test_probe_reads_timecode_below_smpte_rates(tmp_path: Path, fps: int, tag: str) -> None:
    # At 10 fps FFmpeg writes the tag with one frame digit ("01:00:00:0"); it used to be ignored.
    path = write_tc_clip(tmp_path / f"low {fps}.mov", Fraction(fps), tag, seconds=1.0)
    tc = media.probe(path).source_tc
    assert (tc.rate, tc.start, tc.start_tc) == (Fraction(fps), tag, tag)
    assert not tc.frame_rate.smpte
