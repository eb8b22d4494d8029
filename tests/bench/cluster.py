"""`python -m tests.bench.cluster [--videos N] [--seconds S]`: Ray fan-out against the local pipeline.

Same generated footage, same model, same run: the local pipeline, then a local Ray cluster with
1 and 2 workers; then the writer alone (how many files and segments per second one process
commits), which is the ceiling of any cluster. Writes ``bench-out/cluster.json`` (and the
``cluster`` key of ``bench-out/results.json`` when it exists) and prints a Markdown table.

Each indexing run happens in a fresh child process: Ray must start before usearch loads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = os.environ.get("REELSEEK_MODEL", "reelseek-test-tiny")

_CHILD = r"""
import json, sys, time
from reelseek.core.library import Library
home, footage, mode, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cluster = None
t0 = time.perf_counter()
if mode == "cluster":
    from reelseek.core.cluster import ClusterConfig, connect
    cluster = ClusterConfig(address="auto", workers=workers, local_cpus=2)
    connect(cluster)
t_ready = time.perf_counter()
lib = Library(home, model_id=sys.argv[5])
r = lib.index([footage], cluster=cluster)
lib.close()
print(json.dumps({"video_s": r.video_seconds, "files": r.indexed, "run_s": r.elapsed,
                  "startup_s": t_ready - t0, "workers_start_s": r.workers_start_s, "errors": len(r.errors)}))
"""


def _index(footage: Path, mode: str, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
        env["PYTHONPATH"] = str(REPO_ROOT)
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, home, str(footage), mode, str(workers), MODEL],
            capture_output=True,
            text=True,
            env=env,
            timeout=3600,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["rate"] = out["video_s"] / out["run_s"] if out["run_s"] else 0.0
    # Steady state: once every worker has loaded the model (what a long archive run sees).
    busy = out["run_s"] - out.get("workers_start_s", 0.0)
    out["steady_rate"] = out["video_s"] / busy if busy > 0 else 0.0
    return out


def writer_ceiling(n_files: int = 200, frames: int = 60, dim: int = 512) -> dict[str, float]:
    """Commit synthetic embedded files as the driver does; no decoding, no model."""
    from reelseek.core.index import VectorIndex
    from reelseek.core.indexer import IndexerConfig, commit_embedded
    from reelseek.core.media import ProbeInfo
    from reelseek.core.store import Store
    from reelseek.core.types import IndexReport

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as d:
        store = Store(Path(d) / "library.sqlite3")
        vi = VectorIndex(Path(d) / "seg.usearch", "bench", dim)
        folder = store.add_folder(d)
        rows = []
        for i in range(n_files):
            store.upsert_file(Path(d) / f"f{i:05d}.mp4", folder, 1000 + i, i, f"fp{i}")
            rows.append(store.file_by_path(Path(d) / f"f{i:05d}.mp4"))
        info = ProbeInfo(float(frames), 1920, 1080, 0, 25.0, False, "h264", "yuv420p", 8, "mp4", 2.0, False, None, True)
        thumb = b"\xff\xd8" + bytes(6000)
        payload = []
        for _ in rows:
            v = rng.standard_normal((frames, dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            payload.append(v)
        report = IndexReport()
        cfg = IndexerConfig()
        t0 = time.perf_counter()
        for row, v in zip(rows, payload, strict=True):
            assert row is not None
            commit_embedded(
                store, vi, "bench", row, info, np.arange(frames, dtype=np.float32), v, [thumb] * frames, cfg, report
            )
        elapsed = time.perf_counter() - t0
        segs = store.segment_count("bench")
        store.close()
    return {
        "files_per_s": n_files / elapsed,
        "segments_per_s": segs / elapsed,
        "video_s_per_s": n_files * frames / elapsed,
        "frames_per_file": frames,
        "dim": dim,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m tests.bench.cluster")
    p.add_argument("--videos", type=int, default=6)
    p.add_argument("--seconds", type=float, default=8.0, help="seconds per generated scene")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    args = p.parse_args(argv)
    from tests.synth.videos import make_library

    args.out.mkdir(parents=True, exist_ok=True)
    footage = args.out / "work" / f"cluster-footage-{args.videos}"
    if not footage.exists():
        make_library(
            footage, n_videos=args.videos, codecs=("h264",), seed=9, scene_seconds=(args.seconds, args.seconds)
        )
    local = _index(footage, "local", 0)
    one = _index(footage, "cluster", 1)
    two = _index(footage, "cluster", 2)
    writer = writer_ceiling()
    per_worker = two["steady_rate"] / 2 if two["steady_rate"] else 0.0
    res: dict[str, Any] = {
        "model": MODEL,
        "cores": os.cpu_count(),
        "local": local,
        "ray_1_worker": one,
        "ray_2_workers": two,
        "writer": writer,
        "scaling": {
            "per_worker_video_s_per_s": per_worker,
            # The writer commits what the workers send; beyond this many workers it is the bottleneck.
            "workers_until_writer_bound": writer["video_s_per_s"] / per_worker if per_worker else None,
        },
    }
    (args.out / "cluster.json").write_text(json.dumps(res, indent=2))
    results = args.out / "results.json"
    if results.exists():
        allres = json.loads(results.read_text())
        allres["cluster"] = res
        results.write_text(json.dumps(allres, indent=2))
    print(table(res))
    return res


def table(r: dict[str, Any]) -> str:
    rows = [
        "| run | video-s/s | after workers loaded | run s | Ray start s | workers start s |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| local pipeline (baseline) | {r['local']['rate']:.2f} | – | {r['local']['run_s']:.1f} | – | – |",
    ]
    for key, label in (("ray_1_worker", "Ray, 1 worker"), ("ray_2_workers", "Ray, 2 workers")):
        x = r[key]
        rows.append(
            f"| {label} | {x['rate']:.2f} | {x.get('steady_rate', 0.0):.2f} | {x['run_s']:.1f} | "
            f"{x['startup_s']:.1f} | {x.get('workers_start_s', 0.0):.1f} |"
        )
    w = r["writer"]
    rows.append("")
    rows.append(
        f"Writer alone ({w['frames_per_file']} frames of {w['dim']}-d per file): {w['files_per_s']:.1f} files/s, "
        f"{w['segments_per_s']:.0f} segments/s, {w['video_s_per_s']:.0f} video-s/s at 1 frame/s."
    )
    n = r["scaling"]["workers_until_writer_bound"]
    if n:
        per = r["scaling"]["per_worker_video_s_per_s"]
        rows.append(f"At {per:.2f} video-s/s per worker, the writer binds at ~{n:.0f} workers.")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
