"""A `reelseek-cli search` process does only a text query's work: no heavy imports, one query embedded.

Counted, never timed: the modules the process imported and the texts it sent to the text
encoder. A library without a saved calibration runs the null queries once and saves them, so
the next search (a separate process) embeds only its own query again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reelseek.core.calibration import NULL_QUERIES, sidecar_path
from tests.e2e.conftest import TEST_MODEL, cli_env, run_cli
from tests.synth.videos import make_library

# What a text search must never load: the image tower's stack, media decoding, the HNSW
# library, migration helpers, and numpy's masked arrays (np.median imports them).
NOT_IMPORTED = (
    "torch",
    "open_clip",
    "torchvision",
    "av",
    "PIL",
    "usearch",
    "sqlite_utils",
    "numpy.ma",
    "faster_whisper",
    "rapidocr",
    "opentimelineio",
    "PySide6",
)

_CHILD = """
import json, sys
from reelseek.core.models import text_encoder as te
texts = []
orig = te.TextEncoder.encode_texts
def counted(self, items):
    texts.extend([items] if isinstance(items, str) else list(items))
    return orig(self, items)
te.TextEncoder.encode_texts = counted
out = sys.argv[1]
sys.argv = ["reelseek-cli", "search", sys.argv[2], "--limit", "3"]
from reelseek.core.cli import main
try:
    rc = main()
except SystemExit as e:
    rc = e.code
loaded = sorted(m for m in sys.modules if m in NOT_IMPORTED or m.split(".")[0] in NOT_IMPORTED)
with open(out, "w") as f:
    json.dump({"rc": rc, "texts": texts, "loaded": loaded}, f)
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("footage")
    make_library(root, n_videos=3, codecs=("h264",), seed=71, scene_seconds=(2.0, 3.0))
    home = tmp_path_factory.mktemp("home")
    run_cli(home, "index", root, "--quiet")
    run_cli(home, "search", "warm: builds the text-tower export once")
    return home


def _search(home: Path, text: str, out: Path) -> dict[str, object]:
    code = f"NOT_IMPORTED = {NOT_IMPORTED!r}\n{_CHILD}"
    subprocess.run(
        [sys.executable, "-c", code, str(out), text],
        env=cli_env(home),
        check=True,
        capture_output=True,
        timeout=600,
    )
    got: dict[str, object] = json.loads(out.read_text())
    return got


def _null_texts(texts: list[str]) -> list[str]:
    return [t for t in texts if any(q in t for q in NULL_QUERIES)]


def test_a_text_search_embeds_only_its_query_and_loads_nothing_heavy(home: Path, tmp_path: Path) -> None:
    assert sidecar_path(home, TEST_MODEL).exists()  # `index` saved the calibration
    got = _search(home, "a red circle", tmp_path / "out.json")
    assert got["rc"] == 0
    assert got["loaded"] == []
    texts = [t for t in got["texts"] if t != "a"]  # "a": the export's load-time probe
    assert texts and all("a red circle" in t for t in texts), texts


def test_a_missing_calibration_is_computed_once_and_saved(home: Path, tmp_path: Path) -> None:
    sidecar = sidecar_path(home, TEST_MODEL)
    saved = sidecar.read_bytes()
    sidecar.unlink()
    try:
        first = _search(home, "a blue square", tmp_path / "first.json")
        assert len(_null_texts(first["texts"])) >= len(NULL_QUERIES)  # type: ignore[arg-type]
        assert sidecar.exists()  # the search process saved it (a cache; the folder is writable)
        assert not list(home.glob("*.tmp"))
        second = _search(home, "a green triangle", tmp_path / "second.json")
        assert _null_texts(second["texts"]) == []  # type: ignore[arg-type]
        assert second["loaded"] == []
    finally:
        sidecar.write_bytes(saved)
