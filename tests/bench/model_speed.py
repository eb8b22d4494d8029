"""Encoder speed per model and precision, measured with random weights (same compute as the real ones).

Run ``python -m tests.bench.model_speed vit-b-32 mobileclip2-s0 --precision fp32 bf16``; an
id that is not in the registry is taken as an open_clip architecture name (``ViT-B-16``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from dataclasses import dataclass, replace

from reelseek.core.models.registry import ModelError, ModelSpec, get_spec


@dataclass(frozen=True)
class SpeedResult:
    model: str
    precision: str
    batch_size: int
    threads: int
    images_per_s: float  # encode_frames, uint8 frames in, normalised vectors out: median batch
    text_ms: float  # one query through encode_texts: median
    min_cosine_to_fp32: float  # over probe and random frames, and probe texts
    images_per_s_best: float = 0.0  # fastest batch: closer to the truth on a machine shared with others
    text_ms_best: float = 0.0
    # CPU time of this process per image: barely affected by other processes on the machine, so
    # it ranks models fairly when wall-clock numbers cannot be had on a quiet machine.
    cpu_ms_per_image: float = 0.0

    def row(self) -> str:
        return (
            f"| {self.model} | {self.precision} | {self.batch_size} | {self.threads} | "
            f"{self.images_per_s:.1f} ({self.images_per_s_best:.1f}) | {self.text_ms:.0f} ({self.text_ms_best:.0f}) | "
            f"{self.cpu_ms_per_image:.0f} | {self.min_cosine_to_fp32:.5f} |"
        )


HEADER = (
    "| model | precision | batch | threads | images/s median (best) | text ms/query median (best) "
    "| CPU ms/image | min cosine to fp32 |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def spec_for(name: str) -> ModelSpec:
    """A registry spec, or an ad-hoc one for any open_clip architecture name."""
    try:
        return get_spec(name)
    except ModelError:
        import open_clip

        cfg = open_clip.get_model_config(name)
        if cfg is None:
            raise ModelError(f"{name!r} is neither a registry id nor an open_clip architecture") from None
        size = cfg["vision_cfg"].get("image_size", 224)
        base = get_spec("vit-b-32")
        return replace(
            base,
            id=name,
            arch=name,
            pretrained=None,
            dim=int(cfg["embed_dim"]),
            image_size=int(size if isinstance(size, int) else size[0]),
        )


def measure(
    spec: ModelSpec,
    precisions: list[str],
    *,
    batch_size: int = 16,
    batches: int = 5,
    text_repeats: int = 10,
    threads: int | None = None,
) -> list[SpeedResult]:
    """Time ``encode_frames`` and ``encode_texts`` on CPU for each precision (median of runs)."""
    import torch

    from reelseek.core.models.device import cpu_count

    n_threads = threads or cpu_count()
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        return _measure(spec, precisions, batch_size, batches, text_repeats, n_threads)
    finally:
        torch.set_num_threads(previous)


def _measure(
    spec: ModelSpec, precisions: list[str], batch_size: int, batches: int, text_repeats: int, n_threads: int
) -> list[SpeedResult]:
    import numpy as np
    import torch

    from reelseek.core.models.embedder import _PROBE_TEXTS, _probe_frames, _set_dtype
    from tests.bench.random_embedder import create_random_embedder

    torch.manual_seed(0)
    emb = create_random_embedder(spec, device="cpu", precision="fp32", batch_size=batch_size)
    fp32_model = emb._model
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(batch_size, emb.image_size, emb.image_size, 3), dtype=np.uint8)
    check = np.concatenate([_probe_frames(emb.image_size), frames[:4]])
    ref = emb.encode_frames(check)
    ref_txt = emb.encode_texts(list(_PROBE_TEXTS))
    results = []
    for prec in precisions:
        dtype = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}[prec]
        model = fp32_model if dtype == "float32" else copy.deepcopy(fp32_model).to(getattr(torch, dtype))
        _set_dtype(emb, model, dtype)
        emb.encode_frames(frames)  # warm-up: allocator, oneDNN kernel selection
        img_times, img_cpu = [], []
        for _ in range(batches):
            t0, c0 = time.perf_counter(), time.process_time()
            emb.encode_frames(frames)
            img_times.append(time.perf_counter() - t0)
            img_cpu.append(time.process_time() - c0)
        emb.encode_texts(["warm up"])
        txt_times = []
        for i in range(text_repeats):
            t0 = time.perf_counter()
            emb.encode_texts([f"a woman opens a red door at night {i}"])
            txt_times.append(time.perf_counter() - t0)
        cos = min(
            float((emb.encode_frames(check) * ref).sum(axis=1).min()),
            float((emb.encode_texts(list(_PROBE_TEXTS)) * ref_txt).sum(axis=1).min()),
        )
        results.append(
            SpeedResult(
                model=spec.id,
                precision=prec,
                batch_size=batch_size,
                threads=n_threads,
                images_per_s=batch_size / statistics.median(img_times),
                text_ms=1000 * statistics.median(txt_times),
                min_cosine_to_fp32=cos,
                images_per_s_best=batch_size / min(img_times),
                text_ms_best=1000 * min(txt_times),
                cpu_ms_per_image=1000 * statistics.median(img_cpu) / batch_size,
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.model_speed", description=__doc__)
    ap.add_argument("models", nargs="+", help="registry ids or open_clip architecture names")
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16", "fp16"])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--batches", type=int, default=5, help="timed batches per precision (median)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: usable cores)")
    args = ap.parse_args(argv)
    print(HEADER)
    for name in args.models:
        try:
            spec = spec_for(name)
        except ModelError as e:
            print(f"speed: {e}", file=sys.stderr)
            return 2
        for r in measure(spec, args.precision, batch_size=args.batch_size, batches=args.batches, threads=args.threads):
            print(r.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
