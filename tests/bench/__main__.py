"""`python -m tests.bench [--quick] [--only indexing,search,memory,quality,startup] [--out bench-out/]`.

Runs the benchmark sections, each against its baseline in the same run, and writes
``results.json``, ``results.md`` (tables), PNG charts and the tables into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.common import REPO_ROOT, log, machine_facts

SECTIONS = ("indexing", "search", "memory", "quality", "startup")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small sizes, one repeat: a few minutes")
    p.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="comma-separated sections: indexing, search, memory, quality, startup (memory = search + indexer RSS)",
    )
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out", help="output folder")
    p.add_argument("--work", type=Path, default=None, help="cache for generated footage and libraries (OUT/work)")
    p.add_argument("--sizes", default=None, help="search library sizes, e.g. 10000,100000,1000000")
    p.add_argument("--seconds", type=int, default=None, help="length of the generated 1080p/720p files")
    p.add_argument("--repeat", type=int, default=None, help="repeats for timings (median is reported)")
    p.add_argument("--queries", type=int, default=None, help="search queries per size (>= 200 for p99)")
    p.add_argument("--videos", type=int, default=None, help="videos in the quality benchmark library")
    p.add_argument("--keep", action="store_true", help="keep the generated 1 M-segment library for the next run")
    p.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument("--toy", action="store_true", help=argparse.SUPPRESS)  # smoke test: seconds, not minutes
    return p.parse_args(argv)


def plan(args: argparse.Namespace) -> dict[str, Any]:
    """Sizes and repeats for a full, quick or toy run (explicit options win)."""
    if args.toy:
        base = {
            "sizes": [2000],
            "seconds": 3,
            "repeat": 1,
            "queries": 20,
            "videos": 4,
            "embed": 3,
            "real": False,
            "labels": ("360p",),
            "sweep": False,
            "agree": 3,
            "expansions": [0],
            "startup": (1, 200, None),  # (runs, segments, segments for the memory reading)
        }
    elif args.quick:
        base = {
            "sizes": [10_000],
            "seconds": 20,
            "repeat": 1,
            "queries": 200,
            "videos": 12,
            "embed": 20,
            "real": True,
            "labels": ("1080p", "720p"),
            "sweep": False,
            "agree": 8,
            "expansions": [0, 4096],
            "startup": (5, 2000, 100_000),
        }
    else:
        base = {
            "sizes": [10_000, 100_000, 1_000_000],
            "seconds": 60,
            "repeat": 3,
            "queries": 300,
            "videos": 40,
            "embed": 30,
            "real": True,
            "labels": ("1080p", "720p"),
            "sweep": True,
            "agree": 24,
            "expansions": [0, 256, 4096],
            "startup": (9, 2000, 100_000),
        }
    if args.sizes:
        base["sizes"] = [int(s) for s in args.sizes.split(",")]
    for key in ("seconds", "repeat", "queries", "videos"):
        if getattr(args, key) is not None:
            base[key] = getattr(args, key)
    return base


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        sys.exit(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    cfg = plan(args)
    if args.toy:
        import os

        from tests.bench.embedders import MODEL_ENV

        os.environ.setdefault(MODEL_ENV, "reelseek-test-tiny")  # child processes inherit it
    out: Path = args.out
    work: Path = args.work or out / "work"
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    mode = "toy" if args.toy else "quick" if args.quick else "full"
    results: dict[str, Any] = {
        "command": "python -m tests.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "mode": mode,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine_facts(),
        "plan": {k: v for k, v in cfg.items() if k != "labels"},
    }
    t0 = time.perf_counter()
    if "indexing" in only or "memory" in only:
        from tests.bench.footage import bench_files
        from tests.bench.indexing import IndexingPlan, run_indexing

        log("footage: generating / reusing textured H.264")
        files = bench_files(work / "footage", seconds=cfg["seconds"], labels=cfg["labels"], real=cfg["real"])
        results["indexing"] = run_indexing(
            IndexingPlan(files, cfg["repeat"], cfg["agree"], cfg["sweep"] and "indexing" in only, work / "index"),
            quick=mode != "full",
        )
    if "search" in only or "memory" in only:
        from tests.bench.search import run_search

        results["search"] = run_search(
            cfg["sizes"],
            workdir=work / "search",
            n_queries=cfg["queries"],
            embed_queries=cfg["embed"],
            expansions=cfg["expansions"],
            keep=args.keep or mode != "full",
        )
    if "quality" in only:
        from tests.bench.quality import run_quality

        # The toy run (the suite's smoke test) compares only the default sampling with strict.
        results["quality"] = run_quality(work, n_videos=cfg["videos"], only_default=bool(args.toy))
    if "startup" in only:
        from tests.bench.startup import run_startup

        runs, segs, mem_segs = cfg["startup"]
        results["startup"] = run_startup(work / "startup", runs=runs, n_segments=segs, memory_segments=mem_segs)
    results["elapsed_s"] = time.perf_counter() - t0
    results["machine"]["loadavg_at_end"] = list(__import__("os").getloadavg())

    from tests.bench.report import write_outputs

    write_outputs(results, out, update_docs=not args.no_docs and mode != "toy")
    log(f"done in {results['elapsed_s'] / 60:.1f} min: {out / 'results.json'}, {out / 'results.md'}")
    return results


if __name__ == "__main__":
    main()
