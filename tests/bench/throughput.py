"""Indexing throughput per codec, beside the naive baseline and the stage ceilings, and the overlap figure.

`python -m tests.bench.throughput [--seconds 10] [--modes strict,keyframes+edges] [--out bench-out]`

Generates (and caches) the #11 clips (codec_footage.py: 1080p H.264 GOP 1 s and 2 s, 4K HEVC
10-bit, ProRes 422 HQ, DNxHR HQ), imports the default architecture with random weights into a
private home (product_embedder.py), then runs the indexing section's measurements on every clip
at each sampling, all in this one run (indexing.py): the product's pipelined indexer in a child
process (its own encoder, loaded by ``Library``), the naive baseline, decode-only and encode-only
ceilings with their CPU seconds, and the same pipeline with decoding and encoding pinned to
separate cores. Writes ``indexing_codecs`` into OUT/results.json (other sections kept),
OUT/codecs.md, and, unless --no-docs, the table into docs/benchmarks.md and the README
(between the bench-codecs markers) and the raw JSON into docs/bench-data/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench import indexing
from tests.bench.codec_footage import KINDS, codec_clips, describe
from tests.bench.common import REPO_ROOT, log, machine_facts
from tests.bench.report import update_doc

BEGIN, END = "<!-- bench-codecs:begin -->", "<!-- bench-codecs:end -->"
DOCS = REPO_ROOT / "docs" / "benchmarks.md"
README = REPO_ROOT / "README.md"
TARGET_OVERLAP = 0.85  # #11: the pipeline reaches >= 85 % of the slower stage alone


def variant_runs(modes: dict[str, float | None], label: str, **extra: Any) -> Any:
    """Child runs of every file at every mode with something changed (``extra``: run keys, or
    ``config`` entries merged into the IndexerConfig)."""
    config = extra.pop("config", {})

    def runs(files: list[Path]) -> list[dict[str, Any]]:
        return [
            {
                "name": f"{label}:{p.name}:{mode}",
                "folders": [str(p.parent)],
                "repeat": 1,
                **extra,
                "config": {"max_every": max_every, "refine_edges": indexing.REFINE.get(mode, False), **config},
            }
            for p in files
            for mode, max_every in modes.items()
        ]

    return runs


# Beside each pipelined run: decoding and encoding pinned to separate cores, and decoders handing
# over 4-frame chunks instead of whole 16-frame batches (the encoder then starts on a file while
# it is still being decoded). "chunk16" is the default's chunking, for runs where it was not.
VARIANTS: dict[str, dict[str, Any]] = {
    "pinned": {"pin": "split"},
    "chunk4": {"config": {"chunk_frames": 4}},
    "chunk16": {"config": {"chunk_frames": 16}},
}
LABELS = {"chunk4": "4-frame chunks", "chunk16": "16-frame chunks", "pinned": "pinned cores"}


def add_variants(res: dict[str, Any], child_runs: list[dict[str, Any]]) -> None:
    """Put each variant run's rate and overlap figure beside its row."""
    by_name = {r["name"]: r for r in child_runs}
    for row in res["files"]:
        for label in VARIANTS:
            run = by_name.get(f"{label}:{row['file']}:{row['mode']}")
            if run:
                pipe_s = run.get("indexer_wall_s") or run["wall_s"]
                row[f"{label}_vps"] = row["duration_s"] / run["wall_s"]
                row[f"{label}_fraction_of_slower_alone"] = row["overlap"]["slower_alone_s"] / pipe_s


def _f(x: Any, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def table(res: dict[str, Any]) -> list[str]:
    """Markdown rows: one per clip and sampling, each figure beside its baseline and ceilings."""
    shown = [k for k in VARIANTS if any(f"{k}_vps" in r for r in res["files"])]
    out = [
        "| clip | sampling | frames | **reelseek video-s/s** | naive | x naive | decode-only | encode-only "
        "| serial bound | CPU bound | **pipeline / slower alone** |" + "".join(f" {LABELS[k]} |" for k in shown),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + " ---: |" * len(shown),
    ]
    for r in res["files"]:
        ov, dur, clip = r["overlap"], r["duration_s"], r.get("clip", {})
        name = f"{r['kind']} ({clip.get('codec')}, {_f(clip.get('mbit_per_s'), 0)} Mbit/s)"
        variants = "".join(
            f" {_f(r[f'{k}_vps'])}, {100 * r[f'{k}_fraction_of_slower_alone']:.0f}% |" if f"{k}_vps" in r else " – |"
            for k in shown
        )
        out.append(
            f"| {name} | {r['mode']} | {r['frames']} | **{r['reelseek_vps']:.1f}** | {r['naive_vps']:.1f} "
            f"| {r['multiple_of_naive']:.1f}x | {r['decode_preprocess_alone_vps']:.1f} "
            f"({ov['decode_cores_alone']:.1f} cores) | {r['encoder_alone_vps']:.1f} "
            f"({ov['encode_cores_alone']:.1f} cores) | {dur / ov['serial_s']:.1f} | {dur / ov['best_possible_s']:.1f} "
            f"| **{100 * ov['fraction_of_slower_alone']:.0f}%** "
            f"(reachable {100 * ov['reachable_fraction_of_slower']:.0f}%; "
            f"{100 * ov['fraction_of_best_possible']:.0f}% of the CPU bound) "
            f"|{variants}"
        )
    return out


def readme_table(res: dict[str, Any]) -> str:
    """The README's short form: each rate beside its baseline and ceilings, and the overlap figure."""
    out = [
        f"Indexing per codec (`{res['command']}`, {res['started']}, load "
        f"{res['loadavg_before'][0]:.1f}-{res['loadavg_after'][0]:.1f}; video-s per wall-s, {res['model']}):",
        "",
        "| clip | sampling | reelseek | naive | decode-only | encode-only | pipeline / slower alone (>= 85%) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in res["files"]:
        ov = r["overlap"]
        ok = "met" if ov["fraction_of_slower_alone"] >= TARGET_OVERLAP else "MISSED"
        out.append(
            f"| {r['kind']} | {r['mode']} | **{r['reelseek_vps']:.1f}** | {r['naive_vps']:.1f} "
            f"| {r['decode_preprocess_alone_vps']:.1f} | {r['encoder_alone_vps']:.1f} "
            f"| {100 * ov['fraction_of_slower_alone']:.0f}% {ok} "
            f"(reachable {100 * ov['reachable_fraction_of_slower']:.0f}%; "
            f"{100 * ov['fraction_of_best_possible']:.0f}% of the CPU bound) |"
        )
    if res.get("note"):
        out += ["", f"**Note:** {res['note']}"]
    return "\n".join(out) + "\n"


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    before, after = (", ".join(f"{x:.1f}" for x in res[k]) for k in ("loadavg_before", "loadavg_after"))
    load = f"{before} -> {after}"
    lines = [
        f"Command: `{res['command']}` ({res['started']}, {res['elapsed_s'] / 60:.1f} min). Machine: {m['cpu']}, "
        f"{m['cores']} cores, CPU only; load average {load}. Encoder: the product's (`Library.load_image_model`, "
        f"{res['precision']}) on {res['model']} weights imported with `reelseek-cli models import`.",
        "",
        *table(res),
        "",
        *([f"**Note:** {res['note']}", ""] if res.get("note") else []),
        "Columns: video-seconds per wall-second. *naive*: every frame decoded, PIL preprocessing, fp32, one frame "
        "per encoder call. *decode-only*: the product's sampling and preprocessing alone; *encode-only*: the "
        "product's encoder alone on those frames (cores = CPU seconds / wall). *serial bound*: 1 / (decode + "
        "encode), no overlap. *CPU bound*: the best a pipeline can do when both stages must share the cores, "
        "max(slower stage, (CPU s of both) / cores). *pipeline / slower alone*: #11's overlap figure (target "
        f">= {100 * TARGET_OVERLAP:.0f}%); *reachable*: the most it can show on these cores (slower / CPU bound); "
        "*of the CPU bound*: how close the pipeline came to that most. "
        "Variant columns (video-s/s, / slower alone), each run beside the clip's own run: the decoders handing "
        "over 4- or 16-frame chunks; *pinned*: decoding on one core and the encoder on the other.",
        "",
    ]
    a, k = res["all_files"], res["all_files_keyframes"]
    if "parts" in res:  # merged: the all-clips runs were per part
        return "\n".join(lines) + "\n"
    lines.append(
        f"All clips in one run: strict {a['vps']:.1f} video-s/s, keyframes {k['vps']:.1f}; the benchmark's child "
        f"process (every run and ceiling above, one after the other) peaked at "
        f"{res['indexer_rss']['peak_bytes'] / 2**20:,.0f} MB RSS."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.throughput", description=__doc__)
    p.add_argument("--seconds", type=int, default=60, help="clip length (longer than 10 s: the base clip looped)")
    p.add_argument("--modes", default="strict,keyframes+edges")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--variants", default="chunk4,pinned", help=f"extra runs beside each: {','.join(VARIANTS)}")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    p.add_argument("--work", type=Path, default=None)
    p.add_argument("--no-docs", action="store_true", help="leave docs/ and the README alone")
    p.add_argument("--note", default="", help="with --merge: a line printed under the tables")
    p.add_argument("--merge", type=Path, nargs="+", help="join earlier runs' OUT folders, measure nothing")
    args = p.parse_args(argv)
    if args.merge:
        merged = merge(args.merge)
        merged["note"] = args.note
        write(merged, args.out, update_docs=not args.no_docs)
        print(markdown(json.loads((args.out / "results.json").read_text())["indexing_codecs"]))
        return 0
    work = args.work or args.out / "work"
    t0 = time.perf_counter()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    kinds = tuple(k for k in args.kinds.split(",") if k)
    files = codec_clips(work / "codecs", args.seconds, kinds)
    modes = [m for m in args.modes.split(",") if m]
    indexing.MODES = {m: (None if m == "strict" else 2.0) for m in modes}
    if "strict" not in indexing.MODES:  # summarise() reads the strict all-files run
        indexing.MODES = {"strict": None, **indexing.MODES}
    load_before = os.getloadavg()
    log(f"throughput: {len(files)} clips, modes {list(indexing.MODES)}, load {load_before}")
    extra = tuple(
        variant_runs(dict(indexing.MODES), v, **VARIANTS[v]) for v in args.variants.split(",") if v in VARIANTS
    )
    plan = indexing.IndexingPlan(
        files=files,
        repeat=args.repeat,
        agree_frames=4,
        sweep=False,
        workdir=work,
        extra_runs=extra,
        ceilings_in_child=True,
    )
    res = indexing.run_indexing(plan, quick=True)
    add_variants(res, res.pop("extra_runs", []))
    clips = {f.name: (k, describe(f)) for k, f in zip(kinds, files, strict=True)}
    for row in res["files"]:
        row["kind"], row["clip"] = clips[row["file"]]
    res.update(
        command="python -m tests.bench.throughput " + " ".join(argv if argv is not None else sys.argv[1:]),
        started=started,
        machine=machine_facts(),
        loadavg_before=load_before,
        loadavg_after=os.getloadavg(),
        elapsed_s=time.perf_counter() - t0,
        model=_model_label(),
    )
    write(res, args.out, update_docs=not args.no_docs)
    print(markdown(res))
    return 0


def merge(outs: list[Path]) -> dict[str, Any]:
    """One result from runs made one clip at a time (each row keeps its own run's ceilings)."""
    parts = [json.loads((o / "results.json").read_text())["indexing_codecs"] for o in outs]
    res = dict(parts[0])
    res["files"] = [row for part in parts for row in part["files"]]
    res["command"] = " && ".join(part["command"] for part in parts)
    res["loadavg_before"], res["loadavg_after"] = parts[0]["loadavg_before"], parts[-1]["loadavg_after"]
    res["elapsed_s"] = sum(part["elapsed_s"] for part in parts)
    keep = ("command", "all_files", "all_files_keyframes", "indexer_rss")
    res["parts"] = [{k: part[k] for k in keep} for part in parts]
    return res


def _model_label() -> str:
    from tests.bench.embedders import default_spec

    spec = default_spec()
    return spec.id if spec.is_bundled else f"random {spec.arch}"


def write(res: dict[str, Any], out: Path, *, update_docs: bool) -> None:
    """results.json (merged), codecs.md; with ``update_docs`` the docs, README and raw JSON too."""
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    try:
        data = json.loads(results_file.read_text())
    except (OSError, ValueError):
        data = {}
    data["indexing_codecs"] = res
    results_file.write_text(json.dumps(data, indent=1, default=str))
    body = markdown(res)
    (out / "codecs.md").write_text(body)
    if update_docs:
        update_doc(DOCS, body, BEGIN, END)
        if README.exists() and BEGIN in README.read_text():
            update_doc(README, readme_table(res), BEGIN, END)
        # Named after the run's start: an earlier run of the same day keeps its raw data.
        stamp = time.strftime("%Y%m%d-%H%M", time.strptime(res["started"], "%Y-%m-%d %H:%M:%S"))
        raw = REPO_ROOT / "docs" / "bench-data" / f"codecs-{stamp}.json"
        raw.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
