"""Stage-1 candidates at up to 1 M segments: latency, recall@100 against exact search, memory, build.

``python -m tests.bench.stage1 --segments 1000000 --work DIR [--cpus 0,1] [--out FILE]``

Vectors come from the search benchmark's CLIP-shaped generator (tests/bench/search.py), made
in parallel processes. Each candidate is measured in a child process (pinned with ``taskset``
when ``--cpus`` is given, to emulate a 2-core laptop on a bigger machine), against exact
float32 brute force over the same vectors. Text-like queries (across the modality gap) and
image-like queries (a library vector plus noise) are scored separately.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import dir_bytes, latency_stats, rss_bytes
from tests.bench.search import SEGMENTS_PER_FILE, Generator, SynthSpace

DIM = 512
K = 256  # the product's stage1_k
BLOCK = 20000


def _block(args: tuple[int, int, int, int]) -> np.ndarray:
    """Segment vectors of one block (own RNG stream over the shared topic space)."""
    seed, i, n, dim = args
    gen = Generator(SynthSpace(dim=dim), seed)
    gen.rng = np.random.default_rng((seed, i))
    out, done = [], 0
    while done < n:
        topics, dirs = gen.files(200)
        counts = gen.rng.integers(*SEGMENTS_PER_FILE, endpoint=True, size=200)
        seg_file = np.repeat(np.arange(200), counts)[: n - done]
        n_frames = gen.rng.integers(8, 17, size=len(seg_file))
        _f, seg = gen.segments(topics, dirs, seg_file, n_frames)
        out.append(seg)
        done += len(seg)
    return np.concatenate(out)


def generate(work: Path, n: int, n_queries: int, seed: int = 7) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    stamp = work / f"gen-{n}.json"
    if stamp.exists():
        return json.loads(stamp.read_text())
    t0 = time.perf_counter()
    x = np.lib.format.open_memmap(work / f"x-{n}.npy", mode="w+", dtype=np.float32, shape=(n, DIM))
    jobs = [(seed, i, min(BLOCK, n - s), DIM) for i, s in enumerate(range(0, n, BLOCK))]
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as ex:
        for (_s, i, m, _d), block in zip(jobs, ex.map(_block, jobs), strict=True):
            x[i * BLOCK : i * BLOCK + m] = block
    gen = Generator(SynthSpace(dim=DIM), seed)
    text = gen.queries(n_queries)
    rng = np.random.default_rng(seed + 1)
    picks = rng.integers(0, n, n_queries // 2)
    img = x[np.sort(picks)] + 0.3 * rng.standard_normal((len(picks), DIM)).astype(np.float32) / np.sqrt(DIM)
    img /= np.linalg.norm(img, axis=1, keepdims=True)
    truth_t, truth_i = _exact(x, text), _exact(x, img)
    np.savez(work / f"q-{n}.npz", text=text, image=img, truth_text=truth_t, truth_image=truth_i)
    x.flush()
    info = {"segments": n, "generate_s": time.perf_counter() - t0, "text_queries": len(text), "image_queries": len(img)}
    stamp.write_text(json.dumps(info))
    return info


def _exact(x: np.ndarray, q: np.ndarray, k: int = 100) -> np.ndarray:
    scores = np.concatenate([x[s : s + 100_000] @ q.T for s in range(0, len(x), 100_000)])
    top = np.argpartition(-scores, k, axis=0)[:k].T
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores.T, top, 1), axis=1), 1)


def _recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(f[:100], t)) / 100.0 for f, t in zip(found, truth, strict=True)]))


def _dump(work: Path, out: dict[str, Any]) -> None:
    """What is measured so far, for a run cut short by its time limit."""
    (work / "partial.json").write_text(json.dumps(out))


def _measure(fn: Any, queries: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    fn(queries[0])
    lat, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(np.asarray(fn(q)))
        lat.append(time.perf_counter() - t)
    return {**latency_stats(lat), "recall_at_100": _recall(found, truth)}


def child(work: Path, n: int, build: bool, quick: bool, exact_max: int | None = None) -> dict[str, Any]:
    """All candidates in this (possibly pinned) process."""
    from usearch.index import search as usearch_search

    from reelseek.core.stage1 import EXACT_MAX, FlatIndex, Quantizer, _top, scan_threads

    qz = np.load(work / f"q-{n}.npz")
    text, img, tt, ti = qz["text"], qz["image"], qz["truth_text"], qz["truth_image"]
    if quick:
        text, tt, img, ti = text[:60], tt[:60], img[:30], ti[:30]
    out: dict[str, Any] = {"threads": scan_threads(), "rss_start_bytes": rss_bytes(), "exact_max": exact_max}
    x = np.load(work / f"x-{n}.npy", mmap_mode="r")
    path = work / f"stage1-{n}.stage1"
    if build or not path.exists():
        fi = FlatIndex(DIM)
        fi.shard_rows = max(n, 1)  # one shard: the candidates below compare against its arrays
        t0 = time.perf_counter()
        ids = np.arange(1, n + 1)
        fi.build(((ids[s : s + BLOCK], x[s : s + BLOCK]) for s in range(0, n, BLOCK)), work / "scratch.f16")
        t1 = time.perf_counter()
        fi.save(path)
        out["build"] = {"spill_s": t1 - t0, "save_s": time.perf_counter() - t1, "file_bytes": dir_bytes(path)}
        fi.close()
    rss0 = rss_bytes()
    fi = FlatIndex(DIM) if exact_max is None else FlatIndex(DIM, exact_max=exact_max)
    t0 = time.perf_counter()
    fi.load(path)
    out["product"] = {
        "open_s": time.perf_counter() - t0,
        "mapped_bytes": fi.mapped_bytes(),
        "rss_after_open_delta_bytes": rss_bytes() - rss0,
    }

    def prod(q: np.ndarray) -> np.ndarray:
        return fi.search(q, K)[0] - 1

    out["product"]["text"] = _measure(prod, text, tt)
    out["product"]["image"] = _measure(prod, img, ti)
    out["product"]["rss_after_search_delta_bytes"] = rss_bytes() - rss0
    _dump(work, out)
    fi.rescore = 0  # re-score only the k rows returned (the codes choose them)
    out["rescore_256"] = {"text": _measure(prod, text, tt), "image": _measure(prod, img, ti)}
    fi.rescore = 1024
    fi.drop_pages = False
    out["product_keep_pages"] = {"text": _measure(prod, text[:100], tt[:100])}
    out["product_keep_pages"]["rss_after_search_delta_bytes"] = rss_bytes() - rss0
    fi.drop_pages = True
    _dump(work, out)
    fi.threads = 1
    out["product_1_thread"] = {"text": _measure(prod, text[:60], tt[:60])}
    fi.threads = scan_threads()
    codes, vecs = fi._shards[0].codes, fi._shards[0].vecs  # int8 codes and float16 vectors (mapped)

    def usearch_i8(q: np.ndarray) -> np.ndarray:
        m = usearch_search(codes, Quantizer.encode_query(q), K, "ip", exact=True, threads=scan_threads())
        return np.asarray(m.keys)

    def usearch_f16(q: np.ndarray) -> np.ndarray:
        m = usearch_search(vecs, q.astype(np.float16), K, "ip", exact=True, threads=scan_threads())
        return np.asarray(m.keys)

    out["usearch_i8_exact_search"] = {"text": _measure(usearch_i8, text[:30], tt[:30])}
    out["usearch_f16_exact_search"] = {"text": _measure(usearch_f16, text[:30], tt[:30])}
    fi.exact_max = n  # the product's float16 path (used up to EXACT_MAX) at this size
    out["f16_scan"] = {"text": _measure(prod, text[:100], tt[:100])}
    fi.exact_max = EXACT_MAX
    _dump(work, out)
    # PCA-256 projection, fitted on a sample, int8 codes, float16 re-score of the best 1024.
    sample = np.asarray(x[:: max(1, n // 50_000)], dtype=np.float32)
    mean = sample.mean(0)
    _u, sv, vt = np.linalg.svd(sample - mean, full_matrices=False)
    proj = vt[:256].T.astype(np.float32)
    energy = float((sv[:256] ** 2).sum() / (sv**2).sum())
    quant = Quantizer.fit((sample - mean) @ proj)
    pcodes = np.concatenate([quant.encode((np.asarray(x[s : s + BLOCK]) - mean) @ proj) for s in range(0, n, BLOCK)])

    def pca(q: np.ndarray) -> np.ndarray:
        rows, _ = _top(pcodes, Quantizer.encode_query(q @ proj), 1024, scan_threads())
        return rows[np.argsort(-fi.rescore_rows(rows, q))]

    out["pca256_int8_rescore1024"] = {
        "energy_kept": energy,
        "index_bytes": pcodes.nbytes,
        "text": _measure(pca, text[:100], tt[:100]),
        "image": _measure(pca, img[:50], ti[:50]),
    }
    _dump(work, out)
    # Binary codes (sign of the centred vector), Hamming scan, float16 re-score of the best 4096.
    quant = fi._shards[0].quant
    qm = quant.mean if quant is not None else mean
    bits = np.concatenate([np.packbits(np.asarray(x[s : s + BLOCK]) > qm, axis=1) for s in range(0, n, BLOCK)])

    def binary(q: np.ndarray) -> np.ndarray:
        m = usearch_search(bits, np.packbits(q > 0), 4096, "hamming", exact=True, threads=scan_threads())
        rows = np.asarray(m.keys, dtype=np.int64)
        return rows[np.argsort(-fi.rescore_rows(rows, q))]

    out["binary_rescore4096"] = {"index_bytes": bits.nbytes, "text": _measure(binary, text[:20], tt[:20])}
    _dump(work, out)
    xf = np.load(work / f"x-{n}.npy", mmap_mode="r")

    def numpy_exact(q: np.ndarray) -> np.ndarray:
        s = xf @ q
        top = np.argpartition(-s, K)[:K]
        return top[np.argsort(-s[top])]

    out["numpy_f32_exact"] = {"text": _measure(numpy_exact, text[:30], tt[:30])}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.stage1", description=__doc__)
    p.add_argument("--segments", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--cpus", default="", help="comma-separated cores for taskset ('' = all)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--exact-max", type=int, default=None, help="product's float16-scan limit")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.work, a.segments, a.build, a.quick, a.exact_max)))
        return 0
    info = generate(a.work, a.segments, a.queries)
    cmd = [sys.executable, "-m", "tests.bench.stage1", "--child", "--build", "--segments", str(a.segments)]
    cmd += ["--work", str(a.work)] + (["--quick"] if a.quick else [])
    cmd += ["--exact-max", str(a.exact_max)] if a.exact_max is not None else []
    if a.cpus:
        cmd = ["taskset", "-c", a.cpus, *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        return res.returncode
    result = {"generation": info, "cpus": a.cpus or "all", **json.loads(res.stdout.strip().splitlines()[-1])}
    text = json.dumps(result, indent=1)
    if a.out:
        a.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
