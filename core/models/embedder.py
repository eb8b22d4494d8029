"""The open_clip adapter: load a registry model offline and turn frames, stills and text into vectors."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .device import cpu_count, cpu_has_native_bf16, pick_device
from .registry import ModelError, ModelSpec, get_spec, resolve_model_id
from .weights import missing_weights_error, quiet_open_clip, weights_path

if TYPE_CHECKING:
    import PIL.Image
    import torch

PRECISIONS = {
    "auto": "auto",
    "fp32": "float32",
    "float32": "float32",
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
    "half": "float16",
}
SELF_CHECK_MIN_COSINE = 0.999  # reduced precision is kept only when it matches fp32 this closely
_PROBE_TEXTS = ("a photo of a red car parked on a street at night", "two people talking in a kitchen")


class Embedder:
    """One loaded model; every output row is an L2-normalised float32 vector of size ``dim``.

    Calls are serialised by a lock: the indexer and a query may share one instance from
    different threads without oversubscribing the cores or the GPU.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model: Any,  # an open_clip CLIP module: open_clip ships no type information
        tokenizer: Any,
        preprocess: Any,
        *,
        device: str,
        dtype: str,
        batch_size: int,
        weights: Path | None,
        precision_check: float | None = None,
        precision_note: str = "",
    ) -> None:
        import torch

        self.spec = spec
        self.model_id = spec.id
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.weights = weights
        self.precision_check = precision_check  # min cosine of the reduced-precision self-check
        self.precision_note = precision_note  # why "auto" fell back to fp32, when it did
        self._model: Any = model
        self._tokenizer = tokenizer
        self._preprocess = preprocess
        self._torch_dtype = getattr(torch, dtype)
        self._lock = threading.Lock()

        pp = model.visual.preprocess_cfg
        size = pp.get("size", spec.image_size)
        self.image_size = int(size if isinstance(size, int) else size[0])
        self.mean: tuple[float, float, float] = tuple(float(v) for v in pp["mean"])  # type: ignore[assignment]
        self.std: tuple[float, float, float] = tuple(float(v) for v in pp["std"])  # type: ignore[assignment]
        self.interpolation = str(pp.get("interpolation", "bicubic"))
        self.resize_mode = str(pp.get("resize_mode", "shortest"))
        # (x / 255 - mean) / std == x * scale - shift, done once per batch on the device.
        std = torch.tensor(self.std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        mean = torch.tensor(self.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        self._scale = 1.0 / (255.0 * std)
        self._shift = mean / std
        self.dim = int(self._encode_text_batch(["a"]).shape[1])
        if self.dim != spec.dim or self.image_size != spec.image_size:
            raise ModelError(
                f"{spec.id}: the loaded model gives {self.dim}-d vectors at {self.image_size}px, but the "
                f"registry says {spec.dim}-d at {spec.image_size}px; the weights or the registry are wrong"
            )

    def __repr__(self) -> str:
        return f"Embedder({self.model_id!r}, device={self.device!r}, dtype={self.dtype!r}, dim={self.dim})"

    # -- public API --------------------------------------------------------------------------
    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """Embed video frames already resized and centre-cropped to the model's input size.

        Args:
            frames: uint8 array (N, S, S, 3), RGB, S == ``image_size``.

        Returns:
            float32 (N, dim), each row L2-normalised.

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
            out[i : i + self.batch_size] = self._encode_uint8_batch(arr[i : i + self.batch_size])
        return out

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed text queries with the model's own tokenizer (a bare string counts as one text).

        Returns:
            float32 (N, dim), each row L2-normalised.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(t, str) for t in items):
            raise ValueError("encode_texts expects a sequence of strings")
        out = np.empty((len(items), self.dim), dtype=np.float32)
        step = max(self.batch_size, 64)
        for i in range(0, len(items), step):
            out[i : i + step] = self._encode_text_batch(items[i : i + step])
        return out

    def encode_pil(self, images: Sequence[PIL.Image.Image]) -> np.ndarray:
        """Embed still images through open_clip's own preprocessing (the reference path).

        Slower than ``encode_frames`` (PIL resize per image); tests and benchmarks use it to
        check the fast path, and it suits a handful of dropped stills.

        Returns:
            float32 (N, dim), each row L2-normalised.
        """
        import torch

        items = list(images)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i in range(0, len(items), self.batch_size):
            chunk = items[i : i + self.batch_size]
            x = torch.stack([self._preprocess(im) for im in chunk])
            out[i : i + len(chunk)] = self._encode_image_tensor(x)
        return out

    def close(self) -> None:
        """Drop the model (and cached GPU memory); the embedder cannot be used afterwards."""
        with self._lock:
            self._model = None
            if self.device.startswith("cuda"):
                import torch

                torch.cuda.empty_cache()

    # -- internals ---------------------------------------------------------------------------
    def _encode_uint8_batch(self, frames: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        x = x.permute(0, 3, 1, 2).float().mul_(self._scale).sub_(self._shift).contiguous()
        return self._encode_image_tensor(x)

    def _encode_image_tensor(self, x: torch.Tensor) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            if self._model is None:
                raise ModelError(f"the {self.model_id} embedder was closed")
            feats = self._model.encode_image(x.to(self.device, self._torch_dtype))
            feats = torch.nn.functional.normalize(feats.float(), dim=-1)
            return feats.cpu().numpy()

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self._tokenizer(texts)
        with self._lock, torch.inference_mode():
            if self._model is None:
                raise ModelError(f"the {self.model_id} embedder was closed")
            feats = self._model.encode_text(tokens.to(self.device))
            feats = torch.nn.functional.normalize(feats.float(), dim=-1)
            return feats.cpu().numpy()


def load_embedder(
    model_id: str | ModelSpec | None = None,
    *,
    device: str = "auto",
    models_dir: Path | None = None,
    precision: str = "auto",
    threads: int | None = None,
    batch_size: int | None = None,
) -> Embedder:
    """Load a registry model from local weights, in eval mode, ready to embed.

    Never touches the network: weights come from ``models_dir`` (or the package, for the
    bundled test model) and open_clip runs with the hub switched off.

    Args:
        model_id: registry id (None: ``resolve_model_id()``), or a ``ModelSpec`` not in the
            registry (tests, custom models).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (see ``pick_device``).
        models_dir: the weights cache; default ``data_paths().models``.
        precision: ``auto`` (fp16 on CUDA; bf16 weights on CPUs with native bf16 when a
            self-check against fp32 passes; else fp32), ``fp32``, ``bf16`` or ``fp16``.
        threads: torch CPU threads; default the number of usable cores.
        batch_size: images per forward pass; default 16 on CPU (faster than larger batches
            there), 64 on a GPU.

    Raises:
        ModelError: unknown model or device, weights missing (the message says how to get
            them), or weights that do not load into the architecture.
    """
    spec = model_id if isinstance(model_id, ModelSpec) else get_spec(resolve_model_id(model_id))
    dev = pick_device(device)
    prec = _resolve_precision(precision, dev, spec)
    if models_dir is None:
        from ..paths import data_paths

        models_dir = data_paths().models
    weights = weights_path(spec, Path(models_dir))
    if weights is None:
        raise missing_weights_error(spec)

    import torch

    if threads is not None or dev == "cpu":
        torch.set_num_threads(max(1, threads or cpu_count()))
    model, preprocess, tokenizer = _create(spec, weights, dev)
    bs = batch_size or (16 if dev == "cpu" else 64)
    emb = Embedder(spec, model, tokenizer, preprocess, device=dev, dtype="float32", batch_size=bs, weights=weights)
    if precision.lower() == "auto" and prec != "float32":
        _try_reduced_precision(emb, prec)
    elif prec != "float32":
        _set_dtype(emb, emb._model.to(getattr(torch, prec)), prec)
    return emb


def _resolve_precision(precision: str, device: str, spec: ModelSpec) -> str:
    p = PRECISIONS.get((precision or "auto").strip().lower())
    if p is None:
        raise ModelError(f"unknown precision {precision!r}; use auto, fp32, bf16 or fp16")
    if p == "auto":
        if device.startswith("cuda"):
            return "float16"
        if device == "cpu" and spec.cpu_bf16 and cpu_has_native_bf16():
            return "bfloat16"
        return "float32"
    if p == "float16" and device == "cpu":
        raise ModelError("fp16 is for GPUs; on a CPU use bf16 (CPUs with AVX512-BF16/AMX) or fp32")
    return p


def _create(spec: ModelSpec, weights: Path | None, device: str) -> tuple[Any, Any, Any]:
    """Build the open_clip model (eval mode) with its eval transform and tokenizer, offline."""
    import open_clip

    kwargs: dict[str, Any] = {}
    if spec.is_bundled:
        if weights is None:
            raise ModelError("a bundled model needs its folder")
        name = f"local-dir:{weights}"
    else:
        name = spec.arch
        # A file path as `pretrained` gives open_clip's generic preprocessing; take the real one
        # (mean/std/interpolation) from open_clip's table for the tag: a lookup, no download.
        cfg = open_clip.get_pretrained_cfg(spec.arch, spec.pretrained) if spec.pretrained else {}
        if cfg:
            kwargs.update(
                image_mean=tuple(cfg["mean"]),
                image_std=tuple(cfg["std"]),
                image_interpolation=cfg.get("interpolation"),
                image_resize_mode=cfg.get("resize_mode"),
                force_quick_gelu=bool(cfg.get("quick_gelu", False)),
            )
        if weights is not None:
            kwargs["pretrained"] = str(weights)
    from . import hf_tokenizer as hft

    tok_dir = None
    if hft.needs_tokenizer(spec):
        # Multilingual models: tokenizer (and HF text-tower config) from <models>/<id>/tokenizer/, never a hub.
        if weights is None:
            raise ModelError(f"{spec.id} needs its downloaded tokenizer files; there is no random-weights variant")
        tok_dir = Path(weights).parent / hft.TOKENIZER_DIR
        kwargs["text_cfg"] = hft.text_cfg_override(spec, tok_dir)
    try:
        with quiet_open_clip():
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, device="cpu", pretrained_text=False, weights_only=True, **kwargs
            )
            tokenizer = hft.load_tokenizer(spec, tok_dir) if tok_dir is not None else open_clip.get_tokenizer(name)
    except Exception as e:
        where = f" from {weights}" if weights is not None else ""
        hint = (
            f"; delete it and download again, or import a good file with "
            f"`reelseek-cli models import FILE --as {spec.id}`"
            if weights is not None and not spec.is_bundled
            else ""
        )
        text = " ".join(str(e).split())[:300]
        raise ModelError(f"cannot load {spec.id} ({spec.arch}){where}: {text}{hint}") from None
    _reparameterize(model)
    # open_clip returns the model in train mode: BatchNorm would use batch statistics (garbage).
    model.eval()
    model.requires_grad_(False)
    return model.to(device), preprocess, tokenizer


def _reparameterize(model: Any) -> None:
    # MobileCLIP's MobileOne/FastViT blocks train with parallel branches; fusing them is exact
    # and several times faster at inference.
    if any(hasattr(m, "reparameterize") for m in model.modules()):
        from timm.utils.model import reparameterize_model

        reparameterize_model(model, inplace=True)


def _probe_frames(size: int) -> np.ndarray:
    """Two fixed pictures (shapes on a gradient, and seeded noise) for the precision self-check."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    a = np.stack([xx * 255, yy * 200 + 30, (1 - xx) * 120 + 60], axis=-1)
    c = size / 2
    disc = (xx * size - c * 0.7) ** 2 + (yy * size - c) ** 2 < (size * 0.2) ** 2
    a[disc] = (230, 40, 30)
    a[int(size * 0.6) : int(size * 0.85), int(size * 0.55) : int(size * 0.9)] = (20, 60, 220)
    b = np.random.default_rng(0).integers(0, 256, size=(size, size, 3))
    return np.stack([a, b]).clip(0, 255).astype(np.uint8)


def _try_reduced_precision(emb: Embedder, dtype: str) -> None:
    """Switch to bf16/fp16 weights only if embeddings stay within SELF_CHECK_MIN_COSINE of fp32."""
    import torch

    probe = _probe_frames(emb.image_size)
    ref_img = emb.encode_frames(probe)
    ref_txt = emb.encode_texts(list(_PROBE_TEXTS))
    fp32_model = emb._model
    reduced = copy.deepcopy(fp32_model).to(getattr(torch, dtype))
    _set_dtype(emb, reduced, dtype)
    try:
        cos = min(
            float((emb.encode_frames(probe) * ref_img).sum(axis=1).min()),
            float((emb.encode_texts(list(_PROBE_TEXTS)) * ref_txt).sum(axis=1).min()),
        )
    except Exception as e:  # an op without a kernel for this dtype on this device
        cos, why = float("nan"), f"{type(e).__name__}: {e}"
    else:
        why = f"min cosine {cos:.5f} < {SELF_CHECK_MIN_COSINE}"
    emb.precision_check = cos
    if not cos >= SELF_CHECK_MIN_COSINE:
        _set_dtype(emb, fp32_model, "float32")
        emb.precision_note = f"{dtype} self-check failed ({why}); using float32"


def _set_dtype(emb: Embedder, model: Any, dtype: str) -> None:
    import torch

    if dtype == "bfloat16" and emb.device == "cpu":
        _text_tower_fp32(model)
    with emb._lock:
        emb._model = model
        emb.dtype = dtype
        emb._torch_dtype = getattr(torch, dtype)


def _text_tower_fp32(model: Any) -> None:
    """Keep the text tower in float32 when the image tower runs in bfloat16 on a CPU.

    bf16 text encoding measured 5x slower than fp32 on these CPUs (1017 vs 190 ms for a query's
    four prompt templates, ViT-B-32) while bf16 images are 3.8x faster; a query is one short
    text, so fp32 costs nothing that matters and keeps it exact.
    """
    for name in ("transformer", "token_embedding", "ln_final"):
        module = getattr(model, name, None)
        if module is not None:
            module.float()
    for name in ("positional_embedding", "text_projection"):
        param = getattr(model, name, None)
        if param is not None and hasattr(param, "data"):
            param.data = param.data.float()
    if getattr(model, "attn_mask", None) is not None and model.attn_mask.is_floating_point():
        model.attn_mask = model.attn_mask.float()
