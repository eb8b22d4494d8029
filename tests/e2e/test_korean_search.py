"""Korean queries find the right scenes (real CLI, the bilingual test model); unknown scripts get a note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import iou, run_cli
from tests.e2e.test_retrieval import MIN_FILE_AT_1, MIN_IOU_RATE
from tests.synth.scenes_ko import COLOUR_WORDS_KO, canonical_caption_ko
from tests.synth.videos import VideoSpec

pytestmark = pytest.mark.slow


def _rates(home: Path, tmp: Path, truth: dict[str, tuple[VideoSpec, object]]) -> dict[str, float]:
    queries = tmp / "queries-ko.txt"
    queries.write_text("\n".join(truth), encoding="utf-8")
    proc = run_cli(home, "search", "--batch", queries, "--json", "--limit", "5")
    out = json.loads(proc.stdout)
    assert "note:" not in proc.stderr  # the test model reads Korean: no English-only warning
    file_hits = iou_hits = 0
    for item in out:
        assert "language_notice" not in item
        v, s = truth[item["query"]]
        top = item["moments"][0] if item["moments"] else None
        right = top is not None and Path(top["path"]) == v.path
        file_hits += right
        iou_hits += right and iou((top["start"], top["end"]), (s.start, s.end)) >= 0.5  # type: ignore[index,attr-defined]
    return {"queries": len(out), "file_at_1": file_hits / len(out), "iou_0.5_rate": iou_hits / len(out)}


def test_korean_captions_find_the_right_moment(indexed, tmp_path, record_property):
    home, _root, videos = indexed
    truth = {canonical_caption_ko(s.colour, s.shape, s.background): (v, s) for v in videos for s in v.scenes}
    rates = _rates(home, tmp_path, truth)
    print(f"\nKorean retrieval: {rates}")
    record_property("korean", rates)
    assert rates["queries"] >= 60
    assert rates["file_at_1"] >= MIN_FILE_AT_1 and rates["iou_0.5_rate"] >= MIN_IOU_RATE, rates


def test_korean_captions_with_the_wrong_colour_miss(indexed, tmp_path):
    """The control: the model reads the Korean words, not just the background or the shape."""
    home, _root, videos = indexed
    colours = list(COLOUR_WORDS_KO)
    truth = {}
    for v in videos:
        for s in v.scenes:
            wrong = colours[(colours.index(s.colour) + 3) % len(colours)]
            truth[canonical_caption_ko(wrong, s.shape, s.background)] = (v, s)
    rates = _rates(home, tmp_path, truth)
    assert rates["iou_0.5_rate"] < 0.3, rates


def test_a_script_the_model_cannot_read_gets_a_note_and_still_searches(indexed):
    home, _root, _videos = indexed
    proc = run_cli(home, "search", "красный круг на траве", "--json", "--limit", "5")
    moments = json.loads(proc.stdout)
    assert moments, "the warning must not block the search"
    assert "note:" in proc.stderr and "Cyrillic" in proc.stderr and "xlm-roberta-base-vit-b-32" in proc.stderr
    assert all("Cyrillic" in m["language_notice"] for m in moments)
    plain = run_cli(home, "search", "a red circle on grass", "--json", "--limit", "5")
    assert "note:" not in plain.stderr and all("language_notice" not in m for m in json.loads(plain.stdout))
