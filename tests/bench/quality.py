"""Retrieval quality with the project's test model on a generated benchmark library (not the test fixtures).

The library uses its own seed and scene lengths; queries are held-out phrasings
(``captions(scene, "heldout")``: templates never used in training, trained words only). Three
variants answer the same query vectors from the same stored vectors:

* single stage: stage 1 only (segment vectors; a moment is a whole segment);
* two-stage: the product (stage 1, then frame re-ranking and temporal localization);
* fixed windows: a uniform baseline with no shot awareness: every file cut into fixed
  ``WINDOW_S`` windows, each scored by the mean of its stored frame vectors.

Video ranking: files in the order of their first moment; files a variant did not return are
ranked after them by their best segment-vector score (so every query has a rank).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import log

BENCH_SEED = 20261122  # not the fixtures' seeds
WINDOW_S = 4.0
PHRASINGS_PER_SCENE = 2
LIMIT = 50
# Keyframes every 2 s (camera footage is typically 0.5-2 s): the default sampling then takes one
# frame per keyframe, strict sampling one per second, and the two can be compared.
GOP_FRAMES = 20  # at 10 fps
# IndexerConfig fields of each sampling compared against strict 1 frame/s in the same run:
# one frame per keyframe (lost more than 0.02, docs/benchmarks.md); keyframes first, then strict
# frames only in the gaps that cross a picture change (core/sampling_edges.py); "+pin-bare" (the
# product's default) also the frame just before a change gap's later sample where no strict
# frame fits (a keyframe on the cut is the new shot's first frame); "+pin" that frame in every
# change gap; "+dense" every strict-grid frame inside a change gap, however near its ends.
DEFAULT_SAMPLING = "edges+pin-bare"
SAMPLINGS: dict[str, dict[str, Any]] = {
    "strict": {"max_every": None, "refine_edges": False},
    "keyframes": {"max_every": 2.0, "refine_edges": False},
    "keyframes+edges": {"max_every": 2.0, "refine_edges": True, "edge_pin": "off"},
    DEFAULT_SAMPLING: {"max_every": 2.0, "refine_edges": True, "edge_pin": "bare"},
    "edges+pin": {"max_every": 2.0, "refine_edges": True, "edge_pin": "always"},
    "edges+dense": {"max_every": 2.0, "refine_edges": True, "edge_pin": "off", "edge_dense": True},
}
# $REELSEEK_BENCH_EDGE_COSINE: IndexerConfig.edge_cosine for the edge samplings (a higher value
# refines more gaps); $REELSEEK_BENCH_SAMPLINGS: a comma-separated subset of SAMPLINGS;
# $REELSEEK_BENCH_SEED: another generated library (to see how much the figures move with it).
EDGE_COSINE = float(os.environ.get("REELSEEK_BENCH_EDGE_COSINE") or 0.9)
if os.environ.get("REELSEEK_BENCH_SAMPLINGS"):
    # Strict is the baseline every other sampling is judged against: always run.
    _chosen = ["strict", *os.environ["REELSEEK_BENCH_SAMPLINGS"].split(",")]
    SAMPLINGS = {k: SAMPLINGS[k] for k in dict.fromkeys(_chosen)}
BENCH_SEED = int(os.environ.get("REELSEEK_BENCH_SEED") or BENCH_SEED)


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal intersection over union of two [start, end] ranges."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def make_benchmark_library(root: Path, n_videos: int) -> tuple[list[Any], list[tuple[str, int, float, float, bool]]]:
    """Videos and queries: (text, video index, scene start, scene end, held-out colour-shape pair)."""
    from tests.synth.scenes import captions
    from tests.synth.videos import load_manifest, make_library, save_manifest, scene_for_spec

    manifest = root / "manifest.json"
    meta = root / "params.json"
    params = {"n_videos": n_videos, "seed": BENCH_SEED, "v": 2, "gop": GOP_FRAMES}
    if manifest.exists() and meta.exists() and json.loads(meta.read_text()) == params:
        videos = load_manifest(manifest)
    else:
        shutil.rmtree(root, ignore_errors=True)
        videos = make_library(
            root / "videos",
            n_videos=n_videos,
            scenes_per_video=(3, 4),
            scene_seconds=(3.0, 9.0),
            codecs=("h264", "vp9"),
            seed=BENCH_SEED,
            fps=10,
            gop=GOP_FRAMES,
        )
        save_manifest(videos, manifest)
        meta.write_text(json.dumps(params))
    rng = np.random.default_rng(BENCH_SEED)
    queries = []
    for vi, v in enumerate(videos):
        for s in v.scenes:
            options = captions(scene_for_spec(s, 0), split="heldout")
            for k in rng.choice(len(options), size=min(PHRASINGS_PER_SCENE, len(options)), replace=False):
                queries.append((options[int(k)], vi, s.start, s.end, s.heldout))
    return videos, queries


def _file_vectors(
    store: Any, model_id: str, file_id: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, np.ndarray]]]:
    """(frame times, frame vectors, [(segment start, end, vector)]) of one file, from the store."""
    rows = store.segments_of_file(file_id, model_id)
    times = np.concatenate([s.times for s, _v, _t in rows]).astype(np.float64)
    frames = np.concatenate([s.frames for s, _v, _t in rows]).astype(np.float32)
    return times, frames, [(s.start, s.end, v) for s, v, _t in rows]


class FixedWindows:
    """The uniform baseline: fixed windows per file, each the normalised mean of its frame vectors."""

    def __init__(self, files: dict[int, tuple[np.ndarray, np.ndarray, float]], window: float = WINDOW_S) -> None:
        keys, starts, ends, vecs = [], [], [], []
        for fid, (times, frames, duration) in files.items():
            cell = np.floor(times / window).astype(int)
            for c in np.unique(cell):
                v = frames[cell == c].mean(axis=0)
                keys.append(fid)
                starts.append(c * window)
                ends.append(min((c + 1) * window, max(duration, c * window + 1e-3)))
                vecs.append(v / (np.linalg.norm(v) + 1e-12))
        self.file_ids = np.asarray(keys)
        self.starts = np.asarray(starts)
        self.ends = np.asarray(ends)
        self.vectors = np.stack(vecs).astype(np.float32)

    def search(self, q: np.ndarray) -> list[tuple[int, float, float, float]]:
        """Every window, best first: (file id, start, end, score)."""
        scores = self.vectors @ q
        order = np.argsort(-scores)
        return [(int(self.file_ids[i]), float(self.starts[i]), float(self.ends[i]), float(scores[i])) for i in order]


def _metrics(ranks: list[int], ious: list[float], heldout: list[bool]) -> dict[str, float]:
    r = np.asarray(ranks)
    i = np.asarray(ious)
    h = np.asarray(heldout, dtype=bool)
    return {
        "queries": len(r),
        "R@1": float(np.mean(r <= 1)),
        "R@5": float(np.mean(r <= 5)),
        "R@10": float(np.mean(r <= 10)),
        "median_rank": float(np.median(r)),
        "mean_rank": float(np.mean(r)),
        "R1@IoU0.5": float(np.mean(i >= 0.5)),
        "R1@IoU0.7": float(np.mean(i >= 0.7)),
        "mean_IoU": float(np.mean(i)),
        "heldout_pairs_R@1": float(np.mean(r[h] <= 1)) if h.any() else float("nan"),
        "heldout_pairs_R1@IoU0.5": float(np.mean(i[h] >= 0.5)) if h.any() else float("nan"),
    }


def run_quality(workdir: Path, *, n_videos: int, only_default: bool = False) -> dict[str, Any]:
    """Index the benchmark library with the test model once per sampling and score the three
    variants; each sparser sampling may lose at most 0.02 of R@1, R1@IoU 0.5 and mean IoU
    against strict 1 frame/s, judged on the same queries (paired)."""
    log(f"quality: generating the benchmark library ({n_videos} videos)")
    videos, queries = make_benchmark_library(workdir / "quality-library", n_videos)
    chosen = {k: v for k, v in SAMPLINGS.items() if not only_default or k in ("strict", DEFAULT_SAMPLING)}
    by_sampling = {name: _run_one(workdir, videos, queries, name, m) for name, m in chosen.items()}
    # The headline figures are the product's default sampling's (strict's when it is not run).
    head = DEFAULT_SAMPLING if DEFAULT_SAMPLING in by_sampling else "strict"
    out = {k: v for k, v in by_sampling[head].items() if k not in ("per_query", "frame_times")}
    out["headline_sampling"] = head
    out["sampling"] = {
        name: {
            "config": chosen[name],
            "max_every": chosen[name]["max_every"],
            "refine_edges": chosen[name]["refine_edges"],
            "segments": r["segments"],
            "frames": r["frames"],
            "decoded_frames": r["decoded_frames"],
            "index_wall_s": r["index_wall_s"],
            **r["variants"],
            "per_query": r["per_query"],
            "frame_times": r["frame_times"],
        }
        for name, r in by_sampling.items()
    }
    st = by_sampling["strict"]["variants"]["two_stage"]
    out["sampling_deltas"] = {
        name: {k: r["variants"]["two_stage"][k] - st[k] for k in ("R@1", "R1@IoU0.5", "mean_IoU")}
        for name, r in by_sampling.items()
        if name != "strict"
    }
    # How far each delta could move with other queries of the same kind: a paired bootstrap over
    # the queries (95 % interval), since both samplings answer the very same queries.
    base = by_sampling["strict"]["per_query"]
    out["sampling_delta_ci95"] = {
        name: _paired_ci(base, r["per_query"]) for name, r in by_sampling.items() if name != "strict"
    }
    out["edge_cosine"] = EDGE_COSINE
    out["seed"] = BENCH_SEED
    out["sampling_delta"] = next(iter(out["sampling_deltas"].values()), {})
    return out


def _run_one(workdir: Path, videos: list[Any], queries: list[Any], name: str, mode: dict[str, Any]) -> dict[str, Any]:
    import time

    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.library import Library
    from reelseek.core.models.registry import TEST_MODEL_ID
    from reelseek.core.types import Query

    home = workdir / f"quality-home-{name}"
    shutil.rmtree(home, ignore_errors=True)
    log(f"quality: indexing with {TEST_MODEL_ID}, {name} sampling ({mode})")
    cfg = IndexerConfig(sample_every=1.0, edge_cosine=EDGE_COSINE, **mode)
    with Library(home, model_id=TEST_MODEL_ID, indexer_config=cfg) as lib:
        t0 = time.perf_counter()
        # Visual retrieval only: the generated clips have no speech or text worth reading, and
        # the words pass would take most of the run on a loaded machine.
        with _count_decoded() as decoded:
            report = lib.index([str(videos[0].path.parent)], words=False)
        index_wall = time.perf_counter() - t0
        if report.errors:
            raise RuntimeError(f"indexing the benchmark library failed: {report.errors}")
        store = lib.store
        by_path = {Path(f.path).resolve(): f.id for f in store.files()}
        fid_of = [by_path[Path(v.path).resolve()] for v in videos]
        per_file = {fid: _file_vectors(store, TEST_MODEL_ID, fid) for fid in fid_of}
        windows = FixedWindows(
            {fid: (t, f, videos[i].duration) for i, fid in enumerate(fid_of) for t, f, _s in [per_file[fid]]}
        )
        seg_file = np.concatenate([[fid] * len(per_file[fid][2]) for fid in fid_of])
        seg_vecs = np.stack([v for fid in fid_of for _a, _b, v in per_file[fid][2]]).astype(np.float32)
        searcher = lib.searcher(TEST_MODEL_ID)
        results: dict[str, tuple[list[int], list[float]]] = {k: ([], []) for k in ("single", "two_stage", "windows")}
        tops: list[list[float] | None] = []  # two-stage's top moment per query (for paired comparisons)
        log(f"quality: {len(queries)} held-out queries x 3 variants")
        for text, vi, start, end, _h in queries:
            q = searcher.query_vector(Query(text=text))
            want = fid_of[vi]
            fallback = _files_by_segment_score(q, seg_file, seg_vecs)
            for variant in ("single", "two_stage"):
                res = searcher.search_vector(q, limit=LIMIT, two_stage=variant == "two_stage")
                hits = [(m.file_id, m.start, m.end) for m in res.moments]
                _score(results[variant], hits, fallback, want, (start, end))
                if variant == "two_stage":
                    tops.append([float(hits[0][0] == want), hits[0][1], hits[0][2]] if hits else None)
            hits = [(f, s, e) for f, s, e, _sc in windows.search(q)]
            _score(results["windows"], hits, fallback, want, (start, end))
    heldout = [h for *_x, h in queries]
    return {
        "model": TEST_MODEL_ID,
        "videos": len(videos),
        "scenes": sum(len(v.scenes) for v in videos),
        "queries": len(queries),
        "segments": len(seg_vecs),
        "frames": int(sum(len(per_file[fid][0]) for fid in fid_of)),
        "decoded_frames": len(decoded),
        "index_wall_s": index_wall,
        "window_s": WINDOW_S,
        "variants": {
            "single_stage": _metrics(*results["single"], heldout),
            "two_stage": _metrics(*results["two_stage"], heldout),
            "fixed_windows": _metrics(*results["windows"], heldout),
        },
        # Per query, two-stage: rank of the right file, IoU, [right file?, start, end] of the top moment.
        "per_query": {"rank": results["two_stage"][0], "iou": results["two_stage"][1], "top": tops},
        "frame_times": {
            videos[i].path.name: [round(float(x), 3) for x in np.sort(per_file[fid][0])] for i, fid in enumerate(fid_of)
        },
    }


@contextlib.contextmanager
def _count_decoded() -> Iterator[list[int]]:
    """Count the pictures the decoder outputs while indexing (skipped non-reference frames are
    never decoded, so they do not count): the sampler's Decoder and the edge pass's decoding."""
    from reelseek.core import sampling_edges
    from reelseek.core.media.decode import Decoder

    seen: list[int] = []
    frame_time, decode = Decoder.frame_time, sampling_edges._decode

    def counting_time(self: Any, frame: Any) -> float:
        seen.append(1)
        return frame_time(self, frame)

    def counting_decode(*args: Any) -> Iterator[Any]:
        for item in decode(*args):
            seen.append(1)
            yield item

    Decoder.frame_time = counting_time  # type: ignore[method-assign]
    sampling_edges._decode = counting_decode
    try:
        yield seen
    finally:
        Decoder.frame_time = frame_time  # type: ignore[method-assign]
        sampling_edges._decode = decode


def _paired_ci(base: dict[str, Any], other: dict[str, Any], rounds: int = 2000) -> dict[str, list[float]]:
    """95 % bootstrap interval of each two-stage delta (other - base), resampling queries."""
    rng = np.random.default_rng(0)
    per = {
        "R@1": (np.asarray(other["rank"]) <= 1).astype(float) - (np.asarray(base["rank"]) <= 1),
        "R1@IoU0.5": (np.asarray(other["iou"]) >= 0.5).astype(float) - (np.asarray(base["iou"]) >= 0.5),
        "mean_IoU": np.asarray(other["iou"]) - np.asarray(base["iou"]),
    }
    n = len(per["mean_IoU"])
    picks = rng.integers(0, n, size=(rounds, n))
    return {k: [float(x) for x in np.percentile(d[picks].mean(axis=1), [2.5, 97.5])] for k, d in per.items()}


def _files_by_segment_score(q: np.ndarray, seg_file: np.ndarray, seg_vecs: np.ndarray) -> list[int]:
    scores = seg_vecs @ q
    order = np.argsort(-scores)
    return list(dict.fromkeys(int(seg_file[i]) for i in order))


def _score(
    acc: tuple[list[int], list[float]],
    hits: list[tuple[int, float, float]],
    fallback: list[int],
    want: int,
    truth: tuple[float, float],
) -> None:
    ranking = list(dict.fromkeys([f for f, _s, _e in hits] + fallback))
    acc[0].append(ranking.index(want) + 1)
    top = hits[0] if hits else None
    acc[1].append(iou((top[1], top[2]), truth) if top is not None and top[0] == want else 0.0)
