"""An embedder with random weights: the real model's compute without its weights, for speed measurements only."""

from __future__ import annotations

from reelseek.core.models.device import pick_device
from reelseek.core.models.embedder import Embedder, _create, _resolve_precision, _set_dtype
from reelseek.core.models.registry import ModelSpec


def create_random_embedder(
    spec: ModelSpec, *, device: str = "cpu", precision: str = "fp32", batch_size: int | None = None
) -> Embedder:
    """An embedder with random weights: same compute as the real model, for speed measurements."""
    import torch

    dev = pick_device(device)
    prec = _resolve_precision(precision, dev, spec)
    model, preprocess, tokenizer = _create(spec, None, dev)
    emb = Embedder(
        spec, model, tokenizer, preprocess, device=dev, dtype="float32", batch_size=batch_size or 16, weights=None
    )
    if prec != "float32":
        _set_dtype(emb, emb._model.to(getattr(torch, prec)), prec)
    return emb
