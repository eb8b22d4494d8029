"""The library's own background tells a real match from noise ("no good match")."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import run_cli
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow

NONSENSE = ["quantum spreadsheet invoice", "a tax form", "xyzzy plugh", "hello world"]


def test_noise_is_flagged_and_real_captions_are_not(tmp_path):
    videos = make_library(tmp_path / "footage", n_videos=4, codecs=("h264",), seed=5)
    home = tmp_path / "home"
    run_cli(home, "index", tmp_path / "footage", "--json")
    captions = [s.caption() for v in videos for s in v.scenes]
    queries = tmp_path / "q.txt"
    queries.write_text("\n".join(captions + NONSENSE), encoding="utf-8")
    out = json.loads(run_cli(home, "search", "--batch", queries, "--json", "--limit", "3").stdout)
    flagged = {item["query"]: item["no_good_match"] for item in out}
    noise_flagged = sum(flagged[q] for q in NONSENSE)
    real_flagged = sum(flagged[c] for c in captions)
    print(f"\nno-good-match: noise {noise_flagged}/{len(NONSENSE)}, real captions {real_flagged}/{len(captions)}")
    assert noise_flagged >= len(NONSENSE) - 1
    assert real_flagged <= len(captions) // 4
    # Every result still carries its moments: the flag is advice, not a filter.
    assert all(item["moments"] for item in out)
