"""Subtitle reading: sidecar formats, encodings, quirks of the parser, embedded streams, bad files."""

from __future__ import annotations

import pytest

from reelseek.core.words.subtitles import (
    SubtitleError,
    SubtitleSource,
    decode_text,
    find_sidecars,
    read_embedded,
    read_sidecar,
    sidecar_language,
)
from tests.synth.subtitles import ass_text, srt_text, vtt_text, write_sidecar, write_with_subtitles
from tests.synth.videos import SceneSpec

CUES = [(1.0, 2.5, "<i>We're</i> out of <b>time</b>"), (4.0, 5.0, "The slate reads SC 12")]
SCENES = [SceneSpec("red", "circle", "grass", "still", 0.0, 6.0)]


def texts(lines):
    return [(round(ln.start, 3), round(ln.end, 3), ln.text) for ln in lines]


WANT = [(1.0, 2.5, "We're out of time"), (4.0, 5.0, "The slate reads SC 12")]


@pytest.mark.parametrize(
    ("name", "make", "encoding"),
    [
        ("clip.srt", srt_text, "utf-8"),
        ("clip.vtt", vtt_text, "utf-8"),
        ("clip.ass", ass_text, "utf-8"),
        ("clip.ssa", ass_text, "utf-8"),
        ("clip.srt", srt_text, "utf-16"),  # with BOM
        ("clip.srt", srt_text, "utf-8-sig"),
    ],
)
def test_sidecar_formats_and_encodings(tmp_path, name, make, encoding):
    path = write_sidecar(tmp_path / name, make(CUES), encoding)
    assert texts(read_sidecar(path)) == WANT


def test_vtt_notes_styles_identifiers_and_entities_are_not_text(tmp_path):
    path = write_sidecar(tmp_path / "c.vtt", vtt_text([(1, 2, "fish &amp; chips"), (3, 4, "<c.yellow>last</c> cue")]))
    got = [ln.text for ln in read_sidecar(path)]
    assert got == ["fish & chips", "last cue"]
    assert not any("NOTE" in t or "cue-" in t or "::cue" in t for t in got)


def test_korean_cp949_and_latin1_are_detected(tmp_path):
    ko = write_sidecar(tmp_path / "k.srt", srt_text([(1, 2, "안녕하세요 여러분"), (3, 4, "시간이 다 됐어요")]), "cp949")
    assert [ln.text for ln in read_sidecar(ko)] == ["안녕하세요 여러분", "시간이 다 됐어요"]
    fr = write_sidecar(tmp_path / "f.srt", srt_text([(1, 2, "Café crème à la française")]), "latin-1")
    assert [ln.text for ln in read_sidecar(fr)] == ["Café crème à la française"]


def test_broken_and_empty_files_give_a_reason(tmp_path):
    empty = write_sidecar(tmp_path / "e.srt", "  \n")
    with pytest.raises(SubtitleError, match="empty subtitle file"):
        read_sidecar(empty)
    broken = tmp_path / "b.srt"
    broken.write_bytes(b"this is not\nreally a subtitle file\x00\x01 at all\n")
    with pytest.raises(SubtitleError, match=r"b\.srt"):
        read_sidecar(broken)
    with pytest.raises(SubtitleError):
        decode_text(b"\xff\xfe\x00\xd8", "x.srt")  # a UTF-16 BOM then a lone surrogate


def test_sidecars_with_language_suffix_belong_to_their_video(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    for n in ("clip.srt", "clip.en.srt", "clip.ko.vtt", "clip.pt-BR.ass", "clip.final.srt", "clipper.srt", "other.srt"):
        (tmp_path / n).write_text("x")
    found = [p.name for p in find_sidecars(video)]
    assert found == ["clip.en.srt", "clip.ko.vtt", "clip.pt-BR.ass", "clip.srt"]
    assert sidecar_language(video, tmp_path / "clip.ko.vtt") == "ko"
    assert sidecar_language(video, tmp_path / "clip.srt") is None


@pytest.mark.parametrize("ext", ["mp4", "mkv", "mov"])
def test_embedded_text_streams(tmp_path, ext):
    v = write_with_subtitles(tmp_path / f"e.{ext}", SCENES, CUES, codec="prores" if ext == "mov" else "h264")
    lines = read_embedded(v.path)
    assert texts(lines) == WANT
    assert {ln.language for ln in lines} == {"en"}


def test_source_combines_sidecar_and_stream_and_signature_follows_sidecars(tmp_path):
    v = write_with_subtitles(tmp_path / "s.mkv", SCENES, CUES[:1])
    src = SubtitleSource()
    sig0 = src.signature(str(v.path))
    write_sidecar(tmp_path / "s.ko.srt", srt_text([(4, 5, "시간이 다 됐어요")]), "cp949")
    sig1 = src.signature(str(v.path))
    assert sig1 != sig0
    got = sorted((ln.text, ln.language) for ln in src.extract(str(v.path)))
    assert got == [("We're out of time", "en"), ("시간이 다 됐어요", "ko")]


def test_source_reports_broken_sidecar_when_nothing_else_reads(tmp_path):
    from tests.synth.videos import write_video

    v = write_video(tmp_path / "n.mp4", SCENES, width=64, height=64)
    (tmp_path / "n.srt").write_bytes(b"\x00\x00garbage")
    with pytest.raises(SubtitleError, match=r"n\.srt"):
        SubtitleSource().extract(str(v.path))
    (tmp_path / "n.srt").unlink()
    assert SubtitleSource().extract(str(v.path)) == []  # no sidecar, no stream: nothing, no error
