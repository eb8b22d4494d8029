"""Indexing on a real local Ray cluster: same library as a local run, nothing lost to dead workers or drivers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import cli_env, cli_path, run_cli
from tests.e2e.library_checks import count_rows
from tests.synth.videos import make_library

pytest.importorskip("ray", reason="the cluster extra (ray) is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster-footage")
    make_library(root, n_videos=4, codecs=("h264", "vp9"), seed=5, scene_seconds=(2.0, 3.0))
    return root


@pytest.fixture(scope="module")
def local_home(small_footage: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("local-home")
    run_cli(home, "index", small_footage, "--quiet")
    return home


def snapshot(home: Path) -> dict[str, object]:
    """What a library holds, keyed by file name: status, probe fields, segments and frame vectors."""
    from reelseek.core.store import Store

    assert (home / "library.sqlite3").exists(), f"no database under {home}"
    store = Store(home / "library.sqlite3")
    try:
        out: dict[str, object] = {}
        for f in store.files():
            segs = store.segments_of_file(f.id, "reelseek-test-tiny")
            out[Path(f.path).name] = {
                "status": f.status,
                "duration": round(f.duration, 3),
                "size": (f.width, f.height),
                "segments": [(round(s[0], 3), round(s[1], 3)) for s in _seg_rows(store, f.id)],
                "vectors": np.stack([v for _, v, _ in segs]) if segs else np.zeros((0, 0)),
            }
        out["__count__"] = store.segment_count("reelseek-test-tiny")
        return out
    finally:
        store.close()


def _seg_rows(store, file_id: int) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    rows = store.conn.execute(
        "SELECT start_s, end_s FROM segments WHERE file_id = ? ORDER BY start_s", (file_id,)
    ).fetchall()
    return [(float(a), float(b)) for a, b in rows]


def assert_same_library(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    assert a["__count__"] == b["__count__"]
    for name in a:
        if name == "__count__":
            continue
        x, y = a[name], b[name]
        assert isinstance(x, dict) and isinstance(y, dict)
        assert x["status"] == y["status"] == "done", (name, x["status"], y["status"])
        assert x["duration"] == y["duration"] and x["size"] == y["size"], name
        assert x["segments"] == y["segments"], name
        # The same frames through the same model; only batch composition differs.
        np.testing.assert_allclose(x["vectors"], y["vectors"], atol=2e-3)


def cluster_index(home: Path, footage: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = subprocess.run(
        [cli_path(), "index", str(footage), "--cluster", "auto", "--json", *extra],
        env=env or cli_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_cluster_run_equals_local_run(small_footage: Path, local_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    summary = cluster_index(home, small_footage)
    assert summary["indexed"] == 4 and summary["errors"] == [], summary
    assert_same_library(snapshot(home), snapshot(local_home))
    # The same library then searches as usual, with the same answer as the local one.
    q = ["search", "a red circle", "--json", "-n", "3"]
    assert json.loads(run_cli(home, *q).stdout)[0]["path"] == json.loads(run_cli(local_home, *q).stdout)[0]["path"]
    # A second run has nothing to do: no file is committed twice.
    again = cluster_index(home, small_footage)
    assert again["indexed"] == 0 and again["unchanged"] == 4, again


def test_worker_killed_mid_file_loses_nothing(small_footage: Path, local_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    marker = tmp_path / "fault-fired"
    victim = sorted(p.name for p in small_footage.iterdir())[1]
    env = cli_env(home, REELSEEK_CLUSTER_FAULT=f"{victim}:{marker}")
    summary = cluster_index(home, small_footage, env=env)
    assert marker.exists(), "the worker never reached the fault: the test proves nothing"
    assert summary["indexed"] == 4 and summary["errors"] == [], summary
    assert_same_library(snapshot(home), snapshot(local_home))


def test_killed_driver_resumes_to_the_same_library(small_footage: Path, local_home: Path, tmp_path: Path) -> None:
    # The kill must land between the first and the last commit; on a busy machine a run can
    # commit everything between two polls, so that attempt proves nothing and is tried again.
    for attempt in range(3):
        home = tmp_path / f"home{attempt}"
        if _kill_driver_mid_run(home, small_footage):
            break
    else:
        pytest.fail("the driver never got killed between its first and its last commit in 3 tries")
    summary = cluster_index(home, small_footage)
    assert summary["errors"] == [], summary
    assert_same_library(snapshot(home), snapshot(local_home))


def _kill_driver_mid_run(home: Path, footage: Path) -> bool:
    proc = subprocess.Popen(
        [cli_path(), "index", str(footage), "--cluster", "auto", "--quiet"],
        env=cli_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the local Ray processes die with the driver's session
    )
    try:
        # No clock: the driver either commits a file or ends (pytest-timeout bounds a hang).
        while proc.poll() is None:
            if _done_files(home) >= 1:
                break
            time.sleep(0.1)
        if proc.poll() is not None:
            return False
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return 1 <= _done_files(home) < 4


def test_bad_cluster_arguments_are_clear(small_footage: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = run_cli(home, "index", small_footage, "--cluster", "auto", "--path-map", "nonsense", check=False)
    assert bad.returncode == 2 and "path mapping" in bad.stderr
    zero = run_cli(home, "index", small_footage, "--cluster", "auto", "--workers", "0", check=False)
    assert zero.returncode == 2 and "--workers" in zero.stderr


def test_two_node_cluster_survives_a_lost_node(small_footage: Path, local_home: Path, tmp_path: Path) -> None:
    """A head and a second node (two raylets on this machine); the second node is removed mid-run."""
    home = tmp_path / "home"
    script = Path(__file__).with_name("cluster_child.py")
    proc = subprocess.run(
        [sys.executable, str(script), str(home), str(small_footage)],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["node_lost"] and result["nodes_seen"] >= 1, result
    # Whatever the lost node held is redone by the head, in this run or the next.
    run_cli(home, "index", small_footage, "--quiet")
    assert_same_library(snapshot(home), snapshot(local_home))


def _done_files(home: Path) -> int:
    return count_rows(home / "library.sqlite3")
