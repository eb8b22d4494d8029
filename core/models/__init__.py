"""Models: the open_clip registry, weights on disk, device choice and the embedder.

Importing this package is cheap (no torch, no numpy): the heavy imports happen in
``load_embedder`` and in the download/import functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .device import pick_device
from .registry import (
    DEFAULT_MODEL_ID,
    MODEL_ENV,
    TEST_MODEL_ID,
    DownloadCancelled,
    ModelError,
    ModelSpec,
    get_spec,
    list_models,
    resolve_model_id,
)
from .weights import download, import_weights, is_available, weights_path

if TYPE_CHECKING:
    from .embedder import Embedder, load_embedder

__all__ = [
    "DEFAULT_MODEL_ID",
    "MODEL_ENV",
    "TEST_MODEL_ID",
    "DownloadCancelled",
    "Embedder",
    "ModelError",
    "ModelSpec",
    "download",
    "get_spec",
    "import_weights",
    "is_available",
    "list_models",
    "load_embedder",
    "pick_device",
    "resolve_model_id",
    "weights_path",
]


def __getattr__(name: str) -> Any:
    # The embedder module imports numpy; load it on first use so `reelseek-cli --help` stays fast.
    if name in ("Embedder", "load_embedder"):
        from . import embedder

        return getattr(embedder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
