"""The default image encoder (random weights) on CUDA: throughput through the product's path and the model alone.

``python -m tests.bench.gpu_encoder [--out FILE]``: only where a CUDA GPU is present; CI never
runs it. The product path is ``Embedder.encode_frames`` (uint8 frames from host memory,
normalised on the device, fp16 as "auto" picks on CUDA); the ceiling is the model's forward
pass on a batch already on the GPU. Text-query latency (the four prompt templates) too.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np


def _rate(fn: Any, n_items: int, seconds: float = 4.0) -> float:
    import torch

    fn()
    torch.cuda.synchronize()
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        done += n_items
    torch.cuda.synchronize()
    return done / (time.perf_counter() - t0)


def run() -> dict[str, Any]:
    import torch

    from tests.bench.embedders import default_spec
    from tests.bench.random_embedder import create_random_embedder

    spec = default_spec()
    out: dict[str, Any] = {"model": spec.id, "device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    torch.manual_seed(0)
    s = spec.image_size
    frames = np.random.default_rng(0).integers(0, 256, (512, s, s, 3), dtype=np.uint8)
    for bs in (64, 256, 512):
        emb = create_random_embedder(spec, device="cuda", precision="auto", batch_size=bs)
        out.setdefault("dtype", emb.dtype)
        out[f"product_img_per_s_batch{bs}"] = _rate(lambda e=emb: e.encode_frames(frames), len(frames))
        if bs == 256:
            model = emb._model
            x = torch.randn(bs, 3, s, s, device="cuda", dtype=emb._torch_dtype)

            def fwd(m: Any = model, x: Any = x) -> None:
                with torch.inference_mode():
                    m.encode_image(x)

            out["model_only_img_per_s_batch256"] = _rate(fwd, bs)
            xc = x.contiguous(memory_format=torch.channels_last)
            mcl = model.to(memory_format=torch.channels_last)
            out["model_only_channels_last_img_per_s_batch256"] = _rate(lambda m=mcl, x=xc: fwd(m, x), bs)
            # Text query: four templates, as the searcher embeds them.
            texts = [t.format("a dog on a beach") for t in ("{}", "a photo of {}.", "a video frame of {}.", "x {}")]
            emb.encode_texts(texts)
            lat = []
            for _ in range(30):
                t0 = time.perf_counter()
                emb.encode_texts(texts)
                lat.append(time.perf_counter() - t0)
            out["text_query_ms_p50"] = float(np.median(lat) * 1000)
        emb.close()
    out["note"] = "random weights, same compute as the real model"
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.gpu_encoder", description=__doc__)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    res = run()
    text = json.dumps(res, indent=1)
    if a.out:
        a.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
