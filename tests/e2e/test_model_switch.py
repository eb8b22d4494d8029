"""Switching models keeps search answering with the old model until the new one covers the library.

Two real models side by side: the shipped test model and a second one made here (random weights
in the test model's open_clip config, imported under its own id). Everything runs through the
installed `reelseek-cli` on a generated library with the real SQLite store and usearch index.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import TEST_MODEL, cli_path
from tests.synth.videos import make_library

NEW = "tiny-random"  # the second model, created by the test
QUERIES = ("a red circle", "a blue square moving", "green triangle on a dark background")


def env(home: Path) -> dict[str, str]:
    # No $REELSEEK_MODEL: the model comes from the library's settings, as for a user.
    e = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
    e.update(REELSEEK_HOME=str(home), PYTHONUNBUFFERED="1")
    return e


def cli(home: Path, *args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([cli_path(), *map(str, args)], env=env(home), capture_output=True, text=True, timeout=900)
    if ok and proc.returncode != 0:
        raise AssertionError(f"reelseek-cli {args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def results(home: Path, model: str | None = None) -> list[list[tuple[str, float, float, float]]]:
    """Every query's moments (file, start, end, score): what a model answers, to compare runs."""
    out = []
    pick = ["--model", model] if model else []
    for q in QUERIES:
        moments = json.loads(cli(home, *pick, "search", q, "--json", "-n", "8").stdout)
        out.append([(Path(m["path"]).name, m["start"], m["end"], round(m["score"], 4)) for m in moments])
    return out


def status(home: Path) -> dict[str, object]:
    return json.loads(cli(home, "status", "--json").stdout)["models"]


def segments_of(home: Path, model: str) -> int:
    conn = sqlite3.connect(home / "library.sqlite3")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM segments WHERE model_id=?", (model,)).fetchone()[0])
    finally:
        conn.close()


def done_with(home: Path, model: str) -> int:
    conn = sqlite3.connect(home / "library.sqlite3", timeout=30)
    try:
        return int(
            conn.execute("SELECT COUNT(*) FROM files WHERE status='done' AND model_id=?", (model,)).fetchone()[0]
        )
    finally:
        conn.close()


def random_weights(path: Path, seed: int) -> Path:
    """A randomly initialised model with the test model's own open_clip config, as safetensors."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    from reelseek.core.models import get_spec
    from reelseek.core.models.weights import bundled_dir

    bdir = bundled_dir(get_spec(TEST_MODEL))
    assert bdir is not None
    cfg = json.loads((bdir / "open_clip_config.json").read_text())["model_cfg"]
    torch.manual_seed(seed)
    model = open_clip.CLIP(**cfg)
    save_file({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path]:
    """(home, folder a, folder b, new weights file), indexed with the test model only."""
    root = tmp_path_factory.mktemp("switch")
    a, b = root / "a", root / "b"
    make_library(a, n_videos=3, codecs=("h264",), seed=21, scene_seconds=(2.0, 3.0))
    make_library(b, n_videos=5, codecs=("h264",), seed=22, scene_seconds=(2.0, 3.0))
    home = root / "home"
    cli(home, "models", "use", TEST_MODEL)
    summary = json.loads(cli(home, "index", a, b, "--json", "--no-words").stdout)
    assert summary["indexed"] == 8 and summary["errors"] == [], summary
    return home, a, b, random_weights(root / "random.safetensors", seed=5)


def test_switch_keeps_old_model_until_new_covers_then_prune_on_request(library) -> None:
    home, a, _b, weights = library
    old = results(home)
    assert all(old), "the test model finds moments"
    st = status(home)
    assert st["target"] == TEST_MODEL and st["serving"] == TEST_MODEL and not st["switching"]

    # A second model under its own id, with the test model's architecture.
    out = cli(home, "models", "import", weights, "--as", NEW, "--like", TEST_MODEL).stdout
    assert NEW in out
    listed = json.loads(cli(home, "models", "list", "--json").stdout)
    assert any(m["id"] == NEW and m["available"] for m in listed)

    # Choosing it changes nothing for search until its vectors cover the library.
    use = cli(home, "models", "use", NEW).stdout
    assert "searches keep using " + TEST_MODEL in use
    st = status(home)
    assert st["switching"] and st["target"] == NEW and st["serving"] == TEST_MODEL and st["percent"] == 0
    assert results(home) == old

    # Part of the way: only folder a is indexed with the new model (3 of 8 files).
    proc = cli(home, "index", a, "--no-words")
    assert f"new model {NEW} 37%" in proc.stdout, proc.stdout
    st = status(home)
    assert (st["covered"], st["total"], st["percent"]) == (3, 8, 37), st
    assert st["switching"] and st["serving"] == TEST_MODEL
    text = cli(home, "status").stdout
    assert f"new model {NEW} 37% (3/8 files); searches use {TEST_MODEL}" in text
    assert segments_of(home, NEW) > 0 and segments_of(home, TEST_MODEL) > 0
    # The old model answers exactly as before: no query is scored against the new vectors.
    assert results(home) == old
    # An explicit --model works only for a model that covers the library.
    assert results(home, TEST_MODEL) == old
    partial = cli(home, "--model", NEW, "search", "red", ok=False)
    assert partial.returncode == 2 and "covers 37%" in partial.stderr, partial.stderr

    # kill -9 in the middle of the new model's run: nothing is lost, search still the old model.
    before = done_with(home, NEW)
    proc2 = subprocess.Popen(
        [cli_path(), "index", "--no-words", "-q"], env=env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    while done_with(home, NEW) == before and proc2.poll() is None:
        time.sleep(0.02)
    proc2.send_signal(signal.SIGKILL)
    proc2.wait(timeout=60)
    after = done_with(home, NEW)
    assert after >= before  # committed files stay committed
    st = status(home)
    assert st["covered"] == after
    if after < 8:
        assert st["switching"] and results(home) == old

    # Run to the end: searches switch to the new model on their own.
    cli(home, "index", "--no-words")
    st = status(home)
    assert (st["covered"], st["total"], st["switching"], st["serving"]) == (8, 8, False, NEW), st
    new = results(home)
    assert new != old
    assert results(home, NEW) == new
    assert results(home, TEST_MODEL) == old  # the old vectors are still there, complete

    # The old vectors stay until asked; the chosen model can never be pruned.
    assert st["prunable"] == [TEST_MODEL]
    assert segments_of(home, TEST_MODEL) > 0 and (home / f"segments-{TEST_MODEL}.stage1" / "manifest.json").exists()
    refused = cli(home, "models", "prune", NEW, ok=False)
    assert refused.returncode != 0 and "nothing was removed" in refused.stderr
    assert f"models prune {TEST_MODEL}" in cli(home, "status").stdout
    cli(home, "models", "prune", TEST_MODEL)
    assert segments_of(home, TEST_MODEL) == 0
    assert not list(home.glob(f"segments-{TEST_MODEL}.*"))
    assert segments_of(home, NEW) > 0 and results(home) == new
    assert status(home)["prunable"] == []
    again = cli(home, "models", "prune", TEST_MODEL, ok=False)
    assert again.returncode != 0 and "no vectors" in again.stderr


def test_switching_back_and_bad_model_files_keep_the_old_model_serving(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    make_library(a, n_videos=2, codecs=("h264",), seed=31, scene_seconds=(2.0, 3.0))
    make_library(b, n_videos=2, codecs=("h264",), seed=32, scene_seconds=(2.0, 3.0))
    home = tmp_path / "home"
    cli(home, "models", "use", TEST_MODEL)
    cli(home, "index", a, b, "--no-words")
    old = results(home)
    settings = home / "settings.json"

    # Unknown and absent models are refused with a clear message; nothing changes.
    unknown = cli(home, "models", "use", "no-such-model", ok=False)
    assert unknown.returncode == 2 and "unknown model" in unknown.stderr
    assert f"searches keep using {TEST_MODEL}" in unknown.stderr
    absent = cli(home, "models", "use", "vit-b-32", ok=False)
    assert absent.returncode == 2 and "not on this machine" in absent.stderr
    assert json.loads(settings.read_text())["model_id"] == TEST_MODEL

    # A corrupt weights file is refused when chosen...
    cli(home, "models", "import", random_weights(tmp_path / "w.safetensors", 7), "--as", NEW, "--like", TEST_MODEL)
    wfile = home / "models" / NEW / "open_clip_model.safetensors"
    good = wfile.read_bytes()
    wfile.write_bytes(good[: len(good) // 3])
    bad = cli(home, "models", "use", NEW, ok=False)
    assert bad.returncode == 2 and "not a readable weights file" in bad.stderr, bad.stderr
    assert json.loads(settings.read_text())["model_id"] == TEST_MODEL and results(home) == old

    # ...and one that goes bad after it was chosen stops the run with a message, search unharmed.
    wfile.write_bytes(good)
    cli(home, "models", "use", NEW)
    wfile.write_bytes(good[: len(good) // 3])
    failed = cli(home, "index", "--no-words", ok=False)
    assert failed.returncode == 2 and NEW in failed.stderr and "Traceback" not in failed.stderr, failed.stderr
    assert status(home)["serving"] == TEST_MODEL and results(home) == old
    wfile.unlink()
    gone = cli(home, "index", "--no-words", ok=False)
    assert gone.returncode == 2 and "not on this machine" in gone.stderr
    assert results(home) == old

    # Part way, then back to the old model: it answers at once, the new vectors wait to be pruned.
    wfile.write_bytes(good)
    cli(home, "index", a, "--no-words")
    st = status(home)
    assert st["switching"] and st["covered"] == 2 and st["total"] == 4
    back = cli(home, "models", "use", TEST_MODEL).stdout
    assert TEST_MODEL in back
    st = status(home)
    assert not st["switching"] and st["serving"] == TEST_MODEL and st["prunable"] == [NEW]
    assert results(home) == old
    cli(home, "models", "prune", NEW)
    assert segments_of(home, NEW) == 0 and results(home) == old
    # The next run puts the files the new model had taken back on the old one; search unchanged.
    cli(home, "index", "--no-words")
    st = status(home)
    assert (st["covered"], st["total"], st["switching"]) == (4, 4, False)
    # Re-embedded frames may move a range edge by a sample; the best moments stay the old model's.
    again = results(home)
    for before, after in zip(old, again, strict=True):
        assert after[0][0] == before[0][0] and abs(after[0][3] - before[0][3]) < 0.01, (before[0], after[0])
