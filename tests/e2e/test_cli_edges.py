"""reelseek-cli edges: bad values are refused clearly, -term queries work, a closed pipe and Ctrl-C end well."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import cli_env, cli_path, run_cli
from tests.e2e.library_checks import count_rows
from tests.synth.videos import make_library


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["search", "red", "--limit", "-5"], "--limit/-n: must be 1 or more"),
        (["search", "red", "--limit", "0"], "--limit/-n: must be 1 or more"),
        (["search", "red", "-n", "x"], "not a whole number"),
        (["search", "red", "--min-duration", "nan"], "--min-duration: not a duration: 'nan'"),
        (["search", "red", "--min-duration", "inf"], "--min-duration: not a duration: 'inf'"),
        (["search", "red", "--max-duration", "-inf"], "--max-duration: not a duration"),
        (["search", "red", "--min-duration", "-3"], "--min-duration: not a duration: '-3'"),
        (["search", "red", "--min-duration", "1:-30"], "not a duration"),
        (["search", "red", "--min-duration", "2m", "--max-duration", "30"], "longer than --max-duration"),
        (["index", "--every", "0"], "--every: must be a positive number of seconds"),
        (["index", "--every", "nan"], "--every: must be a positive number of seconds"),
        (["index", "--max-every", "-2"], "--max-every: must be a positive number of seconds"),
        (["index", "--max-every", "inf"], "--max-every: must be a positive number of seconds"),
        (["index", "--strict", "--max-every", "2"], "not allowed with argument --strict"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(tmp_path, args, says):
    proc = run_cli(tmp_path / "home", *args, check=False, timeout=600)
    assert proc.returncode == 2, proc
    assert says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def small_library(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("edges-footage")
    make_library(root, n_videos=3, codecs=("h264",), seed=5, scene_seconds=(2.0, 3.0))
    home = tmp_path_factory.mktemp("edges-home")
    run_cli(home, "index", root, "--quiet")
    return home, root


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["-car red"],  # one quoted argument (argparse already coped with the space)
        ["-car"],  # a lone negative term used to be read as an option
        ["-night"],  # used to be read as "-n ight" (--limit)
        ["red", "-car"],  # unquoted words
        ["--", "-car", "red"],  # the explicit way keeps working
    ],
)
def test_a_query_may_start_with_a_negative_term(small_library, args):
    home, _root = small_library
    proc = run_cli(home, "search", "--json", "-n", "3", *args, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    moments = json.loads(proc.stdout)
    assert 0 < len(moments) <= 3


@pytest.mark.slow
def test_negative_term_changes_the_ranking_the_same_as_with_double_dash(small_library):
    home, _root = small_library
    plain = json.loads(run_cli(home, "search", "red", "-blue", "--json").stdout)
    dashed = json.loads(run_cli(home, "search", "--json", "--", "red -blue").stdout)
    assert plain == dashed


@pytest.mark.slow
def test_closed_pipe_ends_quietly(small_library):
    home, _root = small_library
    # The reader is gone before reelseek writes a byte: every write meets a closed pipe, like
    # `reelseek-cli status | head -2` once head has exited (no timing involved).
    for args in (["status"], ["folders"], ["search", "red", "--json"]):
        r, w = os.pipe()
        os.close(r)
        proc = subprocess.run(
            [cli_path(), *args], env=cli_env(home), stdout=w, stderr=subprocess.PIPE, text=True, timeout=300
        )
        os.close(w)
        assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
        assert proc.returncode == 128 + signal.SIGPIPE, (args, proc.returncode, proc.stderr)


@pytest.mark.slow
def test_summary_counts_right_after_ctrl_c_resume(tmp_path):
    root = tmp_path / "footage"
    videos = make_library(root, n_videos=8, codecs=("h264",), seed=9, scene_seconds=(4.0, 6.0))
    home = tmp_path / "home"
    db = home / "library.sqlite3"

    def done_count() -> int:
        return count_rows(db)

    proc = subprocess.Popen(
        [cli_path(), "index", str(root), "--quiet", "--every", "0.25"],
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # No clock: the run either commits a file or ends (pytest-timeout bounds a hang).
    while done_count() < 1 and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "indexing finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)  # Ctrl-C: stop after the current batch
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, err
    assert "stopped early" in out
    done_before = done_count()
    assert 0 < done_before < len(videos)

    summary = json.loads(run_cli(home, "index", root, "--every", "0.25", "--json").stdout)
    assert summary["errors"] == []
    assert summary["unchanged"] == done_before, summary
    assert summary["indexed"] == len(videos) - done_before, summary
    assert summary["indexed"] + summary["unchanged"] == len(videos)
