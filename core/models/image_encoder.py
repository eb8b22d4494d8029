"""Frames to vectors on a CPU without torch: the image tower exported once to ONNX, int8 when it checks out.

On the 2-core test machine torch with bf16 weights reached 43 % of the bf16 matmul peak;
ONNX Runtime with int8 weight matrices passed the peak (int8 VNNI is faster than bf16), at
cosine 0.9998 to fp32 (docs/benchmarks.md #11). The export is made in a child process (the
indexer never blocks on torch's tracer or holds its memory), checked against open_clip in fp32
on probe frames, and cached in ``<models>/<id>/image-tower/`` with a manifest tying it to the
weights file and the CPU it was checked on; a changed weights file, another CPU or a damaged
export is rebuilt. int8 is kept when its check passes, else the fp32 graph (still faster than
torch here), else the caller keeps torch. ``REELSEEK_IMAGE_ENGINE=torch`` skips all of it;
CUDA always uses torch (the caller decides).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from . import tower_cache
from .device import cpu_count
from .registry import ModelError, ModelSpec
from .tower_cache import file_fields, open_failure, read_manifest, source_fingerprint, stale_reason, unit
from .weights import missing_weights_error, weights_path

log = logging.getLogger(__name__)
ENGINE_ENV = "REELSEEK_IMAGE_ENGINE"  # "torch" forces the open_clip model for frames
MANIFEST = tower_cache.MANIFEST  # the cache folder's manifest (tests read it)
CACHE_DIR = "image-tower"
FORMAT = 1  # bump when the export changes shape: older caches are rebuilt
BATCH = 16  # frames per run: as fast as larger batches here, and the indexer's chunk size


def onnx_disabled() -> bool:
    return os.environ.get(ENGINE_ENV, "").strip().lower() == "torch"


def cache_dir(spec: ModelSpec, models_dir: Path) -> Path:
    return Path(models_dir) / spec.id / CACHE_DIR


def cpu_kind() -> str:
    """The CPU features ONNX Runtime's int8 kernels depend on: the check holds only for them
    (without VNNI the u8*s8 products can saturate), so a models folder moved to another CPU
    is checked again."""
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    keep = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")
    return ",".join(f for f in keep if f in flags) or "unknown"


class ImageEncoder:
    """A model's image tower on ONNX Runtime; ``encode_frames`` matches ``Embedder.encode_frames``."""

    device = "cpu"

    def __init__(self, spec: ModelSpec, session: Any, dim: int, image_size: int, dtype: str, source: Path) -> None:
        self.spec = spec
        self.model_id = spec.id
        self.dim = dim
        self.image_size = image_size
        self.dtype = dtype  # "int8" or "float32": what the export's check kept
        self.batch_size = BATCH
        self.source = source
        self._session = session
        self._lock = threading.Lock()  # one batch at a time: the session already uses every core

    def __repr__(self) -> str:
        return f"ImageEncoder({self.model_id!r}, onnxruntime, dtype={self.dtype!r}, dim={self.dim})"

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB (N, S, S, 3), already resized and cropped -> float32 (N, dim), L2-normalised.

        Raises:
            ValueError: wrong dtype or shape (the message says what was expected).
        """
        arr = np.asarray(frames)
        s = self.image_size
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[1:] != (s, s, 3):
            raise ValueError(
                f"encode_frames expects uint8 RGB frames of shape (N, {s}, {s}, 3) for {self.model_id}, "
                f"got {arr.dtype} {arr.shape}"
            )
        out = np.empty((arr.shape[0], self.dim), dtype=np.float32)
        for i in range(0, arr.shape[0], self.batch_size):
            chunk = np.ascontiguousarray(arr[i : i + self.batch_size])
            with self._lock:
                if self._session is None:
                    raise ModelError(f"the {self.model_id} image encoder was closed")
                got = self._session.run(None, {"frames": chunk})[0]
            out[i : i + len(chunk)] = unit(np.asarray(got, dtype=np.float32))
        return out

    def close(self) -> None:
        with self._lock:
            self._session = None


def load_image_encoder(spec: ModelSpec, models_dir: Path, *, build: bool = True) -> ImageEncoder:
    """Open the model's exported image tower, exporting it first when absent, stale or corrupt.

    Raises:
        ModelError: weights missing, the tower does not export, the export fails its check,
            onnxruntime is missing, or the cache cannot be written (callers then use torch).
    """
    d = cache_dir(spec, Path(models_dir))
    return tower_cache.load_or_build(
        "image tower", spec, models_dir, d, _open, lambda sp, md: build_in_child(sp, md), build=build
    )


def build_in_child(spec: ModelSpec, models_dir: Path, timeout: float = 1800) -> None:
    """Run ``build_image_cache`` in a child process: the tracer's and quantiser's memory (a few
    copies of the weights) is never the indexer's, and torch's OpenMP cannot clash with it."""
    tower_cache.run_builder(__name__, "image tower", spec, models_dir, timeout)


def build_image_cache(
    spec: ModelSpec, models_dir: Path, *, int8_min_cosine: float | None = None, fp32_min_cosine: float | None = None
) -> Path:
    """Export the image tower, check it against open_clip in fp32 on ``probe_frames``, quantise
    it and check again; publish int8 if it passes, else fp32 (imports torch; tens of seconds).

    Raises:
        ModelError: even the fp32 export differs from open_clip (then nothing is published).
    """
    import torch

    from .embedder import Embedder, _create
    from .image_export import MIN_COSINE_FP32, MIN_COSINE_INT8, export_image_tower, probe_frames
    from .onnx_int8 import quantize_int8

    int8_min = MIN_COSINE_INT8 if int8_min_cosine is None else int8_min_cosine
    fp32_min = MIN_COSINE_FP32 if fp32_min_cosine is None else fp32_min_cosine
    weights = weights_path(spec, Path(models_dir))
    if weights is None:
        raise missing_weights_error(spec)
    source = source_fingerprint(spec, weights)
    torch.set_num_threads(cpu_count())
    model, preprocess, tokenizer = _create(spec, weights, "cpu")
    ref_emb = Embedder(
        spec, model, tokenizer, preprocess, device="cpu", dtype="float32", batch_size=BATCH, weights=weights
    )
    probe = probe_frames(ref_emb.image_size)
    ref = ref_emb.encode_frames(probe)  # the reference: the product's own torch fp32 path

    d = cache_dir(spec, Path(models_dir))
    d.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    g32, w32 = d / f"image-{tag}.fp32.onnx", d / f"image-{tag}.fp32.data"
    g8, w8 = d / f"image-{tag}.int8.onnx", d / f"image-{tag}.int8.data"
    try:
        export_image_tower(model, ref_emb.image_size, ref_emb.mean, ref_emb.std, g32, w32)
        cos32 = _check(g32, probe, ref)
        if not cos32 >= fp32_min:
            raise ModelError(f"the {spec.id} image-tower export differs from open_clip (cosine {cos32:.6f})")
        try:
            quantize_int8(g32, g8, w8)
            cos8 = _check(g8, probe, ref)
        except Exception as e:  # no quantiser in this install, or an op this runtime cannot run: fp32
            log.warning("no int8 %s image tower: %s", spec.id, e)
            cos8 = float("nan")
        use8 = cos8 >= int8_min
        graph, data = (g8, w8) if use8 else (g32, w32)
        if not use8:
            log.warning("int8 %s image tower: min cosine %.5f < %s; keeping fp32", spec.id, cos8, int8_min)
        manifest = {
            "format": FORMAT,
            "source": source,
            "cpu": cpu_kind(),
            **file_fields(graph, data),
            "dim": int(ref.shape[1]),
            "image_size": int(ref_emb.image_size),
            "dtype": "int8" if use8 else "float32",
            "check_cosine_fp32": cos32,
            "check_cosine_int8": None if cos8 != cos8 else cos8,
            "int8_min_cosine": int8_min,
        }
        return tower_cache.publish(d, tag, manifest, (graph, data), (g32, w32, g8, w8))
    except BaseException:
        for p in (g32, w32, g8, w8):
            p.unlink(missing_ok=True)
        raise


def _check(graph: Path, probe: np.ndarray, ref: np.ndarray) -> float:
    """Min cosine over the probe frames between the graph's vectors and the reference."""
    got = _session(graph).run(None, {"frames": probe})[0]
    return float(np.min(np.sum(unit(np.asarray(got, dtype=np.float32)) * ref, axis=1)))


def _open(spec: ModelSpec, d: Path, weights: Path) -> tuple[ImageEncoder | None, str]:
    """The encoder when the cache is current and intact, else None and the reason."""
    m = read_manifest(d)
    if m is None:
        return None, "no export yet"
    try:
        why = stale_reason(m, d, spec, weights, FORMAT)
        if why:
            return None, why
        if m.get("cpu") != cpu_kind():
            return None, "checked on another CPU"
        graph = d / str(m["graph"])
        size = int(m["image_size"])
        enc = ImageEncoder(spec, _session(graph), int(m["dim"]), size, str(m["dtype"]), graph)
        probe = enc.encode_frames(np.zeros((1, size, size, 3), dtype=np.uint8))
        if probe.shape != (1, spec.dim) or not np.isfinite(probe).all():
            return None, "export gives wrong vectors"
        return enc, ""
    except Exception as e:
        return None, open_failure(e)


def _session(graph: Path) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = cpu_count()
    so.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: the indexer decodes on the same cores
    # between batches, and spinning threads would take that time from the decoder.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(str(graph), so, providers=["CPUExecutionProvider"])


if __name__ == "__main__":
    import sys

    sys.exit(tower_cache.child_main(sys.argv[1:], build_image_cache, "image export"))
