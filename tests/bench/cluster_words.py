"""`python -m tests.bench.cluster_words [--files N]`: words (speech + on-screen text) on 1 Ray worker against local.

Same generated footage (espeak-ng speech clips and drawn-text clips), indexed by look once; then,
in one run, the words pass locally and on a local Ray cluster with 1 worker, each from a copy of
that library (so only words are read), in fresh child processes (Ray must start before usearch).
Then the writer alone for words: how many (file, source) results and lines per second one
process commits through ``WordsPass.record``. Writes ``bench-out/cluster_words.json``, prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = os.environ.get("REELSEEK_MODEL", "reelseek-test-tiny")

_CHILD = r"""
import json, sys, time
from reelseek.core.library import Library
home, footage, mode = sys.argv[1], sys.argv[2], sys.argv[3]
cluster = None
if mode == "cluster":
    from reelseek.core.cluster import ClusterConfig, connect
    cluster = ClusterConfig(address="auto", workers=1, local_cpus=2)
    connect(cluster)
lib = Library(home, model_id=sys.argv[4])
t0 = time.perf_counter()
r = lib.index([footage], cluster=cluster, words=sys.argv[5] == "1", words_sources=["said", "written"])
run_s = time.perf_counter() - t0
lib.close()
print(json.dumps({"run_s": run_s, "words_files": r.words_files, "words_lines": r.words_lines,
                  "workers_start_s": r.workers_start_s, "errors": len(r.words_errors) + len(r.errors)}))
"""


def _child(home: Path, footage: Path, mode: str, words: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
    env.update(PYTHONPATH=str(REPO_ROOT), REELSEEK_SPEECH_MODEL="tiny.en")
    args = [sys.executable, "-c", _CHILD, str(home), str(footage), mode, MODEL, "1" if words else "0"]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    files = max(1, out["words_files"])
    out["s_per_file"] = out["run_s"] / files
    # Steady state: once the worker has loaded Whisper and the text reader (a long run's rate).
    out["steady_s_per_file"] = (out["run_s"] - out["workers_start_s"]) / files
    return out


def make_footage(root: Path, n: int) -> float:
    """``n`` clips, alternately spoken and with drawn text; returns their total seconds."""
    from tests.synth.screen_text import STANDARD_OVERLAYS, write_text_clip
    from tests.synth.speech import PHRASES, write_speech_clip

    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if i % 2 == 0:
            write_speech_clip(root / f"talk_{i:02d}.mp4", [(1.0, PHRASES[i % len(PHRASES)])], duration=8.0)
        else:
            o = STANDARD_OVERLAYS[i % 4]
            shifted = type(o)(o.text, 1.0, 6.0, o.font, o.size, o.x, o.y, o.box)
            write_text_clip(root / f"text_{i:02d}.mp4", [shifted], duration=8.0)
    return 8.0 * n


def words_writer_ceiling(n_files: int = 200, lines: int = 20) -> dict[str, float]:
    """Commit synthetic words results as the driver does (one transaction per file and source)."""
    from reelseek.core.store import DONE, Store
    from reelseek.core.types import IndexReport
    from reelseek.core.words.pass_ import WordsPass
    from reelseek.core.words.types import SAID, WordLine

    with tempfile.TemporaryDirectory(prefix="bench-words-writer-") as d:
        store = Store(Path(d) / "library.sqlite3")
        folder = store.add_folder(d)
        for i in range(n_files):
            fid = store.upsert_file(Path(d) / f"f{i:05d}.mp4", folder, 1000 + i, i, f"fp{i}")
            store.set_status(fid, DONE)
        rows = store.files()
        words = tuple((k * 0.3, k * 0.3 + 0.25, f"word{k}") for k in range(8))
        payload = [
            WordLine(k * 3.0, k * 3.0 + 2.5, f"line {k} of the speech", SAID, "en", 0.9, words) for k in range(lines)
        ]
        wp, report = WordsPass(store, []), IndexReport()
        t0 = time.perf_counter()
        for row in rows:
            wp.record(row, SAID, "sig", payload, None, report)
        elapsed = time.perf_counter() - t0
        store.close()
    return {"results_per_s": n_files / elapsed, "lines_per_s": n_files * lines / elapsed, "lines_per_file": lines}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from tests.core.speech_helpers import bundled_tiny_en

    p = argparse.ArgumentParser(prog="python -m tests.bench.cluster_words")
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-words-") as tmp:
        footage = Path(tmp) / "footage"
        seconds = make_footage(footage, args.files)
        base = Path(tmp) / "base"
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
        cli = [sys.executable, "-m", "reelseek.core.cli", "models", "import-speech", str(bundled_tiny_en())]
        subprocess.run([*cli, "--as", "tiny.en"], env={**env, "REELSEEK_HOME": str(base)}, check=True, timeout=600)
        _child(base, footage, "local", words=False)  # the visual pass, once, for both
        runs = {}
        for mode in ("local", "cluster"):
            home = Path(tmp) / mode
            shutil.copytree(base, home)
            runs[mode] = _child(home, footage, mode, words=True)
    writer = words_writer_ceiling()
    per_worker = runs["cluster"]["steady_s_per_file"]
    res: dict[str, Any] = {
        "model": MODEL,
        "cores": os.cpu_count(),
        "files": args.files,
        "footage_s": seconds,
        "local": runs["local"],
        "ray_1_worker": runs["cluster"],
        "writer": writer,
        # One worker reads a file's words in per_worker seconds; the writer commits results_per_s.
        "workers_until_writer_bound": writer["results_per_s"] * per_worker / 2 if per_worker else None,
    }
    (args.out / "cluster_words.json").write_text(json.dumps(res, indent=2))
    print(table(res))
    return res


def table(r: dict[str, Any]) -> str:
    rows = [
        f"{r['files']} files, {r['footage_s']:.0f} s of footage, speech (Whisper tiny.en) + on-screen text:",
        "",
        "| run | words s/file | after worker loaded | run s | worker start s | lines |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (("local", "local words pass (baseline)"), ("ray_1_worker", "Ray, 1 worker")):
        x = r[key]
        rows.append(
            f"| {label} | {x['s_per_file']:.2f} | {x['steady_s_per_file']:.2f} | {x['run_s']:.1f} | "
            f"{x['workers_start_s']:.1f} | {x['words_lines']} |"
        )
    w = r["writer"]
    rows.append("")
    rows.append(
        f"Words writer alone ({w['lines_per_file']} lines per result): {w['results_per_s']:.0f} results/s, "
        f"{w['lines_per_s']:.0f} lines/s."
    )
    if r.get("workers_until_writer_bound"):
        rows.append(f"With 2 sources per file, the writer binds at ~{r['workers_until_writer_bound']:.0f} workers.")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
