"""Stage-1 options at 1 M segments (#14): recall@100 and scan cost of each, on the benchmark library's vectors.

``python -m tests.bench.million_options --home bench-out/million/lib-1000000 [--queries 50]``

Options, each a scan over every segment then an exact float32 re-score of the best R:
int8 codes of all 512 dims (the product), int8 codes of a per-library PCA projection to
256/192/128 dims, and 1-bit sign codes compared by Hamming distance. The scan cost is the
single-thread CPU time of numkong's kernel over all rows (the product splits it over the cores),
so it compares across options whatever the machine's load; the exact numpy float32 scan's CPU
time is measured the same way as the baseline.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np


def _cpu_ms(f: Any, reps: int = 3) -> float:
    f()
    ts = []
    for _ in range(reps):
        t = time.thread_time()
        f()
        ts.append(time.thread_time() - t)
    return float(np.median(ts) * 1e3)


def _int8(x: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, float]:
    y = x - mean
    scale = 127.0 / float(np.abs(y).max())
    return np.clip(np.rint(y * scale), -127, 127).astype(np.int8), scale


def _q8(q: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(q * (127.0 / float(np.abs(q).max()))), -127, 127).astype(np.int8)


def _recall(est: np.ndarray, exact: np.ndarray, truth: np.ndarray, rescore: int) -> float:
    """recall@100 after keeping the best ``rescore`` rows by ``est`` and re-scoring them exactly."""
    short = np.argpartition(-est, rescore)[:rescore]
    top = short[np.argsort(-exact[short])[:100]]
    return len(np.intersect1d(top, truth)) / 100.0


def run(home: Path, n_queries: int, rescores: tuple[int, ...]) -> dict[str, Any]:
    import numkong as nk

    x = np.ascontiguousarray(np.load(home / "vectors.npy", mmap_mode="r"), dtype=np.float32)
    n, dim = x.shape
    rng = np.random.default_rng(7)
    text = np.load(home / "queries.npy")[:n_queries].astype(np.float32)
    picks = rng.integers(0, n, n_queries)
    img = x[picks] + 0.3 * rng.standard_normal((n_queries, dim)).astype(np.float32) / np.sqrt(dim)
    img /= np.linalg.norm(img, axis=1, keepdims=True)
    qs = {"text": text, "image": img}
    exact = {k: q @ x.T for k, q in qs.items()}  # (queries, n) float32 exact scores
    truth = {k: np.argsort(-e, axis=1)[:, :100] for k, e in exact.items()}
    out: dict[str, Any] = {"segments": n, "queries_each": n_queries, "options": {}}
    one = np.ascontiguousarray(x[: 1 << 18])
    f32_ms = _cpu_ms(lambda: one @ text[0]) * n / len(one)
    out["exact_f32_cpu_ms_per_query"] = f32_ms
    mean = x[rng.choice(n, 100_000, replace=False)].mean(axis=0)

    def measure(name: str, codes: np.ndarray, encode_q: Any, kernel: Any) -> None:
        part = np.ascontiguousarray(codes[: 1 << 18])
        q0 = encode_q(text[0])
        scan_ms = _cpu_ms(lambda: kernel(part, q0)) * n / len(part)
        rec: dict[str, dict[str, float]] = {}
        for kind, q in qs.items():
            ests = [np.asarray(kernel(codes, encode_q(v)), dtype=np.float32).ravel() for v in q]
            rec[kind] = {
                str(r): float(np.mean([_recall(e, exact[kind][i], truth[kind][i], r) for i, e in enumerate(ests)]))
                for r in rescores
            }
        out["options"][name] = {
            "bytes_per_row": int(codes.shape[1]),
            "scan_cpu_ms_per_query": scan_ms,
            "scan_vs_exact_f32": scan_ms / f32_ms,
            "recall_at_100_by_rescore": rec,
        }
        print(name, json.dumps(out["options"][name]), flush=True)

    def dot8(c: np.ndarray, q: np.ndarray) -> np.ndarray:
        r = np.empty(len(c), np.float32)
        nk.dot(c, q, out=r, out_dtype="f32")
        return r

    codes, _ = _int8(x, mean)
    measure("int8, 512 dims (product)", codes, _q8, dot8)
    del codes
    sample = x[rng.choice(n, 100_000, replace=False)] - mean
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    for d in (256, 192, 128):
        proj = np.ascontiguousarray(vt[:d].T)
        codes, _ = _int8((x - mean) @ proj, np.zeros(d, np.float32))
        measure(f"int8, PCA to {d} dims", codes, lambda v, p=proj: _q8(v @ p), dot8)
        del codes
    bits = np.packbits((x - mean) > 0, axis=1)

    def ham(c: np.ndarray, q: np.ndarray) -> np.ndarray:
        return -np.asarray(nk.hamming(c, q), dtype=np.float32)

    measure("1-bit signs, Hamming", bits, lambda v: np.packbits((v - mean) > 0), ham)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--out", type=Path, default=Path("bench-out/million-options.json"))
    a = ap.parse_args()
    res = run(a.home, a.queries, (1024, 4096, 16384))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
