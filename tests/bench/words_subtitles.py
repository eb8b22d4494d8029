"""`python -m tests.bench.words_subtitles [--out bench-out/] [--toy]`: the words pass's subtitle cost.

Writes ``words_subtitles`` into OUT/results.json (other sections kept): CPU seconds per video-hour
to read sidecar SRTs and embedded mov_text streams and commit them (FTS5 trigram index included),
the cost of the unchanged-file check on a rerun, and a words query's latency over the stored lines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from tests.bench.common import REPO_ROOT, log


def _cpu() -> float:
    return time.process_time()


def run(work: Path, toy: bool) -> dict[str, Any]:
    from reelseek.core.store import Store
    from reelseek.core.store_words import WordsStore
    from reelseek.core.words.pass_ import WordsPass
    from reelseek.core.words.query import parse_words_query
    from reelseek.core.words.search import word_moments
    from reelseek.core.words.subtitles import SubtitleSource
    from tests.synth.subtitles import srt_text, write_sidecar, write_with_subtitles
    from tests.synth.videos import SceneSpec, write_video

    n_files, seconds = (4, 30.0) if toy else (24, 300.0)
    cue_every = 3.0  # a dense dialogue track: one cue every 3 s
    work.mkdir(parents=True, exist_ok=True)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    for kind in ("sidecar", "embedded"):
        for i in range(n_files):
            path = work / f"{kind}_{i:03d}.mp4"
            if path.exists():
                continue
            cues = [
                (t, t + 2.5, " ".join(words[(i + k + j) % 10] for j in range(6)) + f" take{i}_{k}")
                for k, t in enumerate(x * cue_every for x in range(int(seconds / cue_every)))
            ]
            scene = [SceneSpec("red", "circle", "grass", "still", 0.0, seconds)]
            if kind == "sidecar":
                write_video(path, scene, width=64, height=64, fps=1)
                write_sidecar(path.with_suffix(".srt"), srt_text(cues))
            else:
                write_with_subtitles(path, scene, cues, width=64, height=64, fps=1)
    out: dict[str, Any] = {"files_per_kind": n_files, "seconds_per_file": seconds, "cue_every_s": cue_every}
    for kind in ("sidecar", "embedded"):
        db = work / f"{kind}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        store = Store(db)
        for i in range(n_files):
            p = work / f"{kind}_{i:03d}.mp4"
            st = p.stat()
            fid = store.upsert_file(p, None, st.st_size, st.st_mtime_ns, None)
            store.conn.execute("UPDATE files SET status='done', duration=? WHERE id=?", (seconds, fid))
        rows = store.files()
        wp = WordsPass(store, [SubtitleSource()])
        c0, w0 = _cpu(), time.perf_counter()
        report = wp.run(rows)
        cpu, wall = _cpu() - c0, time.perf_counter() - w0
        c1 = _cpu()
        again = WordsPass(store, [SubtitleSource()]).run(rows)
        check_cpu = _cpu() - c1
        hours = n_files * seconds / 3600
        lat = []
        for q in ("charlie delta", '"echo foxtrot golf"', "take3_7", "gol"):
            wq = parse_words_query(q)
            t = time.perf_counter()
            word_moments(WordsStore(store), wq, None)
            lat.append(time.perf_counter() - t)
        out[kind] = {
            "lines": report.words_lines,
            "cpu_s_per_video_hour": round(cpu / hours, 3),
            "wall_s_per_video_hour": round(wall / hours, 3),
            "unchanged_check_ms_per_file": round(1000 * check_cpu / n_files, 3),
            "reread_on_rerun": again.words_files,
            "query_ms_median": round(1000 * statistics.median(lat), 3),
        }
        store.close()
        log(f"subtitles {kind}: {out[kind]}")
    return out


def markdown(res: dict[str, Any]) -> str:
    rows = [
        "| subtitles | lines | CPU-s per video-hour | wall-s per video-hour | unchanged check, ms/file | query ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in ("sidecar", "embedded"):
        r = res[kind]
        rows.append(
            f"| {kind} | {r['lines']} | {r['cpu_s_per_video_hour']} | {r['wall_s_per_video_hour']} | "
            f"{r['unchanged_check_ms_per_file']} | {r['query_ms_median']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m tests.bench.words_subtitles", description=__doc__)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    p.add_argument("--toy", action="store_true", help="a few small files (smoke test)")
    args = p.parse_args(argv)
    res = run(args.out / "work" / "words_subtitles", args.toy)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results["words_subtitles"] = res
    args.out.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2))
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
