"""The player's frame-exact tests under load: how often they fail when the machine is busy.

A soak, not a timing: the player tests must pass whatever the load, so this runs them again and
again beside CPU hogs (a load average of about the hog count plus two on these 2 cores) and
counts the failures by test. Each round is a separate pytest process (a fresh libvlc).

    python -m tests.bench.player_soak --rounds 25 --hogs 8 --out bench-out/player-soak

Writes ``player-soak.json`` and a Markdown table to ``--out``; exits 1 when any round failed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

TESTS = (
    "tests/desktop/test_player_frames.py",
    "tests/desktop/test_player.py",
    "tests/desktop/test_transport_seeks.py",
)


def _hog() -> None:
    while True:
        pass


def run(rounds: int, hogs: int, out: Path, tests: tuple[str, ...] = TESTS) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    workers = [mp.Process(target=_hog, daemon=True) for _ in range(hogs)]
    for w in workers:
        w.start()
    failures: Counter[str] = Counter()
    rows = []
    try:
        for i in range(1, rounds + 1):
            t0 = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *tests],
                capture_output=True,
                text=True,
                timeout=900,
            )
            failed = re.findall(r"^FAILED (\S+)", proc.stdout, re.MULTILINE)
            failures.update(failed)
            load = os.getloadavg()[0]
            rows.append(
                {
                    "round": i,
                    "rc": proc.returncode,
                    "failed": failed,
                    "load1": round(load, 2),
                    "seconds": round(time.monotonic() - t0, 1),
                }
            )
            if failed:
                (out / f"round-{i}.txt").write_text(proc.stdout[-20000:])
            print(f"round {i}/{rounds}: {'ok' if not failed else ', '.join(failed)} (load {load:.1f})", flush=True)
    finally:
        for w in workers:
            w.terminate()
    result = {
        "rounds": rounds,
        "hogs": hogs,
        "tests": list(tests),
        "rounds_failed": sum(1 for r in rows if r["rc"] != 0),
        "failures": dict(failures),
        "per_round": rows,
    }
    (out / "player-soak.json").write_text(json.dumps(result, indent=2))
    lines = [
        "| rounds | CPU hogs | median load | rounds failed |",
        "| ---: | ---: | ---: | ---: |",
        f"| {rounds} | {hogs} | {sorted(r['load1'] for r in rows)[len(rows) // 2]:.1f} | {result['rounds_failed']} |",
    ]
    lines += ["", "| test | failures |", "| --- | ---: |"] + [f"| {k} | {v} |" for k, v in failures.most_common()]
    (out / "player-soak.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--hogs", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("bench-out/player-soak"))
    args = ap.parse_args(argv)
    result = run(args.rounds, args.hogs, args.out)
    return 1 if result["rounds_failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
