"""Indexing throughput per codec at a sampling, beside the naive baseline and the stage ceilings.

`python -m tests.bench.throughput [--seconds 10] [--modes strict,keyframes+edges] [--out bench-out]`

Generates (and caches) the #11 clips (codec_footage.py: 1080p H.264 GOP 1 s and 2 s, 4K HEVC
10-bit, ProRes 422 HQ, DNxHR HQ), then runs the indexing section's measurements on them
(indexing.py: reelseek's pipelined indexer in a child process, the naive baseline, and
decode-only / encode-only ceilings, all in this one run) and merges the rows into
``OUT/results.json`` under ``indexing_codecs``, with the load averages around the run.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from tests.bench import indexing
from tests.bench.codec_footage import KINDS, codec_clips
from tests.bench.common import REPO_ROOT, log


def table(res: dict[str, Any]) -> list[str]:
    """Markdown rows: one per file and mode."""
    out = [
        "| clip | mode | frames | **reelseek video-s/s** | naive | x naive | decode-only | encode-only "
        "| pipeline / slower alone | pipeline / serial ceiling |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in res["files"]:
        out.append(
            f"| {r['file']} | {r['mode']} | {r['reelseek_frames']} | **{r['reelseek_vps']:.1f}** "
            f"| {r['naive_vps']:.1f} "
            f"| {r['multiple_of_naive']:.1f}x | {r['decode_preprocess_alone_vps']:.1f} | {r['encoder_alone_vps']:.1f} "
            f"| {100 * r['fraction_of_slower_alone']:.0f}% | {100 * r['fraction_of_ceiling']:.0f}% |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.throughput", description=__doc__)
    p.add_argument("--seconds", type=int, default=10, help="clip length (4K: half)")
    p.add_argument("--modes", default="strict,keyframes+edges")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args(argv)
    work = args.work or args.out / "work"
    files = codec_clips(work / "codecs", args.seconds, tuple(k for k in args.kinds.split(",") if k))
    modes = [m for m in args.modes.split(",") if m]
    indexing.MODES = {m: (None if m == "strict" else 2.0) for m in modes}
    if "strict" not in indexing.MODES:
        indexing.MODES = {"strict": None, **indexing.MODES}
    load_before = os.getloadavg()
    log(f"throughput: {len(files)} clips, modes {list(indexing.MODES)}, load {load_before}")
    plan = indexing.IndexingPlan(files=files, repeat=args.repeat, agree_frames=4, sweep=False, workdir=work)
    res = indexing.run_indexing(plan, quick=True)
    res["loadavg_before"], res["loadavg_after"] = load_before, os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.json"
    data = json.loads(results.read_text()) if results.exists() else {}
    data["indexing_codecs"] = res
    results.write_text(json.dumps(data, indent=2, default=str))
    print("\n".join(table(res)))
    print(f"load {res['loadavg_before']} -> {res['loadavg_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
