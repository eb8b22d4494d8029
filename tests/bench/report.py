"""Benchmark outputs: results.json, a markdown report with the targets, PNG charts, docs/benchmarks.md."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tests.bench.common import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
MB = 1024 * 1024

# The targets of issue 4, verbatim in meaning; never loosen them here.
TARGET_CEILING_FRACTION = 0.80
TARGET_NAIVE_MULTIPLE = 3.0
TARGET_1080P_VPS = 30.0
TARGET_MIN_COSINE = 0.999
TARGET_P50_MS = 50.0
TARGET_P99_MS = 150.0
TARGET_RECALL = 0.95
TARGET_RSS_BYTES = 1.5e9  # "1.5 GB"
TARGET_SIZE = 1_000_000


def _f(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def _mb(x: Any) -> str:
    return "–" if x is None else f"{x / MB:,.0f} MB"


def _status(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**MISSED**")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target of issue 4: what was measured and whether it is met."""
    rows: list[dict[str, Any]] = []
    idx = results.get("indexing")
    # The targets are "at 1 sampled frame per second": judged on strict sampling; the keyframe
    # sampling (max_every, 0.5 frame/s on 2 s GOPs) is shown beside it, never in its place.
    hd = [f for f in (idx or {}).get("files", []) if f["height"] >= 1080 and f.get("mode", "strict") == "strict"]
    f1080 = hd[0] if hd else None
    kf = [
        f for f in (idx or {}).get("files", []) if f1080 and f["file"] == f1080["file"] and f.get("mode") == "keyframes"
    ]
    k1080 = kf[0] if kf else None

    def also(key: str, fmt: str) -> str:
        if not k1080:
            return ""
        return f"keyframe sampling ({k1080['every_s']:g} s, not 1 frame/s): " + fmt.format(k1080[key])

    def add(name: str, value: str, ok: bool | None, note: str = "") -> None:
        rows.append({"target": name, "measured": value, "met": ok, "note": note})

    if f1080:
        add(
            ">= 80% of the pipeline ceiling (1080p H.264)",
            f"{f1080['fraction_of_ceiling']:.0%}",
            f1080["fraction_of_ceiling"] >= TARGET_CEILING_FRACTION,
            also("fraction_of_ceiling", "{:.0%}"),
        )
        add(
            ">= 3x the naive baseline (1080p H.264)",
            f"{f1080['multiple_of_naive']:.1f}x",
            f1080["multiple_of_naive"] >= TARGET_NAIVE_MULTIPLE,
            also("multiple_of_naive", "{:.1f}x"),
        )
        add(
            ">= 30 video-s per wall-s (1080p H.264, default architecture)",
            f"{f1080['reelseek_vps']:.1f}",
            f1080["reelseek_vps"] >= TARGET_1080P_VPS,
            also("reelseek_vps", "{:.1f}"),
        )
    else:
        for name in ("pipeline ceiling", "naive multiple", "1080p throughput"):
            add(name, "–", None)
    if idx:
        cos = min(f["agreement"]["min_cos"] for f in idx["files"])
        add("embeddings within cosine 0.999 of the fp32 reference path", f"min {cos:.5f}", cos >= TARGET_MIN_COSINE)
    srch = results.get("search")
    big = max(srch["sizes"], key=lambda s: s["segments"]) if srch and srch["sizes"] else None
    at = big is not None and big["segments"] >= TARGET_SIZE
    label = f" (largest measured: {big['segments']:,})" if big is not None and not at else ""
    if big is not None:
        add(
            f"search p50 < 50 ms at 1 M segments{label}",
            f"{big['total']['p50_ms']:.1f} ms",
            big["total"]["p50_ms"] < TARGET_P50_MS if at else None,
        )
        add(
            f"search p99 < 150 ms at 1 M segments{label}",
            f"{big['total']['p99_ms']:.1f} ms",
            big["total"]["p99_ms"] < TARGET_P99_MS if at else None,
        )
        add(
            f"stage-1 recall@100 >= 0.95 at 1 M segments{label}",
            f"{big['recall_at_100']:.3f}",
            big["recall_at_100"] >= TARGET_RECALL if at else None,
        )
        rss = big["rss"]["search_bytes"]
        full = big["rss"].get("with_text_model_bytes")
        add(
            f"search process < 1.5 GB at 1 M segments{label}",
            f"{_mb(rss)} (index + store){'; ' + _mb(full) + ' with the model loaded' if full else ''}",
            (max(rss, full or 0) < TARGET_RSS_BYTES) if at else None,
            "judged on the process with the model loaded" if full else "",
        )
    q = results.get("quality")
    if q:
        v = q["variants"]
        add(
            "two-stage better than single stage on R@1",
            f"{v['two_stage']['R@1']:.3f} vs {v['single_stage']['R@1']:.3f}",
            v["two_stage"]["R@1"] > v["single_stage"]["R@1"],
        )
        add(
            "two-stage better than single stage on R1@IoU 0.5",
            f"{v['two_stage']['R1@IoU0.5']:.3f} vs {v['single_stage']['R1@IoU0.5']:.3f}",
            v["two_stage"]["R1@IoU0.5"] > v["single_stage"]["R1@IoU0.5"],
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    """The report's tables (also copied into docs/benchmarks.md)."""
    m = results["machine"]
    lines = [
        f"Command: `{results['command'].strip()}` ({results['mode']} run, {results['started']}, "
        f"{results['elapsed_s'] / 60:.1f} min). Machine: {m['cpu']}, {m['cores']} cores, CPU only, torch "
        f"{m['torch']} ({m['torch_threads']} threads); load average at start "
        f"{', '.join(f'{x:.1f}' for x in m['loadavg_at_start'] or [])}, at end "
        f"{', '.join(f'{x:.1f}' for x in m.get('loadavg_at_end') or [])} (other jobs shared the cores when > 0.5).",
        "",
        "### Targets (issue 4)",
        "",
        "| target | measured | status |",
        "| --- | --- | --- |",
    ]
    for t in targets(results):
        note = f" ({t['note']})" if t["note"] else ""
        lines.append(f"| {t['target']} | {t['measured']}{note} | {_status(t['met'])} |")
    if "indexing" in results:
        lines += _indexing_md(results["indexing"])
    if "search" in results:
        lines += _search_md(results["search"])
    lines += _memory_md(results)
    if "quality" in results:
        lines += _quality_md(results["quality"])
    if "startup" in results:
        from tests.bench.startup import markdown as startup_md

        lines += startup_md(results["startup"])
    return "\n".join(lines) + "\n"


def _indexing_md(idx: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"### 1. Indexing throughput (video-seconds per wall-second, 1 frame/s, default architecture, "
        f"{idx['precision']} on CPU)",
        "",
        "| file | size | duration | mode | sampling | **reelseek** | naive baseline | x naive | pipeline ceiling "
        "| % of ceiling | encoder alone | decoder alone |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in idx["files"]:
        out.append(
            f"| {f['file']} | {f['width']}x{f['height']} | {f['duration_s']:.0f} s | {f.get('mode', 'strict')} "
            f"| {f['strategy']}, every {f.get('every_s', 1.0):g} s "
            f"| **{f['reelseek_vps']:.1f}** | {f['naive_vps']:.1f} | {f['multiple_of_naive']:.1f}x "
            f"| {f['ceiling_vps']:.1f} | {f['fraction_of_ceiling']:.0%} | {f['encoder_alone_vps']:.1f} "
            f"| {f['decoder_alone_vps']:.1f} |"
        )
    a = idx["all_files"]
    out += [
        "",
        f"All files in one run: {a['video_s']:.0f} video-s in {a['wall_s']:.1f} s = **{a['vps']:.1f} video-s/s** "
        "(strict 1 frame/s)"
        + (
            f"; with keyframe sampling {idx['all_files_keyframes']['vps']:.1f} video-s/s."
            if idx.get("all_files_keyframes")
            else "."
        ),
        "",
        "Modes: *strict* samples exactly 1 frame/s (the issue's condition); *keyframes* is "
        "`IndexerConfig(max_every=2.0)`: once per keyframe when keyframes are at most 2 s apart (0.5 frame/s on "
        "2 s GOPs). The naive baseline is always strict 1 frame/s; the ceiling is measured with the mode's sampling.",
        "",
        "Time split, seconds per video-second (alone: each stage measured on its own; pipeline: busy time of "
        "each stage inside reelseek's run, overlapping on 2 cores):",
        "",
        "| file | mode | decode alone | preprocess alone | encode alone | write | decode in pipeline "
        "| preprocess in pipeline | encode in pipeline | write in pipeline |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in idx["files"]:
        s, p = f["split_alone_s_per_video_s"], f["pipeline_busy_s_per_video_s"]
        out.append(
            f"| {f['file']} | {f.get('mode', 'strict')} | {s['decode']:.3f} | {s['preprocess']:.3f} "
            f"| {s['encode']:.3f} | {s['write']:.3f} "
            f"| {p.get('decode', 0):.3f} | {p.get('preprocess', 0):.3f} | {p.get('encode', 0):.3f} "
            f"| {p.get('write', 0):.3f} |"
        )
    out += [
        "",
        "Embedding agreement on identical decoded frames, product path (swscale AREA + "
        f"{idx['precision']}) vs fp32 reference path (PIL + open_clip preprocess + fp32):",
        "",
        "| file | frames | min cosine | mean cosine | precision alone (min) | preprocessing alone (min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in idx["files"]:
        if f.get("mode", "strict") != "strict":
            continue  # same frames, same numbers
        g = f["agreement"]
        out.append(
            f"| {f['file']} | {g['frames']} | {g['min_cos']:.5f} | {g['mean_cos']:.5f} "
            f"| {g['precision_only_min_cos']:.5f} | {g['preprocess_only_min_cos']:.5f} |"
        )
    if idx.get("sweep"):
        out += [
            "",
            "Indexer settings on the first file (video-s/s):",
            "",
            "| decode_workers | batch_size | video-s/s |",
            "| ---: | ---: | ---: |",
        ]
        for s in idx["sweep"]:
            out.append(f"| {s['config']['decode_workers']} | {s['config']['batch_size']} | {s['vps']:.1f} |")
    return out


def _search_md(srch: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"### 2. Search latency (ms, {srch['sizes'][0]['queries'] if srch['sizes'] else 0} text-like queries, "
        f"dim {srch['dim']}, query embedding excluded)",
        "",
        "| segments | stage 1 p50 / p99 | stage 2 p50 / p99 | **total p50 / p99** | single stage p50 "
        "| exact brute force p50 / p99 | stage-1 recall@100 | first query after open |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in srch["sizes"]:
        out.append(
            f"| {s['segments']:,} | {_f(s['stage1']['p50_ms'])} / {_f(s['stage1']['p99_ms'])} "
            f"| {_f(s['stage2']['p50_ms'])} / {_f(s['stage2']['p99_ms'])} "
            f"| **{_f(s['total']['p50_ms'])} / {_f(s['total']['p99_ms'])}** | {_f(s['single_stage_total']['p50_ms'])} "
            f"| {_f(s['exact']['p50_ms'])} / {_f(s['exact']['p99_ms'])} | {s['recall_at_100']:.3f} "
            f"| {_f(s['first_query_ms'], 0)} |"
        )
    emb = next((s["embed"] for s in srch["sizes"] if s.get("embed")), None)
    if emb:
        text = (
            f"Query embedding (text, {emb['templates']} prompt templates averaged, default architecture, "
            f"product embedder, image tower {emb['dtype']}, text tower as the product loads it): "
            f"p50 {_f(emb['p50_ms'])} ms, p99 {_f(emb['p99_ms'])} ms over {emb['n']} uncached queries"
        )
        if emb.get("fp32"):
            text += f"; float32: p50 {_f(emb['fp32']['p50_ms'])} ms, p99 {_f(emb['fp32']['p99_ms'])} ms"
        if emb.get("bf16_seq_first"):
            fix = emb["bf16_seq_first"]
            text += (
                "; the product embedder with the text blocks run sequence-first (proposed fix): "
                f"p50 {_f(fix['p50_ms'])} ms, p99 {_f(fix['p99_ms'])} ms"
            )
        out += ["", text + "."]
    out += [
        "",
        "Other ways to stage 1: the float16 scan (the product's path up to 250 k segments) at every size, and "
        "the recall of image-like queries (a still from the library) with the product's stage 1:",
        "",
        "| segments | float16 scan p50 / p99 ms | its recall@100 | image-like queries recall@100 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for s in srch["sizes"]:
        ue = s.get("f16_scan")
        if ue:
            out.append(
                f"| {s['segments']:,} | {_f(ue['p50_ms'])} / {_f(ue['p99_ms'])} | {ue['recall_at_100']:.3f} "
                f"| {s['image_like_recall_at_100']:.3f} |"
            )
    out += [
        "",
        "Stage-1 recall@100 and latency by the length of the float16 re-score list (used above 250 k "
        "segments; product default in bold):",
        "",
        "| segments | re-scored rows | recall@100 | stage-1 p50 / p99 ms |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for s in srch["sizes"]:
        for exp, rec in sorted(s["recall_by_rescore"].items(), key=lambda kv: int(kv[0])):
            lat = s["stage1_by_rescore"][exp]
            bold = "**" if int(exp) == s["rescore_default"] else ""
            out.append(
                f"| {s['segments']:,} | {bold}{exp}{bold} | {rec:.3f} | {_f(lat['p50_ms'], 2)} / "
                f"{_f(lat['p99_ms'], 2)} |"
            )
    return out


def _memory_md(results: dict[str, Any]) -> list[str]:
    out = ["", "### 3. Memory and disk", "", "| what | resident memory / bytes |", "| --- | ---: |"]
    srch = results.get("search")
    if srch:
        for s in srch["sizes"]:
            r = s["rss"]
            out.append(
                f"| search process, {s['segments']:,} segments (index + store, after the queries) "
                f"| {_mb(r['search_bytes'])} |"
            )
            if r.get("with_text_model_bytes"):
                out.append(
                    f"| search process, {s['segments']:,} segments, default model loaded for query "
                    f"embedding | {_mb(r['with_text_model_bytes'])} |"
                )
            g = s["generation"]
            out.append(
                f"| library files, {s['segments']:,} segments: database / stage-1 index "
                f"| {_mb(g['db_bytes'])} / {_mb(g['index_bytes'])} |"
            )
    idx = results.get("indexing")
    if idx:
        r = idx["indexer_rss"]
        a = idx["all_files"]
        out.append(f"| indexer process, default model loaded (before indexing) | {_mb(r['after_model_bytes'])} |")
        out.append(f"| indexer process, peak while indexing | {_mb(r['peak_bytes'])} |")
        out.append(
            f"| on disk per hour of footage (database + index, from the indexing run, "
            f"{a['segments']} segments in {a['video_s']:.0f} s) | {_mb(a['disk_bytes_per_hour'])} |"
        )
    return out


def _quality_md(q: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"### 4. Retrieval quality ({q['model']}, {q['videos']} generated videos, {q['scenes']} scenes, "
        f"{q['queries']} held-out phrasings, {q['segments']} segments)",
        "",
        "| variant | R@1 | R@5 | R@10 | median rank | mean rank | R1@IoU0.5 | R1@IoU0.7 | mean IoU "
        "| held-out pairs R@1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {
        "single_stage": "single stage (segments only)",
        "two_stage": "**two-stage (product)**",
        "fixed_windows": f"fixed {q['window_s']:.0f} s windows (baseline)",
    }
    for key, name in names.items():
        v = q["variants"][key]
        out.append(
            f"| {name} | {v['R@1']:.3f} | {v['R@5']:.3f} | {v['R@10']:.3f} | {v['median_rank']:.1f} "
            f"| {v['mean_rank']:.2f} | {v['R1@IoU0.5']:.3f} | {v['R1@IoU0.7']:.3f} | {v['mean_IoU']:.3f} "
            f"| {_f(v['heldout_pairs_R@1'], 3)} |"
        )
    if "sampling" in q:
        out += [
            "",
            "Sampling (two-stage search; keyframes 2 s apart): strict takes one frame per second; keyframes "
            "takes one per keyframe when they are at most 2 s apart; keyframes+edges then adds the strict "
            "frames inside every gap that crosses a picture change (core/sampling_edges.py); +pin-bare (the "
            "default) also the frame before a change gap's later sample where no strict frame fits; +pin in "
            "every change gap; +dense every strict frame in a change gap. A sparser sampling may be the "
            "default only if it loses at most 0.02 of each figure; the interval is a paired bootstrap over "
            f"the queries (95 %). Headline figures above: {q.get('headline_sampling', 'strict')}.",
            "",
            "| sampling | frames | decoded | segments | index wall s | R@1 | R1@IoU0.5 | mean IoU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, v in q["sampling"].items():
            t = v["two_stage"]
            out.append(
                f"| {name} (max_every {v['max_every']}) | {v['frames']} | {v.get('decoded_frames', '')} "
                f"| {v['segments']} "
                f"| {v.get('index_wall_s', float('nan')):.1f} | {t['R@1']:.3f} "
                f"| {t['R1@IoU0.5']:.3f} | {t['mean_IoU']:.3f} |"
            )
        deltas = q.get("sampling_deltas") or {"keyframes": q["sampling_delta"]}
        cis = q.get("sampling_delta_ci95", {})
        for name, d in deltas.items():
            ok = all(x >= -0.02 for x in d.values())
            ci = cis.get(name)
            span = f" [{ci['mean_IoU'][0]:+.3f}, {ci['mean_IoU'][1]:+.3f}]" if ci else ""
            out.append(
                f"| {name} - strict | | | | | {d['R@1']:+.3f} | {d['R1@IoU0.5']:+.3f} | {d['mean_IoU']:+.3f}{span} "
                f"({'within 0.02' if ok else 'MISSED'}) |"
            )
    return out


def charts(results: dict[str, Any], out: Path) -> list[Path]:
    """PNG charts next to the report; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    idx = results.get("indexing")
    if idx:
        files = idx["files"]
        names = [f"{f['file'].rsplit('.', 1)[0].removeprefix('h264_')}\n{f.get('mode', 'strict')}" for f in files]
        x = np.arange(len(files))
        fig, ax = plt.subplots(figsize=(12, 4.5))
        for k, (key, label) in enumerate(
            (("naive_vps", "naive baseline"), ("reelseek_vps", "reelseek"), ("ceiling_vps", "pipeline ceiling"))
        ):
            ax.bar(x + (k - 1) * 0.27, [f[key] for f in files], 0.27, label=label)
        ax.axhline(TARGET_1080P_VPS, color="k", ls="--", lw=1, label="target (1080p)")
        ax.set_xticks(x, names, fontsize=7)
        ax.set_ylabel("video-seconds per wall-second")
        ax.set_title("Indexing throughput (strict: 1 frame/s; keyframes: max_every 2 s)")
        ax.legend()
        save(fig, "indexing_throughput.png")
        fig, ax = plt.subplots(figsize=(12, 4.5))
        bottom = np.zeros(len(files))
        for stage in ("decode", "preprocess", "encode", "write"):
            vals = np.array([f["split_alone_s_per_video_s"][stage] for f in files])
            ax.bar(x, vals, 0.6, bottom=bottom, label=stage)
            bottom += vals
        ax.set_xticks(x, names, fontsize=7)
        ax.set_ylabel("seconds per video-second (alone)")
        ax.set_title("Where indexing time goes")
        ax.legend()
        save(fig, "indexing_split.png")
    srch = results.get("search")
    if srch and srch["sizes"]:
        sizes = [s["segments"] for s in srch["sizes"]]
        fig, ax = plt.subplots(figsize=(7, 4))
        for key, label, style in (
            ("total", "reelseek two-stage", "o-"),
            ("stage1", "stage 1 (int8/float16 scan)", "s-"),
            ("exact", "exact brute force", "^--"),
        ):
            ax.plot(sizes, [s[key]["p50_ms"] for s in srch["sizes"]], style, label=f"{label} p50")
            ax.plot(sizes, [s[key]["p99_ms"] for s in srch["sizes"]], style, alpha=0.4, label=f"{label} p99")
        ax.axhline(TARGET_P50_MS, color="k", ls=":", lw=1)
        ax.axhline(TARGET_P99_MS, color="k", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("segments")
        ax.set_ylabel("ms per query (embedding excluded)")
        ax.set_title("Search latency")
        ax.legend(fontsize=7)
        save(fig, "search_latency.png")
        fig, ax = plt.subplots(figsize=(7, 4))
        for s in srch["sizes"]:
            exps = sorted(s["recall_by_rescore"], key=int)
            ax.plot(
                [max(int(e), 1) for e in exps],
                [s["recall_by_rescore"][e] for e in exps],
                "o-",
                label=f"{s['segments']:,} segments",
            )
        ax.axhline(TARGET_RECALL, color="k", ls="--", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("re-scored rows (0 = only the k returned)")
        ax.set_ylabel("stage-1 recall@100")
        ax.set_title("Stage-1 recall vs re-score length")
        ax.legend()
        save(fig, "search_recall.png")
    q = results.get("quality")
    if q:
        metrics = ["R@1", "R@5", "R1@IoU0.5", "R1@IoU0.7", "mean_IoU"]
        x = np.arange(len(metrics))
        fig, ax = plt.subplots(figsize=(8, 4))
        for k, key in enumerate(("single_stage", "two_stage", "fixed_windows")):
            ax.bar(x + (k - 1) * 0.27, [q["variants"][key][m] for m in metrics], 0.27, label=key.replace("_", " "))
        ax.set_xticks(x, metrics)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Retrieval quality ({q['model']}, held-out phrasings)")
        ax.legend()
        save(fig, "quality.png")
    return written


def write_outputs(results: dict[str, Any], out: Path, *, update_docs: bool) -> None:
    """results.json, results.md, charts, and the tables copied into docs/benchmarks.md."""
    results["targets"] = targets(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    body = markdown(results)
    (out / "results.md").write_text("# reelseek benchmark results\n\n" + body)
    results["charts"] = [p.name for p in charts(results, out)]
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if update_docs:
        update_doc(DOCS, body)
        readme = REPO_ROOT / "README.md"
        # The README carries the latest table too, where its owner put the markers.
        if readme.exists() and BEGIN in readme.read_text() and END in readme.read_text():
            update_doc(readme, body)


def update_doc(path: Path, body: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the generated block of a markdown file (between the markers), keeping the prose."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        text = text.rstrip() + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{begin}\n{body}{end}{tail}")
