"""Encoders for the benchmarks: the default model's architecture with random weights, through the product's code.

No weights can be downloaded on the build machines, and random weights cost exactly the same
compute, so timing uses ``tests.bench.random_embedder.create_random_embedder`` for the default
registry entry (open_clip's ``create_model(arch)`` with no pretrained weights), at the precision
the product picks on this machine (bf16 weights on CPUs with native bf16). Seeding torch before
each build gives the fast and the fp32 reference embedders the same weights.
"""

from __future__ import annotations

import os
from typing import Any

# The smoke test sets this to the bundled test model so the machinery runs in seconds.
MODEL_ENV = "REELSEEK_BENCH_MODEL"


def default_spec() -> Any:
    """The registry entry of the product's default model (or $REELSEEK_BENCH_MODEL's)."""
    from reelseek.core.models.registry import DEFAULT_MODEL_ID, get_spec

    return get_spec(os.environ.get(MODEL_ENV) or DEFAULT_MODEL_ID)


def default_embedder(precision: str = "auto", seed: int = 0, batch_size: int | None = None) -> Any:
    """The default architecture with seeded random weights as a product ``Embedder`` on the CPU.

    Args:
        precision: "auto" (what the product picks here), "fp32" or "bf16".
        seed: torch seed for the random weights (same seed, same weights).
        batch_size: images per forward pass (the product's default when None).
    """
    import torch

    from reelseek.core.models.embedder import load_embedder
    from tests.bench.random_embedder import create_random_embedder

    spec = default_spec()
    if spec.is_bundled:  # the test model: its real weights are in the repository
        return load_embedder(spec, device="cpu", precision=precision, batch_size=batch_size)
    torch.manual_seed(seed)
    return create_random_embedder(spec, device="cpu", precision=precision, batch_size=batch_size)


def reference_pair(seed: int = 0) -> tuple[Any, Any]:
    """(product fast path, fp32 reference path): the default architecture with the same random weights."""
    return default_embedder("auto", seed), default_embedder("fp32", seed)


def bundled_model_available() -> bool:
    """Whether the bundled test model's checkpoint is in the repository (a script trains it)."""
    try:
        from pathlib import Path

        from reelseek.core.models.registry import TEST_MODEL_ID, get_spec
        from reelseek.core.models.weights import weights_path

        return weights_path(get_spec(TEST_MODEL_ID), Path("/nonexistent")) is not None
    except Exception:
        return False
