"""Shared benchmark plumbing: timing statistics, child processes, memory readings, machine facts."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence (NaN when empty, so a missing figure shows as such)."""
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN for an empty sequence."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def latency_stats(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, mean and max of latencies given in seconds, reported in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "mean_ms": float(sum(ms) / len(ms)) if ms else float("nan"),
        "max_ms": max(ms) if ms else float("nan"),
    }


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Run fn() `repeat` times: (median wall seconds, every wall time, the last result)."""
    walls: list[float] = []
    result: Any = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
    return median(walls), walls, result


def rss_bytes() -> int:
    """Current resident set size of this process."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far.

    Linux: VmHWM of this process image. ru_maxrss is not used there: it survives exec, so a
    child started by a big parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def dir_bytes(path: Path) -> int:
    """Total size of the regular files under a folder."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def machine_facts() -> dict[str, Any]:
    """What the numbers were measured on, and how busy the machine was when the run started."""
    import numpy as np
    import torch

    facts: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    for name in ("av", "usearch", "open_clip"):
        try:
            facts[name] = __import__(name).__version__
        except Exception:  # a missing version attribute must not stop the run
            facts[name] = None
    return facts


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_child(kind: str, args: dict[str, Any], workdir: Path, timeout: float = 3600) -> dict[str, Any]:
    """Run `python -m tests.bench.child KIND` in a fresh process and return the JSON it writes.

    Memory is measured in a child so that one section's allocations (a 2 GB brute-force
    matrix, a second model) cannot inflate another's reading.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    args_file = workdir / f"{kind}-args.json"
    out_file = workdir / f"{kind}-result.json"
    out_file.unlink(missing_ok=True)
    args_file.write_text(json.dumps(args, default=str))
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.child", kind, str(args_file), str(out_file)],
        cwd=REPO_ROOT,
        env=env,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not out_file.exists():
        raise RuntimeError(
            f"benchmark child {kind!r} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return json.loads(out_file.read_text())


def log(msg: str) -> None:
    """Progress line on stderr (stdout stays free for the final summary)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
