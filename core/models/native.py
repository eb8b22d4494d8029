"""Native-library load order: onnxruntime must be loaded before usearch, or importing it crashes."""

from __future__ import annotations

import contextlib


def preload_before_usearch() -> None:
    """Import onnxruntime (if installed) before anything imports ``usearch``.

    usearch 2.x's extension carries its own C++ runtime; once it is loaded, importing
    onnxruntime's extension crashes the process (SIGSEGV in libstdc++'s locale setup, seen with
    usearch 2.26 and onnxruntime 1.32). The other order works. The text-query encoder and OCR use
    onnxruntime, and both may run after the vector index opened, so whoever opens usearch calls
    this first (~0.1 s, once per process).
    """
    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401
