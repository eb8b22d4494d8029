"""Image encoder against the CPU's bf16 matmul peak, measured in the same run: which knobs win.

`python -m tests.bench.encoder_peak [--images 64] [--variants a,b] [--out bench-out/encoder_peak.json]`

* Peak: ``torch.matmul`` of large bf16 (and fp32) square matrices on the same threads, best of
  several calls, measured before and after the encoder variants (the machine's load swings;
  each variant's fraction uses the mean of the two).
* Work per image: FLOPs of one forward pass of the default architecture's image tower counted
  by ``torch.utils.flop_counter`` (matmuls and convolutions, 2 per multiply-add), not assumed.
* Variants: the product's path (``product_b16``: ``Library.load_image_model`` on a CPU, the
  image tower on ONNX Runtime as ``models.image_encoder`` exports, checks and caches it, int8
  when its check passes), the torch path it replaced (``torch_bf16_b16``: ``Embedder.encode_frames``
  with bf16 weights, the product until #11) and the knobs #11 names:
  batch size, threads, channels-last, bf16 autocast vs converted weights, torch.compile,
  a frozen TorchScript graph, ONNX Runtime fp32 and int8. Each reports images/s, the
  fraction of the peak and the min cosine of its embeddings to the fp32 model's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.common import REPO_ROOT, log

PEAK_N = 2048  # square matmul size for the peak (4096 measured no faster here)
_MATS: dict[str, Any] = {}


def matmul_peak(dtype: str, threads: int, seconds: float = 2.0) -> float:
    """GFLOP/s of the best ``torch.matmul`` call on square PEAK_N matrices (bf16 or fp32)."""
    import torch

    torch.set_num_threads(threads)
    if dtype not in _MATS:
        _MATS[dtype] = (
            torch.randn(PEAK_N, PEAK_N).to(getattr(torch, dtype)),
            torch.randn(PEAK_N, PEAK_N).to(getattr(torch, dtype)),
        )
        torch.matmul(*_MATS[dtype])  # warm-up: packing buffers
    a, b = _MATS[dtype]
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = max(best, 2 * PEAK_N**3 / (time.perf_counter() - t0) / 1e9)
    return best


def image_flops(model: Any, size: int) -> float:
    """FLOPs of one image through the image tower (flop_counter: matmul/conv/attention)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3, size, size)
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        model.float().encode_image(x)
    return float(counter.get_total_flops())


def _time(fn: Callable[[np.ndarray], np.ndarray], pixels: np.ndarray, batch: int, images: int) -> tuple[float, Any]:
    """Images/s of fn over ``images`` images in batches (one warm-up batch first); and the outputs."""
    fn(pixels[:batch])
    outs = []
    t0 = time.perf_counter()
    done = 0
    while done < images:
        chunk = pixels[done % len(pixels) : done % len(pixels) + batch]
        outs.append(fn(chunk))
        done += len(chunk)
    return done / (time.perf_counter() - t0), np.concatenate(outs)[: len(pixels)]


def _normalised(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def build_variants(spec: Any, batch: int) -> dict[str, Callable[[], Callable[[np.ndarray], np.ndarray]]]:
    """name -> builder of an images->vectors function (built lazily: some take a while)."""
    import torch

    from tests.bench.random_embedder import create_random_embedder

    def onnx_product() -> Callable[[], Any]:
        def build() -> Callable[[np.ndarray], np.ndarray]:
            enc = product_image_encoder(spec)
            log(f"encoder: product path is {enc!r}")
            return enc.encode_frames

        return build

    def product(bs: int, precision: str = "bf16", threads: int | None = None) -> Callable[[], Any]:
        def build() -> Callable[[np.ndarray], np.ndarray]:
            torch.manual_seed(0)
            emb = create_random_embedder(spec, precision=precision, batch_size=bs)
            if threads:
                torch.set_num_threads(threads)
            return emb.encode_frames

        return build

    def raw(mode: str) -> Callable[[], Any]:
        def build() -> Callable[[np.ndarray], np.ndarray]:
            from tests.bench import encoder_variants as ie

            torch.manual_seed(0)
            emb = create_random_embedder(spec, precision="fp32", batch_size=batch)
            return ie.bench_variant(emb, mode)

        return build

    return {
        "product_b16": onnx_product(),
        "torch_bf16_b16": product(16),
        "torch_bf16_b8": product(8),
        "torch_bf16_b32": product(32),
        "torch_bf16_b64": product(64),
        "torch_bf16_b16_1thread": product(16, threads=1),
        "fp32_b16": product(16, "fp32"),
        "autocast_bf16": raw("autocast"),
        "bf16_channels_last": raw("channels_last"),
        "bf16_jit_freeze": raw("jit_freeze"),
        "bf16_compile": raw("compile"),
        "ort_fp32": raw("ort_fp32"),
        "ort_int8": raw("ort_int8"),
        "int8_dynamic": raw("int8_dynamic"),
    }


def product_image_encoder(spec: Any) -> Any:
    """The product's CPU image encoder for the same random weights as the reference (seed 0):
    the weights are saved as a user's would be, then exported, checked and cached by
    ``models.image_encoder`` (once per weights file; later runs reuse the export)."""
    import torch
    from safetensors.torch import save_file

    from reelseek.core.models.image_encoder import load_image_encoder
    from tests.bench.random_embedder import create_random_embedder

    models = REPO_ROOT / "bench-out" / "encoder-models"
    weights = models / spec.id / "open_clip_model.safetensors"
    if not weights.exists():
        torch.manual_seed(0)
        model = create_random_embedder(spec, precision="fp32")._model
        weights.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(weights))
    return load_image_encoder(spec, models)


def run(images: int, batch: int, only: list[str] | None, rounds: int = 3) -> dict[str, Any]:
    """Build every variant, then time them round-robin with a peak reading before each one.

    The load on this machine swings by several times within a minute, so each timing is set
    against the peak measured right before and right after it; medians over rounds.
    """
    import torch

    from tests.bench.common import median
    from tests.bench.embedders import default_spec
    from tests.bench.random_embedder import create_random_embedder

    threads = int(os.environ.get("REELSEEK_BENCH_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    spec = default_spec()
    load_before = os.getloadavg()
    torch.manual_seed(0)
    ref = create_random_embedder(spec, precision="fp32", batch_size=batch)
    flops = image_flops(ref._model, ref.image_size)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(batch * 2, ref.image_size, ref.image_size, 3), dtype=np.uint8)
    reference = ref.encode_frames(pixels)
    del ref
    rows: dict[str, Any] = {}
    fns: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {}
    for name, build in build_variants(spec, batch).items():
        if only and name not in only:
            continue
        torch.set_num_threads(threads)
        m = re.search(r"_b(\d+)(?:_|$)", name)  # product_b16, torch_bf16_b32_1thread: their batch size
        bs = int(m.group(1)) if m else batch
        t0 = time.perf_counter()
        try:
            fn = build()
            fn(pixels[:bs])  # first call: allocation, compilation, ORT graph optimisation
            setup = time.perf_counter() - t0
            out = np.concatenate([fn(pixels[i : i + bs]) for i in range(0, len(pixels), bs)])
        except Exception as e:  # a variant this machine cannot run is reported, not fatal
            rows[name] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
            log(f"encoder: {name}: {rows[name]['error']}")
            continue
        cos = float(np.einsum("ij,ij->i", _normalised(out), reference).min())
        rows[name] = {"setup_s": setup, "min_cos_fp32": cos, "batch": bs, "rounds": []}
        fns[name] = (fn, bs)
        log(f"encoder: built {name} in {setup:.1f} s, min cos {cos:.5f}")
    peaks: list[float] = []
    for r in range(rounds):
        for name, (fn, bs) in fns.items():
            torch.set_num_threads(1 if "1thread" in name else threads)
            before = matmul_peak("bfloat16", threads, 0.6)
            ips, _ = _time(fn, pixels, bs, images)
            after = matmul_peak("bfloat16", threads, 0.6)
            peaks += [before, after]
            frac = ips * flops / 1e9 / ((before + after) / 2)
            rows[name]["rounds"].append({"img_s": ips, "peak_before": before, "peak_after": after, "fraction": frac})
            log(f"encoder: round {r}: {name}: {ips:.1f} img/s, {100 * frac:.0f}% of peak ({before:.0f}/{after:.0f})")
    torch.set_num_threads(threads)
    for row in rows.values():
        if row.get("rounds"):
            row["img_s"] = median([x["img_s"] for x in row["rounds"]])
            row["fraction_of_bf16_peak"] = median([x["fraction"] for x in row["rounds"]])
            row["gflop_s"] = row["img_s"] * flops / 1e9
    best_peak = max(peaks) if peaks else float("nan")
    return {
        "threads": threads,
        "images": images,
        "rounds": rounds,
        "gflop_per_image": flops / 1e9,
        "bf16_peak_gflop_s": {"median": median(peaks), "best": best_peak},
        "fp32_peak_gflop_s": matmul_peak("float32", threads, 1.0),
        "limit_img_s_at_best_peak": best_peak * 1e9 / flops,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "variants": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.encoder_peak", description=__doc__)
    p.add_argument("--images", type=int, default=64, help="images timed per variant")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variants", default="", help="comma-separated subset")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out" / "encoder_peak.json")
    args = p.parse_args(argv)
    res = run(args.images, args.batch, [v for v in args.variants.split(",") if v] or None, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    for name, r in res["variants"].items():
        if "img_s" in r:
            print(
                f"{name:24s} {r['img_s']:7.1f} img/s  {100 * r['fraction_of_bf16_peak']:5.1f}% of peak  "
                f"cos {r['min_cos_fp32']:.5f}"
            )
        else:
            print(f"{name:24s} {r['error']}")
    print(f"peak {res['bf16_peak_gflop_s']}, {res['gflop_per_image']:.2f} GFLOP/image")
    print(f"load {res['loadavg_before']} -> {res['loadavg_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
