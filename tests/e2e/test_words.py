"""Words end to end through the real CLI: every subtitle kind found, fused ranking, source switches, re-reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli, search_json
from tests.synth.subtitles import ass_text, srt_text, vtt_text, write_sidecar, write_with_subtitles
from tests.synth.videos import SceneSpec, write_video

pytestmark = pytest.mark.slow

SIZE = {"width": 128, "height": 96}


def scenes(a: tuple[str, str, str], b: tuple[str, str, str]) -> list[SceneSpec]:
    return [SceneSpec(*a, "still", 0.0, 4.0), SceneSpec(*b, "still", 4.0, 8.0)]


# file -> (query, (start, end) of the cue that holds it)
EXPECT = {
    "srt_clip.mp4": ("lighthouse keeper", (2.0, 3.5)),
    "vtt_clip.mp4": ("marmalade sandwiches", (4.0, 5.5)),
    "ass_clip.mkv": ("submarine surfaces", (1.0, 2.0)),
    "movtext_clip.mp4": ("helicopter lands", (3.0, 4.0)),
    "subrip_clip.mkv": ("bicycle race", (5.0, 6.0)),
    "korean_clip.mp4": ("시간이", (2.0, 3.0)),
}


def make_words_library(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    write_video(root / "srt_clip.mp4", scenes(("red", "circle", "grass"), ("blue", "square", "sand")), **SIZE)
    write_sidecar(root / "srt_clip.srt", srt_text([(2.0, 3.5, "The <i>lighthouse keeper</i> waves goodbye")]))
    write_video(root / "vtt_clip.mp4", scenes(("green", "triangle", "sky"), ("yellow", "star", "plain")), **SIZE)
    write_sidecar(root / "vtt_clip.en.vtt", vtt_text([(4.0, 5.5, "<b>marmalade</b> sandwiches for breakfast")]))
    write_video(root / "ass_clip.mkv", scenes(("purple", "ring", "noise"), ("white", "cross", "grass")), **SIZE)
    write_sidecar(root / "ass_clip.ass", ass_text([(1.0, 2.0, "the submarine surfaces at dawn")]))
    cues = [(3.0, 4.0, "a helicopter lands on the roof")]
    write_with_subtitles(root / "movtext_clip.mp4", scenes(("orange", "star", "sand"), ("red", "ring", "sky")), cues)
    cues = [(5.0, 6.0, "bicycle race through the village")]
    write_with_subtitles(root / "subrip_clip.mkv", scenes(("blue", "cross", "plain"), ("green", "ring", "sand")), cues)
    write_video(root / "korean_clip.mp4", scenes(("yellow", "circle", "noise"), ("purple", "square", "sky")), **SIZE)
    ko = srt_text([(0.5, 1.5, "안녕하세요 여러분"), (2.0, 3.0, "시간이 다 됐어요")])
    write_sidecar(root / "korean_clip.ko.srt", ko, "cp949")
    write_video(root / "broken_clip.mp4", scenes(("white", "triangle", "sand"), ("orange", "circle", "grass")), **SIZE)
    (root / "broken_clip.srt").write_bytes(b"1\n00:00:0garbage --> ??\n\x00\x01\x02 not a cue\n")
    write_video(root / "plain_clip.mp4", scenes(("red", "triangle", "plain"), ("green", "star", "noise")), **SIZE)


@pytest.fixture(scope="module")
def words_lib(tmp_path_factory) -> tuple[Path, Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("words_footage")
    make_words_library(root)
    home = tmp_path_factory.mktemp("words_home")
    summary = json.loads(run_cli(home, "index", root, "--json", "--words-sources", "subtitle").stdout)
    return home, root, summary


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_each_subtitle_kind_is_found_at_rank_1_with_its_range(words_lib, name):
    home, _root, _ = words_lib
    query, cue = EXPECT[name]
    moments = search_json(home, query)
    top = moments[0]
    assert Path(str(top["path"])).name == name, moments[:3]
    assert overlap((float(top["start"]), float(top["end"])), cue) > 0
    assert "subtitle" in top["sources"]
    assert any(query in w["text"] for w in top["words"])  # type: ignore[union-attr]
    assert all(overlap((w["start"], w["end"]), cue) > 0 for w in top["words"])  # type: ignore[union-attr]


def test_korean_two_syllables_and_styling_never_reach_the_text(words_lib):
    home, root, _ = words_lib
    top = search_json(home, "시간")[0]  # shorter than a trigram: the LIKE fallback
    assert Path(str(top["path"])).name == "korean_clip.mp4"
    out = run_cli(home, "transcript", root / "vtt_clip.mp4", "--format", "json").stdout
    lines = json.loads(out)
    assert [ln["text"] for ln in lines] == ["marmalade sandwiches for breakfast"]
    assert lines[0]["language"] == "en"


def test_broken_sidecar_leaves_a_reason_and_the_visual_index_complete(words_lib):
    home, _root, summary = words_lib
    assert summary["errors"] == [] and summary["indexed"] == 8
    errs = summary["words"]["errors"]
    assert len(errs) == 1 and errs[0]["path"].endswith("broken_clip.mp4") and "broken_clip.srt" in errs[0]["error"]
    status = json.loads(run_cli(home, "status", "--json").stdout)
    assert status["counts"]["done"] == 8
    assert [e["source"] for e in status["words"]["errors"]] == ["subtitle"]
    assert status["words"]["counts"]["subtitle"] == {"done": 6, "error": 1, "none": 1}
    plain = run_cli(home, "status").stdout
    assert "words error:" in plain and "broken_clip.srt" in plain


def test_words_only_match_ranks_above_unrelated_visual_moments(words_lib):
    home, _root, _ = words_lib
    # The visual moments are weak for these words: the tail, listed with --all.
    moments = search_json(home, "lighthouse keeper", "-n", "10", "--all")
    assert len(moments) > 1
    top, rest = moments[0], moments[1:]
    assert top["sources"] == ["subtitle"]
    assert all("subtitle" not in m["sources"] for m in rest)
    assert all(float(top["confidence"]) > float(m["confidence"]) for m in rest)
    # A words hit is a good match: no "no good match", and the weak visual tail is cut by default.
    full = json.loads(run_cli(home, "search", "lighthouse keeper", "--json-full").stdout)
    assert full["no_good_match"] is False and full["moments"][0]["good_match"]
    assert all(m["good_match"] for m in full["moments"]) and full["more"] > 0
    # Restricted to what is seen, the same words find no subtitle.
    seen = search_json(home, "seen:lighthouse keeper")
    assert all(m["sources"] == ["seen"] for m in seen)
    seen_flag = search_json(home, "lighthouse keeper", "--source", "seen")
    assert [m["path"] for m in seen_flag] == [m["path"] for m in seen]


def test_source_restriction_phrases_negatives_and_filters(words_lib):
    home, _root, _ = words_lib
    only = search_json(home, 'sub:"keeper waves"')
    assert [Path(str(m["path"])).name for m in only] == ["srt_clip.mp4"]
    assert search_json(home, 'sub:"waves keeper"') == []  # a phrase keeps its word order
    assert search_json(home, "said:lighthouse keeper") == []  # no speech in this library
    assert search_json(home, "lighthouse keeper", "--source", "written,said") == []
    flagged = search_json(home, "lighthouse keeper", "--source", "subtitle")
    assert [Path(str(m["path"])).name for m in flagged] == ["srt_clip.mp4"]
    negative = search_json(home, "lighthouse keeper -goodbye")
    assert all("subtitle" not in m["sources"] for m in negative)
    filtered = search_json(home, "lighthouse keeper", "--ext", "mkv")
    assert all(str(m["path"]).endswith(".mkv") and "subtitle" not in m["sources"] for m in filtered)
    bad = run_cli(home, "search", "x", "--source", "heard", check=False)
    assert bad.returncode == 2 and "unknown source" in bad.stderr


def test_transcript_formats(words_lib, tmp_path):
    home, root, _ = words_lib
    srt = run_cli(home, "transcript", root / "korean_clip.mp4", "-f", "srt").stdout
    assert "00:00:02,000 --> 00:00:03,000\n시간이 다 됐어요" in srt
    run_cli(home, "transcript", root / "srt_clip.mp4", "-o", tmp_path / "out.vtt")
    vtt = (tmp_path / "out.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "00:00:02.000 --> 00:00:03.500" in vtt and "lighthouse keeper" in vtt
    txt = run_cli(home, "transcript", root / "movtext_clip.mp4").stdout
    assert txt.strip() == "00:00:03.000 - 00:00:04.000  [subtitle]  a helicopter lands on the roof"
    missing = run_cli(home, "transcript", tmp_path / "nope.mp4", check=False)
    assert missing.returncode == 2 and "not in the library" in missing.stderr


def _segments(home: Path) -> list[tuple]:
    conn = sqlite3.connect(home / "library.sqlite3")
    try:
        return conn.execute("SELECT id, file_id, start_s, end_s, vector FROM segments ORDER BY id").fetchall()
    finally:
        conn.close()


def test_changed_sidecar_rereads_text_only(tmp_path):
    root = tmp_path / "f"
    root.mkdir()
    write_video(root / "a.mp4", scenes(("red", "circle", "grass"), ("blue", "square", "sand")), **SIZE)
    write_sidecar(root / "a.srt", srt_text([(1.0, 2.0, "original wording here")]))
    write_video(root / "b.mp4", scenes(("green", "star", "sky"), ("white", "ring", "plain")), **SIZE)
    home = tmp_path / "home"
    run_cli(home, "index", root, "--words-sources", "subtitle", "--json")
    before = _segments(home)
    assert before
    write_sidecar(root / "a.srt", srt_text([(5.0, 6.0, "completely revised dialogue")]))
    again = json.loads(run_cli(home, "index", root, "--words-sources", "subtitle", "--json").stdout)
    # Nothing embedded: no file indexed, no video decoded, the same segment rows and vectors.
    assert again["indexed"] == 0 and again["video_seconds"] == 0
    assert _segments(home) == before
    assert again["words"]["files"] == 1 and again["words"]["lines"] == 1
    assert search_json(home, "sub:original wording") == []
    top = search_json(home, "revised dialogue")[0]
    assert Path(str(top["path"])).name == "a.mp4" and (top["start"], top["end"]) == (5.0, 6.0)
    # Unchanged sidecars cost a check only: nothing is read again.
    third = json.loads(run_cli(home, "index", root, "--words-sources", "subtitle", "--json").stdout)
    assert third["words"]["files"] == 0


def test_words_switched_off_globally_and_per_folder(tmp_path):
    root = tmp_path / "f"
    root.mkdir()
    write_video(root / "a.mp4", scenes(("red", "circle", "grass"), ("blue", "square", "sand")), **SIZE)
    write_sidecar(root / "a.srt", srt_text([(1.0, 2.0, "switchboard operator")]))
    home = tmp_path / "home"
    first = json.loads(run_cli(home, "index", root, "--no-words", "--json").stdout)
    assert first["indexed"] == 1 and first["words"]["files"] == 0
    assert all("subtitle" not in m["sources"] for m in search_json(home, "switchboard operator"))
    off = run_cli(home, "folders", "words", "off", root).stdout
    assert "words off" in off
    second = json.loads(run_cli(home, "index", "--words-sources", "subtitle", "--json").stdout)
    assert second["words"]["files"] == 0
    run_cli(home, "folders", "words", "on", root)
    third = json.loads(run_cli(home, "index", "--words-sources", "subtitle", "--json").stdout)
    assert third["words"]["files"] == 1
    assert search_json(home, "switchboard operator")[0]["sources"] == ["subtitle"]
    bad = run_cli(home, "folders", "words", "off", tmp_path / "elsewhere", check=False)
    assert bad.returncode == 2 and "not a watched folder" in bad.stderr
