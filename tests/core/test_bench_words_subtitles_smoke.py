"""The subtitle words benchmark runs at toy size and writes sane figures into results.json."""

from __future__ import annotations

import json

from tests.bench.words_subtitles import main


def test_subtitle_benchmark_toy(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"other": 1}))
    res = main(["--toy", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["other"] == 1 and saved["words_subtitles"] == res
    for kind in ("sidecar", "embedded"):
        r = res[kind]
        assert r["lines"] == 4 * 10  # 4 files x 30 s, a cue every 3 s
        assert r["reread_on_rerun"] == 0  # unchanged files are only checked
        assert r["cpu_s_per_video_hour"] > 0 and r["query_ms_median"] > 0
