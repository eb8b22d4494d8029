"""The words benchmark runs end to end on toy sizes and writes sane figures (it asserts no timing)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.synth.speech import have_espeak

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed (.ci/run installs it)")


def test_toy_words_benchmark_writes_its_section(tmp_path: Path) -> None:
    from tests.bench.words import DOCS, main

    before = DOCS.read_text() if DOCS.exists() else None
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"search": {"kept": True}}))
    main(["--toy", "--out", str(out)])

    results = json.loads((out / "results.json").read_text())
    assert results["search"] == {"kept": True}, "other sections of results.json are kept"
    words = results["words"]
    (run,) = words["speech"]["runs"]
    assert run["model"] == "tiny.en" and run["phrases"] == 1
    assert math.isfinite(run["rtf_cpu"]) and run["rtf_cpu"] > 0
    assert run["hit_rate_at_1"] == 1.0 and run["wer"] <= 0.5
    assert words["speech"]["long_audio"]["windows"] == 1
    assert "base" in words["speech"]["not_measured"]
    (clip,) = words["ocr"]["files"]
    assert 1 <= clip["frames_read"] <= clip["bound_frames"] and clip["overlays_found"] == "1/1"
    assert words["ocr"]["scores_drawn_text"]["n"] >= 1
    assert "#### Speech" in (out / "words.md").read_text()
    assert (DOCS.read_text() if DOCS.exists() else None) == before, "a toy run must not touch the docs"
