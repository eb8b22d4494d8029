"""What the text and image tower exports share: the manifest and its checks, the child build, publishing.

Each tower (``text_encoder``, ``image_encoder``) exports itself once into
``<models>/<id>/<tower>/``; a manifest ties the export to the weights file it came from and
guards its files with hashes. A reader opens the export only when the manifest says it is
current and intact, else the export is rebuilt in a child process (torch is imported there,
never in the caller). A builder writes uniquely named files and replaces the manifest last,
atomically, so a reader sees the old export or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .registry import ModelError, ModelSpec
from .weights import CONFIG_NAME, missing_weights_error, weights_path

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
_SAMPLES, _SAMPLE_BYTES = 64, 16 << 10
E = TypeVar("E")


def load_or_build(
    what: str,
    spec: ModelSpec,
    models_dir: Path,
    d: Path,
    open_export: Callable[[ModelSpec, Path, Path], tuple[E | None, str]],
    build_in_child: Callable[[ModelSpec, Path], None],
    *,
    build: bool,
) -> E:
    """Open the export in ``d``; when absent, stale or corrupt (and ``build``), rebuild it in a
    child and open it again. ``what`` names the tower in messages ("text tower")."""
    weights = weights_path(spec, Path(models_dir))
    if weights is None:
        raise missing_weights_error(spec)
    enc, why = open_export(spec, d, weights)
    if enc is not None:
        return enc
    if not build:
        raise ModelError(f"no usable {what} export for {spec.id}: {why}")
    log.info("exporting the %s %s (%s)", spec.id, what, why)
    build_in_child(spec, Path(models_dir))
    enc, why = open_export(spec, d, weights)
    if enc is None:
        raise ModelError(f"the {spec.id} {what} export cannot be opened after a rebuild: {why}")
    return enc


def run_builder(module: str, what: str, spec: ModelSpec, models_dir: Path, timeout: float) -> None:
    """Run ``python -m module SPEC_JSON MODELS_DIR`` (the module's ``child_main``): the caller
    never imports torch, and torch's OpenMP cannot clash with libraries it already loaded."""
    import dataclasses
    import subprocess
    import sys

    cmd = [sys.executable, "-m", module, json.dumps(dataclasses.asdict(spec)), str(models_dir)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ModelError(f"exporting the {spec.id} {what} failed: {e}") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise ModelError(f"exporting the {spec.id} {what} failed: {lines[-1] if lines else proc.returncode}")


def child_main(argv: list[str], build: Callable[[ModelSpec, Path], Path], label: str) -> int:
    """The child's side of ``run_builder``: argv is SPEC_JSON MODELS_DIR."""
    import sys

    fields = json.loads(argv[0])
    kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    try:
        build(ModelSpec(**kwargs), Path(argv[1]))
    except ModelError as e:
        print(f"{label}: {e}", file=sys.stderr)
        return 2
    return 0


def file_fields(graph: Path, data: Path) -> dict[str, Any]:
    """The manifest's guard over the export's two files (``stale_reason`` checks them)."""
    return {
        "graph": graph.name,
        "graph_sha256": sha256(graph),
        "data": data.name,
        "data_size": data.stat().st_size,
        "data_sample_sha256": sample_hash(data),
    }


def stale_reason(m: Mapping[str, Any], d: Path, spec: ModelSpec, weights: Path, fmt: int) -> str:
    """Why the manifest's export cannot be used ("" when it can): format, weights, files, hashes."""
    if m.get("format") != fmt:
        return "export format changed"
    if m.get("source") != source_fingerprint(spec, weights):
        return "the weights file changed"
    graph, data = d / str(m["graph"]), d / str(m["data"])
    if not graph.is_file() or not data.is_file():
        return "export files missing"
    if sha256(graph) != m["graph_sha256"] or data.stat().st_size != m["data_size"]:
        return "export corrupt (graph hash or weights size)"
    if sample_hash(data) != m["data_sample_sha256"]:
        return "export corrupt (weights hash)"
    return ""


def publish(d: Path, tag: str, manifest: dict[str, Any], chosen: tuple[Path, Path], written: Iterable[Path]) -> Path:
    """Replace the manifest atomically, then delete the written files not chosen and the files
    the previous manifest named. The caller deletes ``written`` itself if this raises."""
    old = read_manifest(d)
    tmp = d / f"{MANIFEST}.{tag}.tmp"
    try:
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, d / MANIFEST)
    finally:
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # published: leftovers only cost disk space
        for p in written:  # the variant not chosen
            if p not in chosen:
                p.unlink(missing_ok=True)
        if old:
            for key in ("graph", "data"):
                name = old.get(key)
                if isinstance(name, str) and name not in (chosen[0].name, chosen[1].name) and "/" not in name:
                    (d / name).unlink(missing_ok=True)
    return d / MANIFEST


def open_failure(e: Exception) -> str:
    """A one-line reason for an export that could not be opened (unreadable files, a graph ONNX
    Runtime rejects, a missing package)."""
    return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"


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


def read_manifest(d: Path) -> dict[str, Any] | None:
    try:
        m = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sample_hash(path: Path) -> str:
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


def unit(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    return out
