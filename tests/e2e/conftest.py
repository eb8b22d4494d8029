"""End-to-end fixtures: generated footage, the real CLI in a subprocess, a private REELSEEK_HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.synth.videos import VideoSpec, make_library

TEST_MODEL = "reelseek-test-tiny"


def cli_path() -> str:
    exe = Path(sys.executable).with_name("reelseek-cli")
    return str(exe) if exe.exists() else shutil.which("reelseek-cli") or "reelseek-cli"


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
    env.update(REELSEEK_HOME=str(home), REELSEEK_MODEL=TEST_MODEL, PYTHONUNBUFFERED="1", **extra)
    return env


def run_cli(
    home: Path, *args: str | os.PathLike[str], check: bool = True, timeout: float = 600, **popen: object
) -> subprocess.CompletedProcess[str]:
    """Run the installed `reelseek-cli` console script against a private data folder."""
    proc = subprocess.run(
        [cli_path(), *map(str, args)],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        errors="surrogateescape",
        **popen,  # type: ignore[arg-type]
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"reelseek-cli {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def search_json(home: Path, *args: str | os.PathLike[str]) -> list[dict[str, object]]:
    out = run_cli(home, "search", *args, "--json").stdout
    return json.loads(out)


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[VideoSpec]]:
    """20 generated videos in H.264 mp4, HEVC mkv, VP9 webm and ProRes mov, 3-4 scenes each."""
    root = tmp_path_factory.mktemp("footage")
    videos = make_library(root, n_videos=20, codecs=("h264", "hevc", "vp9", "prores"), seed=11)
    return root, videos


@pytest.fixture(scope="session")
def indexed(footage, tmp_path_factory) -> tuple[Path, Path, list[VideoSpec]]:
    """The generated footage indexed once through the real CLI: (home, footage root, videos)."""
    root, videos = footage
    home = tmp_path_factory.mktemp("home")
    proc = run_cli(home, "index", root, "--json")
    summary = json.loads(proc.stdout)
    assert summary["indexed"] == len(videos), summary
    assert summary["errors"] == []
    return home, root, videos


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


Searcher = Callable[[str], Sequence[dict[str, object]]]
