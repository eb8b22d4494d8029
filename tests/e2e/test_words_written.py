"""On-screen text through the whole product: drawn slates and lower thirds read by rapidocr in the words pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli, search_json
from tests.synth.screen_text import STANDARD_OVERLAYS, write_text_clip
from tests.synth.videos import SceneSpec, write_video

pytestmark = pytest.mark.slow


def test_slate_and_lower_third_are_found_where_they_show(tmp_path):
    root = tmp_path / "f"
    root.mkdir()
    overlays = STANDARD_OVERLAYS[:2]  # "SC 12 TK 3" 1-5 s, "MARGARET HOLLOWAY" 7-12 s
    write_text_clip(root / "slate.mp4", overlays, duration=13.0)
    write_video(root / "quiet.mp4", [SceneSpec("red", "circle", "grass", "still", 0.0, 6.0)], width=128, height=96)
    home = tmp_path / "home"
    summary = json.loads(run_cli(home, "index", root, "--words-sources", "written", "--json").stdout)
    assert summary["words"]["errors"] == [] and summary["words"]["lines"] >= 2
    for query, o in (("written:SC 12", overlays[0]), ("margaret holloway", overlays[1])):
        top = search_json(home, query)[0]
        assert Path(str(top["path"])).name == "slate.mp4" and "written" in top["sources"], query
        assert min(float(top["end"]), o.end) - max(float(top["start"]), o.start) > 0, (query, top)
    assert search_json(home, "sub:margaret holloway") == []
