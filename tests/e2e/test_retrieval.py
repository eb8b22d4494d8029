"""Text queries find the right file and the right seconds on a generated library (real CLI, real model)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import iou, run_cli
from tests.synth.videos import VideoSpec

pytestmark = pytest.mark.slow

# "A clear majority": the product must meet both; the broken variants must not.
MIN_FILE_AT_1 = 0.85
MIN_IOU_RATE = 0.6


def evaluate(home: Path, videos: list[VideoSpec], tmp: Path, *extra: str) -> dict[str, float]:
    """Ask for every scene's caption; score the top result's file and time range."""
    queries = tmp / "queries.txt"
    truth = {}
    for v in videos:
        for s in v.scenes:
            truth[s.caption()] = (v, s)
    queries.write_text("\n".join(truth), encoding="utf-8")
    out = json.loads(run_cli(home, "search", "--batch", queries, "--json", "--limit", "5", *extra).stdout)
    file_hits = iou_hits = 0
    ious = []
    for item in out:
        v, s = truth[item["query"]]
        top = item["moments"][0] if item["moments"] else None
        right_file = top is not None and Path(top["path"]) == v.path
        overlap = iou((top["start"], top["end"]), (s.start, s.end)) if right_file else 0.0
        file_hits += right_file
        iou_hits += overlap >= 0.5
        ious.append(overlap)
    n = len(out)
    return {
        "queries": n,
        "file_at_1": file_hits / n,
        "iou_0.5_rate": iou_hits / n,
        "mean_iou": float(np.mean(ious)),
    }


def passes(rates: dict[str, float]) -> bool:
    return rates["file_at_1"] >= MIN_FILE_AT_1 and rates["iou_0.5_rate"] >= MIN_IOU_RATE


def test_text_finds_the_right_moment(indexed, tmp_path, record_property):
    home, _root, videos = indexed
    rates = evaluate(home, videos, tmp_path)
    print(f"\nretrieval (two-stage): {rates}")
    record_property("two_stage", rates)
    assert rates["queries"] >= 60
    assert passes(rates), rates


def test_same_test_fails_without_stage_two(indexed, tmp_path, record_property):
    home, _root, videos = indexed
    rates = evaluate(home, videos, tmp_path, "--single-stage")
    print(f"\nretrieval (stage 1 only): {rates}")
    record_property("single_stage", rates)
    assert not passes(rates), f"segment vectors alone should not localize moments: {rates}"


def test_same_test_fails_with_shuffled_timestamps(indexed, tmp_path, record_property):
    home, _root, videos = indexed
    broken = tmp_path / "home"
    shutil.copytree(home, broken)
    # Shuffle the sampled frames' timestamps inside every file: vectors stay, times lie.
    # (Kept unsorted: sorting a permutation of a one-segment file would restore it.)
    conn = sqlite3.connect(broken / "library.sqlite3")
    rng = np.random.default_rng(0)
    files = [r[0] for r in conn.execute("SELECT DISTINCT file_id FROM segments")]
    for fid in files:
        rows = conn.execute("SELECT id, times FROM segments WHERE file_id=? ORDER BY start_s", (fid,)).fetchall()
        times = np.concatenate([np.frombuffer(t, dtype=np.float32) for _, t in rows])
        shuffled = rng.permutation(times)
        k = 0
        for sid, t in rows:
            n = len(t) // 4
            conn.execute(
                "UPDATE segments SET times=? WHERE id=?", (shuffled[k : k + n].astype(np.float32).tobytes(), sid)
            )
            k += n
    conn.commit()
    conn.close()
    rates = evaluate(broken, videos, tmp_path)
    print(f"\nretrieval (timestamps shuffled): {rates}")
    record_property("shuffled", rates)
    assert not passes(rates), f"shuffled timestamps should break localization: {rates}"
