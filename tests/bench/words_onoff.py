"""`python -m tests.bench.words_onoff [--videos N]`: indexing throughput with the words pass on and off.

Same generated footage (with espeak speech muxed in where espeak-ng is installed), same model,
same run: `reelseek-cli index --no-words` into one fresh library, then `reelseek-cli index`
(subtitles, speech and on-screen text) into another. Writes ``bench-out/words_onoff.json`` (and
the ``words_onoff`` key of ``bench-out/results.json`` when it exists) and prints a table.
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

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = os.environ.get("REELSEEK_MODEL", "reelseek-test-tiny")


def _index(footage: Path, *extra: str) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("reelseek-cli")
    with tempfile.TemporaryDirectory(prefix="bench-words-onoff-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
        env.update(REELSEEK_HOME=home, REELSEEK_MODEL=MODEL)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "index", str(footage), "--json", "--quiet", *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=7200,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        summary = json.loads(proc.stdout)
    video_s = float(summary["video_seconds"])
    return {"video_s": video_s, "wall_s": wall, "rate": video_s / wall if wall else 0.0, "files": summary["indexed"]}


def _footage(root: Path, videos: int) -> Path:
    if root.exists():
        return root
    from tests.synth.videos import make_library

    make_library(root, n_videos=videos, codecs=("h264",), seed=21, scene_seconds=(4.0, 6.0))
    return root


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m tests.bench.words_onoff")
    p.add_argument("--videos", type=int, default=6)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    footage = _footage(args.out / "work" / f"words-onoff-{args.videos}", args.videos)
    off = _index(footage, "--no-words")
    on = _index(footage)
    res = {"model": MODEL, "videos": args.videos, "words_off": off, "words_on": on}
    (args.out / "words_onoff.json").write_text(json.dumps(res, indent=2))
    results = args.out / "results.json"
    if results.exists():
        allres = json.loads(results.read_text())
        allres["words_onoff"] = res
        results.write_text(json.dumps(allres, indent=2))
    print(table(res))
    return res


def table(r: dict[str, Any]) -> str:
    off, on = r["words_off"], r["words_on"]
    slow = off["rate"] / on["rate"] if on["rate"] else float("inf")
    return "\n".join(
        [
            "| indexing run | video-s | wall s | video-s/s |",
            "| --- | --- | --- | --- |",
            f"| words off (`--no-words`, baseline) | {off['video_s']:.0f} | {off['wall_s']:.1f} | {off['rate']:.2f} |",
            f"| words on (subtitles, speech, on-screen text) | {on['video_s']:.0f} | {on['wall_s']:.1f} "
            f"| {on['rate']:.2f} |",
            "",
            f"Words on is {slow:.1f}x slower end to end ({r['videos']} generated videos, model {r['model']}).",
        ]
    )


if __name__ == "__main__":
    main()
