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

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .registry import ModelError, ModelSpec
from .weights import CONFIG_NAME, missing_weights_error, weights_path

log = logging.getLogger(__name__)
ENGINE_ENV = "REELSEEK_TEXT_ENGINE"  # "torch" forces the full open_clip model for text
CACHE_DIR = "text-tower"
MANIFEST = "manifest.json"
FORMAT = 2  # bump when the export changes shape: older caches are rebuilt (2: int8 weights)
_SAMPLES, _SAMPLE_BYTES = 64, 16 << 10


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
        return _unit(out)

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
    weights = weights_path(spec, Path(models_dir))
    if weights is None:
        raise missing_weights_error(spec)
    d = cache_dir(spec, Path(models_dir))
    enc, why = _open(spec, d, weights)
    if enc is not None:
        return enc
    if not build:
        raise ModelError(f"no usable text-tower export for {spec.id}: {why}")
    log.info("exporting the %s text tower (%s)", spec.id, why)
    build_in_child(spec, Path(models_dir))
    enc, why = _open(spec, d, weights)
    if enc is None:
        raise ModelError(f"the {spec.id} text-tower export cannot be opened after a rebuild: {why}")
    return enc


def source_fingerprint(spec: ModelSpec, weights: Path) -> dict[str, Any]:
    """What the export was made from: the checkpoint file's name, size and mtime (and the
    bundled config's), so replacing or re-importing the weights invalidates it."""
    files = [weights / (spec.weights_file or "open_clip_model.safetensors"), weights / CONFIG_NAME]
    if weights.is_file():
        files = [weights]
    out = {}
    for f in files:
        st = f.stat()
        out[f.name] = [st.st_size, st.st_mtime_ns]
    return {"model": spec.id, "arch": spec.arch, "files": out}


def build_in_child(spec: ModelSpec, models_dir: Path, timeout: float = 900) -> None:
    """Run ``build_text_cache`` in a child process: the caller never imports torch (its memory
    stays small), and torch's OpenMP cannot clash with libraries the caller already loaded."""
    import dataclasses
    import subprocess
    import sys

    cmd = [sys.executable, "-m", __name__, json.dumps(dataclasses.asdict(spec)), str(models_dir)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ModelError(f"exporting the {spec.id} text tower failed: {e}") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise ModelError(f"exporting the {spec.id} text tower failed: {lines[-1] if lines else proc.returncode}")


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
        cos = float(np.min(np.sum(_unit(got) * _unit(ref), axis=1)))
        if not cos >= MIN_COSINE:
            raise ModelError(f"the {spec.id} text-tower export differs from open_clip (cosine {cos:.6f})")
        # int8: checked on what searches embed, each check text under each prompt template.
        prompts = tok([t.format(x) for x in CHECK_TEXTS for t in DEFAULT_TEMPLATES])
        ref_p = _unit(reference_texts(model, prompts))
        try:
            quantize_int8(graph, g8, w8)
            cos8 = float(np.min(np.sum(_unit(_session(g8).run(None, {"tokens": prompts})[0]) * ref_p, axis=1)))
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
            "graph": graph.name,
            "graph_sha256": _sha256(graph),
            "data": data.name,
            "data_size": data.stat().st_size,
            "data_sample_sha256": _sample_hash(data),
            "dim": int(got.shape[1]),
            "context_length": ctx,
            "dtype": "int8" if graph == g8 else "float32",
            "check_cosine": cos,
            "check_cosine_int8": None if cos8 != cos8 else cos8,
            "int8_min_cosine": int8_min,
        }
        old = _read_manifest(d)
        tmp = d / f"{MANIFEST}.{tag}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, d / MANIFEST)
    except BaseException:
        for p in (graph, data, g8, w8, d / f"text-{tag}.onnx", d / f"text-{tag}.data", d / f"{MANIFEST}.{tag}.tmp"):
            p.unlink(missing_ok=True)
        raise
    for p in (*fp32_files, g8, w8):  # the variant not chosen
        if p not in (graph, data):
            p.unlink(missing_ok=True)
    if old:
        for key in ("graph", "data"):
            name = old.get(key)
            if isinstance(name, str) and name not in (graph.name, data.name) and "/" not in name:
                (d / name).unlink(missing_ok=True)
    return d / MANIFEST


def _open(spec: ModelSpec, d: Path, weights: Path) -> tuple[TextEncoder | None, str]:
    """The encoder when the cache is current and intact, else None and the reason."""
    m = _read_manifest(d)
    if m is None:
        return None, "no export yet"
    try:
        if m.get("format") != FORMAT:
            return None, "export format changed"
        if m.get("source") != source_fingerprint(spec, weights):
            return None, "the weights file changed"
        graph, data = d / str(m["graph"]), d / str(m["data"])
        if not graph.is_file() or not data.is_file():
            return None, "export files missing"
        if _sha256(graph) != m["graph_sha256"] or data.stat().st_size != m["data_size"]:
            return None, "export corrupt (graph hash or weights size)"
        if _sample_hash(data) != m["data_sample_sha256"]:
            return None, "export corrupt (weights hash)"
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
    except Exception as e:  # unreadable files, a graph ONNX Runtime rejects, a missing package
        return None, f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"


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


def _read_manifest(d: Path) -> dict[str, Any] | None:
    try:
        m = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sample_hash(path: Path) -> str:
    """sha256 of the size and 64 slices spread over the file: catches truncation and most
    damage for ~1 MB of reading instead of the whole weights file on every search."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        for i in range(_SAMPLES):
            f.seek(size * i // _SAMPLES)
            h.update(f.read(_SAMPLE_BYTES))
        f.seek(max(0, size - _SAMPLE_BYTES))
        h.update(f.read(_SAMPLE_BYTES))
    return h.hexdigest()


def _unit(a: np.ndarray) -> np.ndarray:
    unit: np.ndarray = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    return unit


def _main(argv: list[str]) -> int:
    """``python -m reelseek.core.models.text_encoder SPEC_JSON MODELS_DIR``: build the export."""
    fields = json.loads(argv[0])
    kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    spec = ModelSpec(**kwargs)
    try:
        build_text_cache(spec, Path(argv[1]))
    except ModelError as e:
        print(f"text export: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
