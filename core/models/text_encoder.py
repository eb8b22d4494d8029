"""Text queries without torch: the text tower exported once to ONNX, memory-mapped by ONNX Runtime.

A text search needs the text tower only. Importing torch and open_clip and building the whole
model took 8-12 s and 1.6 GB here; this path imports onnxruntime (~0.1 s), maps the exported
weights (pages are read on use, the 25 M-entry token table mostly never) and runs each query on
its own length instead of the 77-token context (exact for CLIP's causal text tower).

The export lives in ``<models>/<id>/text-tower/`` beside the weights, with a manifest that ties
it to the weights file (size, mtime) and guards it (hashes): a changed weights file or a corrupt
export is rebuilt (that one run imports torch). Set ``REELSEEK_TEXT_ENGINE=torch`` to skip it.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import tower_cache
from .registry import ModelError, ModelSpec
from .tower_cache import file_fields, open_failure, read_manifest, source_fingerprint, stale_reason, unit
from .weights import missing_weights_error, weights_path

log = logging.getLogger(__name__)
ENGINE_ENV = "REELSEEK_TEXT_ENGINE"  # "torch" forces the full open_clip model for text
MANIFEST = tower_cache.MANIFEST  # the cache folder's manifest (tests read it)
CACHE_DIR = "text-tower"
FORMAT = 2  # bump when the export changes shape: older caches are rebuilt (2: int8 weights)


def onnx_disabled() -> bool:
    return os.environ.get(ENGINE_ENV, "").strip().lower() == "torch"


def cache_dir(spec: ModelSpec, models_dir: Path) -> Path:
    return Path(models_dir) / spec.id / CACHE_DIR


class TextEncoder:
    """A model's text tower on ONNX Runtime; ``encode_texts`` matches ``Embedder.encode_texts``."""

    def __init__(self, spec: ModelSpec, session: Any, tokenizer: Any, dim: int, source: Path) -> None:
        self.spec = spec
        self.model_id = spec.id
        self.dim = dim
        self.source = source  # the export's graph file
        self.dtype = "float32"  # or "int8": what the export's check kept
        self._session = session
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # one query at a time: both cores go to it

    def __repr__(self) -> str:
        return f"TextEncoder({self.model_id!r}, onnxruntime, dtype={self.dtype!r}, dim={self.dim})"

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (N, dim), each row L2-normalised."""
        items = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(t, str) for t in items):
            raise ValueError("encode_texts expects a sequence of strings")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokens = self._tokenizer(items)
        with self._lock:
            if self._session is None:
                raise ModelError(f"the {self.model_id} text encoder was closed")
            out = self._session.run(None, {"tokens": tokens})[0].astype(np.float32, copy=False)
        return unit(out)

    def close(self) -> None:
        with self._lock:
            self._session = None


def load_text_encoder(spec: ModelSpec, models_dir: Path, *, build: bool = True) -> TextEncoder:
    """Open the model's exported text tower, exporting it first when absent, stale or corrupt.

    Raises:
        ModelError: weights missing, the architecture's text tower cannot be exported, the
            export fails its check, onnxruntime is missing, or the cache cannot be written
            (callers then use the full model: never needed for correctness).
    """
    if getattr(spec, "tokenizer_files", ()):
        # The ONNX path tokenises with CLIP's BPE (text_tokenizer.py); HF tokenizers use the full model.
        raise ModelError(f"{spec.id} uses a Hugging Face tokenizer; text queries run on the full model")
    d = cache_dir(spec, Path(models_dir))
    return tower_cache.load_or_build(
        "text tower", spec, models_dir, d, _open, lambda sp, md: build_in_child(sp, md), build=build
    )


def build_in_child(spec: ModelSpec, models_dir: Path, timeout: float = 900) -> None:
    """Run ``build_text_cache`` in a child process: the caller never imports torch (its memory
    stays small), and torch's OpenMP cannot clash with libraries the caller already loaded."""
    tower_cache.run_builder(__name__, "text tower", spec, models_dir, timeout)


def build_text_cache(spec: ModelSpec, models_dir: Path, *, int8_min_cosine: float | None = None) -> Path:
    """Export the text tower (imports torch and open_clip; seconds) and check it against
    open_clip's own ``encode_text`` and tokenizer before publishing it; then quantise it to
    int8 and publish that instead when it passes ``MIN_COSINE_INT8`` on every check text under
    every prompt template (``int8_min_cosine`` overrides the bar: tests).

    Concurrent builders write distinct files; the manifest is replaced atomically last, so a
    reader sees either the old export or the new one, never a mix.
    """
    from ..search import DEFAULT_TEMPLATES
    from .embedder import _create
    from .onnx_int8 import quantize_int8
    from .text_export import CHECK_TEXTS, MIN_COSINE, MIN_COSINE_INT8, export_text_tower, reference_texts
    from .text_tokenizer import ClipTokenizer

    weights = weights_path(spec, Path(models_dir))
    if weights is None:
        raise missing_weights_error(spec)
    source = source_fingerprint(spec, weights)
    model, _, oc_tokenizer = _create(spec, weights, "cpu")
    if type(oc_tokenizer).__name__ != "SimpleTokenizer" or getattr(oc_tokenizer, "reduction_fn", None):
        raise ModelError(f"{spec.id} uses a tokenizer the torch-free path does not implement")
    ctx = int(model.context_length)
    tok = ClipTokenizer(ctx)
    ours = tok(list(CHECK_TEXTS))
    theirs = oc_tokenizer(list(CHECK_TEXTS)).numpy()
    if not np.array_equal(theirs[:, : ours.shape[1]], ours) or theirs[:, ours.shape[1] :].any():
        raise ModelError(f"the light tokenizer disagrees with open_clip's for {spec.id}")

    d = cache_dir(spec, Path(models_dir))
    d.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    graph, data = d / f"text-{tag}.onnx", d / f"text-{tag}.data"
    g8, w8 = d / f"text-{tag}.int8.onnx", d / f"text-{tag}.int8.data"
    int8_min = MIN_COSINE_INT8 if int8_min_cosine is None else int8_min_cosine
    try:
        export_text_tower(model, graph, data)
        session = _session(graph)
        got = session.run(None, {"tokens": ours})[0]
        ref = reference_texts(model, ours)
        cos = float(np.min(np.sum(unit(got) * unit(ref), axis=1)))
        if not cos >= MIN_COSINE:
            raise ModelError(f"the {spec.id} text-tower export differs from open_clip (cosine {cos:.6f})")
        # int8: checked on what searches embed, each check text under each prompt template.
        prompts = tok([t.format(x) for x in CHECK_TEXTS for t in DEFAULT_TEMPLATES])
        ref_p = unit(reference_texts(model, prompts))
        try:
            quantize_int8(graph, g8, w8)
            cos8 = float(np.min(np.sum(unit(_session(g8).run(None, {"tokens": prompts})[0]) * ref_p, axis=1)))
        except Exception as e:  # no quantiser in this install, or an op this runtime cannot run: fp32
            log.warning("no int8 %s text tower: %s", spec.id, e)
            cos8 = float("nan")
        fp32_files = (graph, data)
        if cos8 >= int8_min:
            graph, data, cos = g8, w8, cos8
        else:
            log.warning("int8 %s text tower: min cosine %.5f < %s; keeping fp32", spec.id, cos8, int8_min)
        manifest = {
            "format": FORMAT,
            "source": source,
            **file_fields(graph, data),
            "dim": int(got.shape[1]),
            "context_length": ctx,
            "dtype": "int8" if graph == g8 else "float32",
            "check_cosine": cos,
            "check_cosine_int8": None if cos8 != cos8 else cos8,
            "int8_min_cosine": int8_min,
        }
        return tower_cache.publish(d, tag, manifest, (graph, data), (*fp32_files, g8, w8))
    except BaseException:
        for p in (graph, data, g8, w8, d / f"text-{tag}.onnx", d / f"text-{tag}.data"):
            p.unlink(missing_ok=True)
        raise


def _open(spec: ModelSpec, d: Path, weights: Path) -> tuple[TextEncoder | None, str]:
    """The encoder when the cache is current and intact, else None and the reason."""
    m = read_manifest(d)
    if m is None:
        return None, "no export yet"
    try:
        why = stale_reason(m, d, spec, weights, FORMAT)
        if why:
            return None, why
        graph = d / str(m["graph"])
        from .text_tokenizer import ClipTokenizer

        session = _session(graph)
        enc = TextEncoder(spec, session, ClipTokenizer(int(m["context_length"])), int(m["dim"]), graph)
        enc.dtype = str(m.get("dtype", "float32"))
        probe = enc.encode_texts(["a"])
        if probe.shape != (1, spec.dim) or not np.isfinite(probe).all():
            return None, "export gives wrong vectors"
        return enc, ""
    except ModelError:
        raise
    except Exception as e:
        return None, open_failure(e)


def _session(graph: Path) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    # Prepacking copies every weight matrix (RSS doubles, loading takes 3x as long) to save a
    # few ms per query; the mapped weights file is used as it is instead.
    so.add_session_config_entry("session.disable_prepacking", "1")
    # Idle pool threads sleep instead of spinning: the stage-1 scan runs on the same cores right
    # after the embedding, and ONNX Runtime's threads spin for a while after each run.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(str(graph), so, providers=["CPUExecutionProvider"])


if __name__ == "__main__":
    import sys

    sys.exit(tower_cache.child_main(sys.argv[1:], build_text_cache, "text export"))
