"""Indexing throughput: reelseek's pipelined indexer vs a naive baseline vs the stage ceilings, per file.

For each file, all at one sampled frame per second:

* reelseek: ``Library.index`` on a fresh library (scan, probe, decode threads, batched encoder,
  one transaction per file, index save), in a child process (see child.py), median of repeats;
* naive baseline: decode every frame in order, take the first frame at or after each second,
  ``to_image()`` + open_clip's PIL preprocess, fp32 model, one frame per encoder call;
* ceilings, each measured alone on the same file: decode with the product's sampling (D),
  the product's swscale preprocessing of those frames (P), the product's encoder in its
  batches on those pixels (E); the pipeline ceiling is 1 / (D + P + E) per video-second,
  because decoding and encoding share the same cores;
* agreement: cosine between the product's path (swscale + product precision) and the fp32
  reference path (PIL + fp32) on identical decoded frames, with the two causes separated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import log, median, run_child
from tests.bench.overlap import overlap

EVERY = 1.0
# Two samplings of the product, both measured: strict 1 frame/s, and once per keyframe where keyframes
# are at most 2 s apart (IndexerConfig.max_every; ~4x less decoding on 2 s GOPs, docs/media-notes.md).
MODES: dict[str, float | None] = {"strict": None, "keyframes": 2.0}
# Keyframe modes run with or without the edge refinement (core/sampling_edges.py); the plain
# "keyframes" mode keeps its old meaning (one frame per keyframe, nothing added).
REFINE: dict[str, bool] = {"keyframes": False, "keyframes+edges": True}


@dataclass(frozen=True)
class IndexingPlan:
    files: list[Path]
    repeat: int
    agree_frames: int  # frames per file used for the embedding agreement
    sweep: bool  # also try other decode_workers / batch_size settings on the first file
    workdir: Path
    # Measure the stage ceilings in the indexer's child right before and after each pipelined run of
    # the same file (their mean is used), so a load swing on a shared machine hits both alike.
    ceilings_in_child: bool = False
    # More pipelined runs for the child (e.g. throughput.py's pinned-thread runs): files -> run dicts.
    extra_runs: tuple[Callable[[list[Path]], list[dict[str, Any]]], ...] = ()


def _probe(path: Path) -> Any:
    from reelseek.core import media

    return media.probe(path)


def decode_at_times(path: Path, times: list[float]) -> list[Any]:
    """Decoded av frames nearest to the given stream times (one sequential pass, untimed)."""
    import av

    wanted = sorted(times)
    out: dict[float, tuple[float, Any]] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        origin = stream.start_time or 0
        for frame in container.decode(stream):
            t = (frame.pts - origin) * tb if frame.pts is not None else 0.0
            i = int(np.searchsorted(wanted, t))
            for j in (i - 1, i):
                if 0 <= j < len(wanted):
                    w = wanted[j]
                    if w not in out or abs(out[w][0] - w) > abs(t - w):
                        out[w] = (t, frame)
            if wanted and t > wanted[-1] + 1.0:
                break
    return [out[w][1] for w in wanted if w in out]


def naive_index(path: Path, ref: Any, every: float = EVERY) -> tuple[int, list[Any]]:
    """The naive baseline: every frame decoded in order, PIL preprocess, fp32, one frame per call.

    Returns:
        (frames encoded, the av frames it encoded: reused for the agreement check).
    """
    import av

    encoded = 0
    kept: list[Any] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        origin = stream.start_time or 0
        target = 0.0
        for frame in container.decode(stream):
            t = (frame.pts - origin) * tb if frame.pts is not None else target
            if t + 1e-6 < target:
                continue
            ref.encode_pil([frame.to_image()])  # open_clip's own PIL preprocessing, fp32, one frame
            encoded += 1
            kept.append(frame)
            while target <= t + 1e-6:
                target += every
    return encoded, kept


def _stage_ceilings(
    path: Path,
    fast: Any,
    info: Any,
    repeat: int,
    thumb_width: int,
    batch: int,
    max_every: float | None = None,
    refine: bool = False,
) -> dict[str, Any]:
    """D, P and E for one file with the product's sampling (``max_every`` as the indexer passes it), each alone.

    With ``refine`` the edge refinement (core/sampling_edges.py) runs too, as the indexer runs it
    after a file's keyframes: its decoding counts as D, its encoder calls as E.
    """
    from reelseek.core import media
    from reelseek.core.media.io import FrameConverter

    dp_walls, dp_cpus, sampled = [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        sampled = list(
            media.sample_frames(
                path, every=EVERY, size=fast.image_size, thumb_width=thumb_width, info=info, max_every=max_every
            )
        )
        dp_walls.append(time.perf_counter() - t0)
        dp_cpus.append(time.process_time() - c0)
    times = [f.t for f in sampled]
    frames = decode_at_times(path, times)
    import av

    with av.open(str(path)) as c:
        from reelseek.core.media.io import stream_sar

        sar = stream_sar(c.streams.video[0])
    p_walls = []
    for _ in range(repeat):
        conv = FrameConverter(info.rotation, sar)
        t0 = time.perf_counter()
        for fr in frames:
            conv.model_input(fr, fast.image_size, thumb_width)
        p_walls.append((time.perf_counter() - t0) * len(sampled) / max(1, len(frames)))
    pixels = np.stack([f.pixels for f in sampled])
    fast.encode_frames(pixels[: min(2, len(pixels))])  # warm-up: first call allocates
    e_walls, e_cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(pixels), batch):
            fast.encode_frames(pixels[i : i + batch])
        e_walls.append(time.perf_counter() - t0)
        e_cpus.append(time.process_time() - c0)
    dp, p, e = median(dp_walls), median(p_walls), median(e_walls)
    dp_cpu, e_cpu, n_frames = median(dp_cpus), median(e_cpus), len(sampled)
    if refine:
        r = _refine_alone(path, fast, info, sampled, thumb_width)
        dp, dp_cpu = dp + r["decode_s"], dp_cpu + r["decode_cpu_s"]
        e, e_cpu, n_frames = e + r["encode_s"], e_cpu + r["encode_cpu_s"], n_frames + r["frames"]
    d = max(dp - p, 1e-9)
    return {
        "strategy": media.choose_strategy(info, media.effective_every(info, EVERY, max_every)),
        "every_s": media.effective_every(info, EVERY, max_every),
        "frames": n_frames,
        "decode_s": d,
        "preprocess_s": p,
        "decode_preprocess_s": dp,
        "encode_s": e,
        # CPU seconds of the whole process (every thread), for the overlap's core-capacity bound.
        "decode_preprocess_cpu_s": dp_cpu,
        "encode_cpu_s": e_cpu,
        "sampled_times": times,
    }


def _refine_alone(path: Path, fast: Any, info: Any, sampled: list[Any], thumb_width: int) -> dict[str, float]:
    """The edge refinement of one file's keyframe samples, its decoding and encoding timed apart."""
    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.sampling_edges import refine_edges

    vectors = list(fast.encode_frames(np.stack([f.pixels for f in sampled])))
    enc = {"wall": 0.0, "cpu": 0.0}

    def encode(x: np.ndarray) -> np.ndarray:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fast.encode_frames(x)  # type: ignore[no-any-return]
        finally:
            enc["wall"] += time.perf_counter() - t0
            enc["cpu"] += time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    added = refine_edges(
        path,
        info,
        [f.t for f in sampled],
        vectors,
        [None] * len(sampled),
        encode=encode,
        jpeg=lambda a: b"",
        every=EVERY,
        threshold=IndexerConfig().edge_cosine,
        size=fast.image_size,
        thumb_width=thumb_width,
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "frames": added,
        "decode_s": wall - enc["wall"],
        "decode_cpu_s": cpu - enc["cpu"],
        "encode_s": enc["wall"],
        "encode_cpu_s": enc["cpu"],
    }


def _pil_pixels(ref: Any, pil: list[Any]) -> np.ndarray:
    """open_clip's own preprocessing of ``pil`` (resize, crop) as uint8 pixels: its normalised
    tensors mapped back (exact: they came from 8-bit values), so any engine's ``encode_frames``
    sees the reference path's pixels and only precision differs."""
    x = np.stack([ref._preprocess(im).numpy() for im in pil])  # (n, 3, s, s), normalised
    mean = np.asarray(ref.mean, np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(ref.std, np.float32).reshape(1, 3, 1, 1)
    px = np.clip(np.rint((x * std + mean) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(px.transpose(0, 2, 3, 1))


def _agreement(frames: list[Any], fast: Any, ref: Any, info: Any, sar: Any) -> dict[str, float]:
    """Cosine between paths on identical frames: product vs fp32 reference, and each cause alone."""
    from reelseek.core.media.io import FrameConverter

    conv = FrameConverter(info.rotation, sar)
    sws = np.stack([conv.model_input(f, fast.image_size)[0] for f in frames])
    pil = [f.to_image() for f in frames]
    product = fast.encode_frames(sws)
    reference = ref.encode_pil(pil)
    sws_fp32 = ref.encode_frames(sws)
    pil_fast = fast.encode_frames(_pil_pixels(ref, pil))  # open_clip's resize, the product's precision

    def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", a, b)

    full, prec, prep = cos(product, reference), cos(pil_fast, reference), cos(sws_fp32, reference)
    return {
        "frames": len(frames),
        "min_cos": float(full.min()),
        "mean_cos": float(full.mean()),
        "precision_only_min_cos": float(prec.min()),
        "preprocess_only_min_cos": float(prep.min()),
    }


def run_indexing(plan: IndexingPlan, *, quick: bool) -> dict[str, Any]:
    """The whole indexing section; returns the JSON-ready results."""
    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.media.io import stream_sar
    from tests.bench.product_embedder import model_home, product_encoder, reference_encoder

    cfg = IndexerConfig(sample_every=EVERY)
    log("indexing: the default architecture (random weights imported), product encoder and fp32 reference")
    home = model_home(plan.workdir)
    fast, ref = product_encoder(home), reference_encoder(home)
    files_out: list[dict[str, Any]] = []
    for path in plan.files:
        info = _probe(path)
        log(f"indexing: ceilings and naive baseline on {path.name} ({info.duration:.1f} s)")
        stages = {
            mode: {"sampled_times": None}
            if plan.ceilings_in_child
            else _stage_ceilings(
                path, fast, info, plan.repeat, cfg.thumb_width, cfg.batch_size, max_every, REFINE.get(mode, False)
            )
            for mode, max_every in MODES.items()
        }
        naive_walls, kept = [], []
        for _ in range(plan.repeat):
            t0 = time.perf_counter()
            _n, kept = naive_index(path, ref)
            naive_walls.append(time.perf_counter() - t0)
        import av

        with av.open(str(path)) as c:
            sar = stream_sar(c.streams.video[0])
        step = max(1, len(kept) // max(1, plan.agree_frames))
        agree = _agreement(kept[::step][: plan.agree_frames], fast, ref, info, sar)
        for mode, st in stages.items():
            st.pop("sampled_times")
            files_out.append(
                {
                    "file": path.name,
                    "mode": mode,
                    "max_every": MODES[mode],
                    "path": str(path),
                    "duration_s": info.duration,
                    "width": info.width,
                    "height": info.height,
                    "codec": info.codec,
                    "gop_s": info.keyframe_interval,
                    "naive_s": median(naive_walls),
                    **st,
                    "agreement": agree,
                }
            )
        del kept
    precision = str(getattr(fast, "dtype", type(fast).__name__))
    del fast, ref
    # Each file sits alone in its own folder (footage.py), so a run indexes exactly that file.
    runs = [
        {
            "name": f"file:{Path(p).name}:{mode}",
            "folders": [str(Path(p).parent)],
            "repeat": plan.repeat,
            "config": {"max_every": max_every, "refine_edges": REFINE.get(mode, False)},
            **(
                {"ceilings": {"path": str(p), "max_every": max_every, "refine": REFINE.get(mode, False)}}
                if plan.ceilings_in_child
                else {}
            ),
        }
        for p in plan.files
        for mode, max_every in MODES.items()
    ]
    folders = sorted({str(Path(p).parent) for p in plan.files})
    for mode, max_every in MODES.items():
        runs.append(
            {
                "name": f"all:{mode}",
                "folders": folders,
                "repeat": 1,
                "disk": True,
                "config": {"max_every": max_every, "refine_edges": REFINE.get(mode, False)},
            }
        )
    if plan.sweep and plan.files:
        first = str(Path(plan.files[0]).parent)
        for workers in (1, 2):
            for batch in (8, 16, 32):
                runs.append(
                    {
                        "name": f"sweep:decode_workers={workers},batch_size={batch}",
                        "folders": [first],
                        "repeat": max(1, plan.repeat - 1),
                        "config": {"decode_workers": workers, "batch_size": batch},
                    }
                )
    log(f"indexing: reelseek pipelined runs in a child process ({len(runs)} runs)")
    runs = _interleave(runs, [r for extra in plan.extra_runs for r in extra(plan.files)])
    child = run_child("index", {"runs": runs, "every": EVERY, "model_home": str(home)}, plan.workdir)
    if plan.ceilings_in_child:
        by_name = {r["name"]: r for r in child["runs"]}
        for f in files_out:
            f.update(bracketed(by_name[f"file:{f['file']}:{f['mode']}"]["ceilings"]))
    return summarise(files_out, child, precision, quick=quick)


def _interleave(runs: list[dict[str, Any]], extras: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each extra run ("LABEL:file:mode") beside its file's own run, the first just before it and
    the rest just after, so a load that drifts during the child hits them alike (extras run
    last would all see a different machine)."""
    out: list[dict[str, Any]] = []
    for run in runs:
        mine = [e for e in extras if run["name"].startswith("file:") and e["name"].split(":", 1)[1] == run["name"][5:]]
        out += [*mine[:1], run, *mine[1:]]
    placed = {id(e) for e in out}
    return out + [e for e in extras if id(e) not in placed]


def bracketed(ceilings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One stage-ceiling record from the readings before and after a pipelined run (numbers: mean)."""
    pre, post = ceilings["before"], ceilings["after"]
    out = dict(pre)
    for k, v in pre.items():
        if isinstance(v, float) and isinstance(post.get(k), float):
            out[k] = (v + post[k]) / 2
    out["ceilings_before_after"] = {"before": pre, "after": post}
    return out


def summarise(files: list[dict[str, Any]], child: dict[str, Any], precision: str, *, quick: bool) -> dict[str, Any]:
    """Join the in-process measurements with the child's pipelined runs into per-file rows."""
    by_name = {r["name"]: r for r in child["runs"]}
    rows = []
    for f in files:
        run = by_name[f"file:{f['file']}:{f['mode']}"]
        dur = f["duration_s"]
        reel_s = run["wall_s"]
        d, p, e = f["decode_s"], f["preprocess_s"], f["encode_s"]
        ceiling = dur / (d + p + e)
        split = run["split_s"]
        # The overlap compares the pipeline proper (Indexer.run) with its stages; the rate columns
        # keep the whole Library.index (scan, probe, commits, save, backup) as a user waits for it.
        pipe_s = run.get("indexer_wall_s") or reel_s
        ov = overlap(
            dp_s=f["decode_preprocess_s"],
            e_s=e,
            pipeline_s=pipe_s,
            dp_cpu_s=f["decode_preprocess_cpu_s"],
            e_cpu_s=f["encode_cpu_s"],
            cores=child.get("cores", 1),
            capacity=f.get("capacity_cores"),
        )
        rows.append(
            {
                **f,
                "reelseek_s": reel_s,
                "reelseek_vps": dur / reel_s,
                "naive_vps": dur / f["naive_s"],
                "encoder_alone_vps": dur / e,
                "decoder_alone_vps": dur / d,
                "decode_preprocess_alone_vps": dur / f["decode_preprocess_s"],
                "ceiling_vps": ceiling,
                "fraction_of_ceiling": (dur / reel_s) / ceiling,
                # #11's overlap target: the pipeline against the slower stage measured alone.
                "slower_alone_vps": min(dur / f["decode_preprocess_s"], dur / e),
                "fraction_of_slower_alone": (dur / reel_s) / min(dur / f["decode_preprocess_s"], dur / e),
                "multiple_of_naive": f["naive_s"] / reel_s,
                "split_alone_s_per_video_s": {
                    "decode": d / dur,
                    "preprocess": p / dur,
                    "encode": e / dur,
                    "write": split["write"] / dur,
                },
                "pipeline_busy_s_per_video_s": {k: v / dur for k, v in split.items()},
                "reelseek_walls_s": run["walls_s"],
                "reelseek_frames": run["frames"],
                "reelseek_cpu_s": run.get("cpu_s"),
                "indexer_wall_s": pipe_s,
                "fixed_overhead_s": reel_s - pipe_s,
                "overlap": ov,
            }
        )
    total = by_name["all:strict"]
    fast_total = by_name.get("all:keyframes") or total
    sweep = [
        {"config": r["config"], "wall_s": r["wall_s"], "vps": r["video_s"] / r["wall_s"]}
        for r in child["runs"]
        if r["name"].startswith("sweep:")
    ]
    return {
        "precision": precision,
        "every_s": EVERY,
        "quick": quick,
        "files": rows,
        "all_files": {
            "video_s": total["video_s"],
            "wall_s": total["wall_s"],
            "vps": total["video_s"] / total["wall_s"],
            "disk_bytes": total["disk_bytes"],
            "disk_bytes_per_hour": total["disk_bytes"] / total["video_s"] * 3600.0,
            "disk_breakdown": total.get("disk_breakdown", {}),
            "segments": total.get("segments"),
        },
        "all_files_keyframes": {
            "video_s": fast_total["video_s"],
            "wall_s": fast_total["wall_s"],
            "vps": fast_total["video_s"] / fast_total["wall_s"],
            "disk_bytes_per_hour": fast_total["disk_bytes"] / fast_total["video_s"] * 3600.0,
        },
        "indexer_rss": child["rss"],
        "sweep": sweep,
        "cores": child.get("cores"),
        # Runs a caller added (IndexingPlan.extra_runs), as the child measured them.
        "extra_runs": [r for r in child["runs"] if not r["name"].startswith(("file:", "all:", "sweep:"))],
    }
