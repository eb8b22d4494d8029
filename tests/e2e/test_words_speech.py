"""Speech through the whole product: espeak-ng phrases indexed by the real CLI with Whisper tiny.en, fused in search."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.core.speech_helpers import bundled_tiny_en
from tests.e2e.conftest import cli_env, cli_path, run_cli
from tests.synth.speech import have_espeak, write_speech_clip
from tests.synth.videos import SceneSpec, write_video

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")]
PHRASE = "we need more coffee in the kitchen"


def cli(home: Path, *args: object) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, REELSEEK_SPEECH_MODEL="tiny.en")
    proc = subprocess.run([cli_path(), *map(str, args)], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def speech_lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech_footage")
    spoken = write_speech_clip(root / "talk.mp4", [(2.0, PHRASE)], duration=8.0)
    for i, (c, s, b) in enumerate([("red", "circle", "grass"), ("blue", "square", "sand"), ("green", "star", "sky")]):
        write_video(root / f"quiet_{i}.mp4", [SceneSpec(c, s, b, "still", 0.0, 6.0)], width=128, height=96)
    home = tmp_path_factory.mktemp("speech_home")
    run_cli(home, "models", "import-speech", bundled_tiny_en(), "--as", "tiny.en")
    summary = json.loads(cli(home, "index", root, "--words-sources", "said,subtitle", "--json").stdout)
    return home, root, spoken[0], summary


def test_spoken_phrase_is_rank_1_above_unrelated_visual_moments(speech_lib):
    home, _root, spoken, summary = speech_lib
    assert summary["words"]["errors"] == [] and summary["words"]["lines"] >= 1
    moments = json.loads(cli(home, "search", "more coffee in the kitchen", "--json", "-n", "10", "--all").stdout)
    top, rest = moments[0], moments[1:]
    assert Path(top["path"]).name == "talk.mp4" and "said" in top["sources"]
    assert min(top["end"], spoken.end) - max(top["start"], spoken.start) > 0  # overlaps the spoken words
    assert top["words"] and all(w["source"] == "said" for w in top["words"])
    assert rest and all("said" not in m["sources"] and m["confidence"] < top["confidence"] for m in rest)
    only = json.loads(cli(home, "search", 'said:"coffee"', "--json").stdout)
    assert [Path(m["path"]).name for m in only] == ["talk.mp4"]
    assert json.loads(cli(home, "search", "coffee", "--source", "seen", "--json").stdout)[0]["sources"] == ["seen"]


def test_speech_status_and_transcript(speech_lib):
    home, root, _spoken, _ = speech_lib
    status = json.loads(run_cli(home, "status", "--json").stdout)
    assert status["words"]["counts"]["said"] == {"done": 1, "none": 3}  # clips without audio: a check only
    lines = json.loads(run_cli(home, "transcript", root / "talk.mp4", "-f", "json").stdout)
    assert lines and lines[0]["source"] == "said" and lines[0]["words"]
    assert "coffee" in " ".join(ln["text"].lower() for ln in lines)
