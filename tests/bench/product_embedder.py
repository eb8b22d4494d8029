"""The encoder the product's indexer uses, loaded the product's way from imported random weights.

The benchmarks import open_clip's default architecture with random weights (same compute) into a
private home with ``reelseek-cli models import`` (``startup.import_weights``), then ask a
``Library`` over that home for its frame encoder (``Library.load_image_model``, what
``Library.index`` embeds with). Whatever engine and precision the product picks there (ONNX
Runtime int8 on a CPU since round 5, torch on CUDA or with ``REELSEEK_IMAGE_ENGINE=torch``) is
what gets timed: no private encoder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def model_home(work: Path) -> Path:
    """A home with the default model's random weights imported (once; later calls reuse it)."""
    from reelseek.core.models.weights import is_available
    from tests.bench.embedders import default_spec
    from tests.bench.startup import import_weights

    home = work / "model-home"
    spec = default_spec()
    if spec.is_bundled or not is_available(spec, home / "models"):
        home.mkdir(parents=True, exist_ok=True)
        import_weights(home, work)
    return home


def product_encoder(home: Path) -> Any:
    """The image encoder ``Library.index`` would use in ``home`` (loaded once, kept by the caller)."""
    from reelseek.core.library import Library
    from tests.bench.embedders import default_spec

    lib = Library(home, model_id=default_spec().id)
    try:
        return lib.load_image_model()
    finally:
        lib.close()


def use_encoder(lib: Any, encoder: Any) -> None:
    """Give a fresh benchmark library the already loaded encoder, as its own cache would hold it
    after a first run, so model loading (and the ONNX export) stays out of the indexing wall time."""
    from reelseek.core.models.image_encoder import ImageEncoder

    if isinstance(encoder, ImageEncoder):
        lib._image_encoders[encoder.model_id] = encoder
    else:
        lib._embedders[encoder.model_id] = encoder


def reference_encoder(home: Path) -> Any:
    """The same imported weights in fp32 through open_clip's own path (naive baseline, agreement)."""
    from reelseek.core.models import load_embedder
    from tests.bench.embedders import default_spec

    return load_embedder(default_spec().id, device="cpu", models_dir=home / "models", precision="fp32")
