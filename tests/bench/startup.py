"""Time to first answer: `reelseek-cli search` from process start to printed results, before and after.

The library is the product's own files (written directly, as the search benchmark does) with
the default architecture's weights imported through `reelseek-cli models import` (random
weights: same compute). "before" forces the old path (``REELSEEK_TEXT_ENGINE=torch``: import
torch and open_clip, build the whole model); "after" is the default (the exported text tower on
ONNX Runtime). Runs alternate so machine load hits both alike; wall, CPU time and peak RSS
come from ``os.wait4`` on each child.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import REPO_ROOT, log, median
from tests.bench.embedders import default_spec

QUERY = "a person walking a dog on a beach at sunset"


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("reelseek-cli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "reelseek.core.cli"]


def _env(home: Path, pycache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
    # An installed app has its bytecode compiled; this machine's PYTHONDONTWRITEBYTECODE would
    # make every run recompile reelseek from source, so bytecode goes to a private cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(REELSEEK_HOME=str(home), REELSEEK_MODEL=default_spec().id, PYTHONPYCACHEPREFIX=str(pycache), **extra)
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds, CPU seconds and peak RSS of one child, from spawn to exit.

    The RSS comes from GNU time's own child: Linux carries a process's peak RSS across exec, so
    a child spawned straight from this (large) process would report at least this one's size.
    """
    stats = Path(env["REELSEEK_HOME"]) / "time.txt"
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(stats), *cmd],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=900,
    )
    wall = time.perf_counter() - t0
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    rss_kb, user, sys_s = stats.read_text().split()[-3:]
    return {
        "wall_s": wall,
        "cpu_s": float(user) + float(sys_s),
        "peak_rss_bytes": int(rss_kb) * 1024,
        "first_line": out.splitlines()[0][:200],
    }


def prepare(work: Path, n_segments: int) -> Path:
    """A home with the default model's weights imported and ``n_segments`` written segments."""
    from tests.bench.search import generate_library

    spec = default_spec()
    home = work / f"home-{spec.id}-{n_segments}"
    if (home / "ready").exists():
        calibrate(home)  # homes made before the bench saved it
        return home
    home.mkdir(parents=True, exist_ok=True)
    import_weights(home, work)
    generate_library(home, n_segments, dim=spec.dim, model_id=spec.id, n_queries=1, seed=0)
    calibrate(home)
    (home / "ready").write_text("1")
    return home


def import_weights(home: Path, work: Path) -> None:
    """Import open_clip's default architecture with random weights (same compute) into ``home``."""
    spec = default_spec()
    if spec.is_bundled:
        return
    weights = work / f"random-{spec.id}.safetensors"
    if not weights.exists():
        import open_clip
        import torch
        from safetensors.torch import save_file

        torch.manual_seed(0)
        model = open_clip.create_model(spec.arch, pretrained=None)
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(weights))
    subprocess.run(
        [*_cli(), "models", "import", str(weights), "--as", spec.id],
        env=_env(home, work / "pycache"),
        check=True,
        capture_output=True,
        timeout=3600,
    )


def calibrate(home: Path) -> Path:
    """Save the null-query calibration as `reelseek-cli index` does at the end of a run
    (``Library._calibrate``): the library is written directly here, not indexed."""
    from reelseek.core.calibration import sidecar_path
    from reelseek.core.library import Library

    spec = default_spec()
    path = sidecar_path(home, spec.id)
    if not path.exists():
        lib = Library(home, model_id=spec.id)
        try:
            lib.searcher(spec.id).calibration()
        finally:
            lib.close()
    return path


def embedding_comparison(home: Path, n: int) -> dict[str, Any]:
    """Query embedding (4 prompt templates) per engine, and the chosen path's cosine to fp32."""
    from reelseek.core.models.embedder import load_embedder
    from reelseek.core.models.text_encoder import load_text_encoder
    from reelseek.core.paths import data_paths
    from reelseek.core.search import DEFAULT_TEMPLATES

    spec = default_spec()
    models = data_paths(home).models
    engines = {
        "fp32 torch (full model)": load_embedder(spec, device="cpu", models_dir=models, precision="fp32"),
        "product before (auto precision, full model)": load_embedder(spec, device="cpu", models_dir=models),
        "onnxruntime text tower (chosen)": load_text_encoder(spec, models),
    }
    texts = [f"{QUERY}, take {i}" for i in range(n)]
    out: dict[str, Any] = {"templates": len(DEFAULT_TEMPLATES), "queries": n}
    ref = None
    for name, enc in engines.items():
        enc.encode_texts(["warm up"])
        walls, vecs = [], []
        for t in texts:
            batch = [tpl.format(t) for tpl in DEFAULT_TEMPLATES]
            t0 = time.perf_counter()
            vecs.append(enc.encode_texts(batch))
            walls.append(time.perf_counter() - t0)
        v = np.concatenate(vecs)
        if ref is None:
            ref = v
        out[name] = {"ms_median": 1000 * median(walls), "ms_best": 1000 * min(walls)}
        out[name]["min_cosine_to_fp32"] = float(np.sum(v * ref, axis=1).min())
    return out


def run_startup(work: Path, *, runs: int, n_segments: int, memory_segments: int | None) -> dict[str, Any]:
    spec = default_spec()
    work.mkdir(parents=True, exist_ok=True)
    log(f"startup: library of {n_segments} segments, {spec.id}")
    home = prepare(work, n_segments)
    pycache = work / "pycache"
    cmd = [*_cli(), "search", QUERY, "--limit", "5"]
    after_env = _env(home, pycache)
    before_env = _env(home, pycache, REELSEEK_TEXT_ENGINE="torch")
    first = _timed(cmd, after_env)  # builds the text-tower export if absent (once per weights file)
    _timed(cmd, before_env)  # writes the before path's bytecode cache: neither run below pays for it
    # A library without a saved calibration (indexed by an older reelseek, or written directly):
    # the first search runs the 36 null queries and, being allowed to, saves the result.
    sidecar = calibrate(home)
    sidecar.unlink()
    uncalibrated = _timed(cmd, after_env)
    uncalibrated["saved_calibration"] = sidecar.exists()
    calibrate(home)
    after_saved = _timed(cmd, after_env)
    runs_before, runs_after = [], []
    for i in range(runs):
        log(f"startup: run {i + 1}/{runs}")
        runs_before.append(_timed(cmd, before_env))
        runs_after.append(_timed(cmd, after_env))
    if runs_before[0]["first_line"] != runs_after[0]["first_line"]:
        log(f"startup: top results differ: {runs_before[0]['first_line']!r} vs {runs_after[0]['first_line']!r}")

    def summary(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "wall_s_median": median([r["wall_s"] for r in rs]),
            "wall_s_best": min(r["wall_s"] for r in rs),
            "cpu_s_median": median([r["cpu_s"] for r in rs]),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rs),
            "runs": rs,
        }

    result: dict[str, Any] = {
        "model": spec.id,
        "segments": n_segments,
        "command": " ".join(["reelseek-cli", "search", repr(QUERY), "--limit", "5"]),
        "first_run_with_export": first,
        "first_run_without_saved_calibration": uncalibrated,
        "next_run_after_it": after_saved,
        "before": summary(runs_before),
        "after": summary(runs_after),
        "same_top_result": runs_before[0]["first_line"] == runs_after[0]["first_line"],
        "loadavg": list(os.getloadavg()),
    }
    if memory_segments:
        log(f"startup: peak RSS of a search over {memory_segments} segments")
        big = prepare(work, memory_segments)
        _timed(cmd, _env(big, pycache))  # its own models folder: the export is built here, not measured
        result["memory"] = {
            "segments": memory_segments,
            "after": _timed(cmd, _env(big, pycache)),
            "before": _timed(cmd, _env(big, pycache, REELSEEK_TEXT_ENGINE="torch")),
        }
    log("startup: query embedding per engine")
    result["embedding"] = embedding_comparison(home, max(5, runs * 2))
    if memory_segments:
        from tests.bench.further import further_queries

        log(f"startup: further queries in one process at {memory_segments} segments")
        result["further_query"] = further_queries(big, spec.id, max(10, runs * 2))
    from tests.bench.app_first import app_first_search

    log("startup: the app's first search")
    # A one-run smoke (the test suite's toy run) leaves the old torch text path out: it costs a
    # minute per run on a loaded machine. (It also used to freeze the app: desktop/tasks.py.)
    before_runs = 0 if runs == 1 else None
    result["app_first_search"] = app_first_search(
        home, pycache, spec.id, runs=max(1, (runs + 1) // 2), before_runs=before_runs
    )
    return result


def markdown(st: dict[str, Any]) -> list[str]:
    """The startup table for results.md and docs/benchmarks.md."""
    b, a, first = st["before"], st["after"], st["first_run_with_export"]
    out = [
        "",
        f"### Time to first answer (`{st['command']}`, {st['model']}, {st['segments']} segments, "
        f"median of {len(a['runs'])} runs, alternating; load average {st['loadavg'][0]:.1f})",
        "",
        "| path | wall s median (best) | CPU s median | peak RSS |",
        "| --- | ---: | ---: | ---: |",
        f"| before: torch + open_clip, whole model | {b['wall_s_median']:.2f} ({b['wall_s_best']:.2f}) | "
        f"{b['cpu_s_median']:.2f} | {b['peak_rss_bytes'] / 2**20:.0f} MB |",
        f"| after: ONNX Runtime text tower, no torch | {a['wall_s_median']:.2f} ({a['wall_s_best']:.2f}) | "
        f"{a['cpu_s_median']:.2f} | {a['peak_rss_bytes'] / 2**20:.0f} MB |",
        f"| first run after an import (builds the export once) | {first['wall_s']:.2f} | "
        f"{first['cpu_s']:.2f} | {first['peak_rss_bytes'] / 2**20:.0f} MB |",
    ]
    quiet = st.get("rerun_quieter")
    if quiet:
        out.append(
            f"| re-run at load {quiet['loadavg'][0]:.1f}: before / after | {quiet['before']['wall_s_median']:.2f} "
            f"({quiet['before']['wall_s_best']:.2f}) / {quiet['after']['wall_s_median']:.2f} "
            f"({quiet['after']['wall_s_best']:.2f}) | {quiet['before']['cpu_s_median']:.2f} / "
            f"{quiet['after']['cpu_s_median']:.2f} | {quiet['before']['peak_rss_bytes'] / 2**20:.0f} / "
            f"{quiet['after']['peak_rss_bytes'] / 2**20:.0f} MB |"
        )
    mem = st.get("memory")
    if mem:
        out.append(
            f"| search over {mem['segments']:,} segments: after / before | {mem['after']['wall_s']:.2f} / "
            f"{mem['before']['wall_s']:.2f} | {mem['after']['cpu_s']:.2f} / {mem['before']['cpu_s']:.2f} | "
            f"{mem['after']['peak_rss_bytes'] / 2**20:.0f} / {mem['before']['peak_rss_bytes'] / 2**20:.0f} MB |"
        )
    nocal, nxt = st.get("first_run_without_saved_calibration"), st.get("next_run_after_it")
    if nocal and nxt:
        out.append(
            f"| after, a library without a saved calibration: first search (runs the null queries, saves "
            f"them: {nocal.get('saved_calibration')}) / the next | {nocal['wall_s']:.2f} / {nxt['wall_s']:.2f} | "
            f"{nocal['cpu_s']:.2f} / {nxt['cpu_s']:.2f} | {nocal['peak_rss_bytes'] / 2**20:.0f} / "
            f"{nxt['peak_rss_bytes'] / 2**20:.0f} MB |"
        )
    e = st["embedding"]
    out += [
        "",
        f"Query embedding ({e['templates']} prompt templates per query, {e['queries']} queries):",
        "",
        "| engine | ms median (best) | min cosine to fp32 |",
        "| --- | ---: | ---: |",
    ]
    for name, v in e.items():
        if isinstance(v, dict):
            out.append(f"| {name} | {v['ms_median']:.1f} ({v['ms_best']:.1f}) | {v['min_cosine_to_fp32']:.6f} |")
    if "further_query" in st:
        from tests.bench.further import markdown as further_md

        out += further_md(st["further_query"])
    if "app_first_search" in st:
        from tests.bench.app_first import markdown as app_md

        out += app_md(st["app_first_search"])
    return out
