"""What one Ray worker does for one file: map its path, decode, embed; the driver commits.

This module never imports ray: the driver (core/cluster.py) wraps ``EmbedWorker`` in
``ray.remote`` so the class itself stays testable without a cluster.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

# Test hook, never set in normal use: "NAME:MARKER" makes a worker that meets a file whose name
# contains NAME kill its own process half-way through it (a worker or node dying mid-file),
# once: it creates the MARKER file first, and skips the fault when the marker exists.
FAULT_ENV = "REELSEEK_CLUSTER_FAULT"


@dataclass(frozen=True)
class PathMap:
    """Rewrites a driver-side path prefix to where the same share is mounted on a node.

    ``node`` is a node IP (or hostname) the rule applies to; None applies to every node.
    """

    src: str
    dst: str
    node: str | None = None

    @staticmethod
    def parse(text: str) -> PathMap:
        """``FROM=TO`` for every node, or ``NODE:FROM=TO`` for one node (e.g. 10.0.0.5:/mnt/nas=/nas)."""
        node = None
        body = text
        head, sep, rest = text.partition(":")
        if sep and "=" in rest and not head.startswith("/") and "=" not in head and len(head) > 1:
            node, body = head, rest
        src, eq, dst = body.partition("=")
        if not eq or not src or not dst:
            raise ValueError(f"not a path mapping: {text!r} (use FROM=TO or NODE:FROM=TO)")
        return PathMap(src.rstrip("/") or "/", dst.rstrip("/") or "/", node)


def map_path(path: str, rules: list[PathMap], node_names: set[str]) -> str:
    """The path a node opens: the longest matching rule for this node (node rules first)."""
    best: PathMap | None = None
    for r in rules:
        if r.node is not None and r.node not in node_names:
            continue
        if path == r.src or path.startswith(r.src.rstrip("/") + "/"):
            better = best is None or len(r.src) > len(best.src) or (len(r.src) == len(best.src) and r.node)
            if better:
                best = r
    if best is None:
        return path
    return best.dst + path[len(best.src) :] if best.src != "/" else best.dst.rstrip("/") + path


@dataclass
class EmbeddedFile:
    """A worker's answer for one file: everything the driver needs to commit it."""

    file_id: int
    node: str  # the worker's node label (IP), for per-node rates
    info: object | None = None  # media.ProbeInfo
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    thumbs: list[bytes | None] = field(default_factory=list)
    error: str | None = None
    busy_s: float = 0.0  # wall seconds the worker spent on the file


class EmbedWorker:
    """Loads the model once from files shipped by the driver, then embeds files on request."""

    def __init__(
        self,
        model_files: dict[str, bytes],
        spec: object,
        device: str,
        sample_every: float,
        max_every: float | None,
        batch_size: int,
        thumb_width: int,
        path_map: list[PathMap],
        threads: int | None = None,
        edges: tuple[float, str] | None = None,
    ) -> None:
        """``edges``: (edge cosine, pin mode) to refine picture changes between keyframe samples
        as the local indexer does (core/sampling_edges.py), or None."""
        from .models.embedder import load_embedder

        self._dir = Path(tempfile.mkdtemp(prefix="reelseek-worker-"))
        spec = self._unpack_model(model_files, spec)
        self.embedder = load_embedder(spec, device=device, models_dir=self._dir, threads=threads)  # type: ignore[arg-type]
        self.sample_every = sample_every
        self.max_every = max_every
        self.edges = edges
        self.batch_size = batch_size
        self.thumb_width = thumb_width
        self.path_map = path_map
        self.node = _node_ip()
        self._names = {self.node.split("#")[0], socket.gethostname()}

    def _unpack_model(self, files: dict[str, bytes], spec: object) -> object:
        """Write the shipped weights where this worker loads them: no network on the nodes."""
        sid = spec.id  # type: ignore[attr-defined]
        target = self._dir / sid
        target.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (target / Path(name).name).write_bytes(data)
        if getattr(spec, "bundled_dir", None) is not None:
            # A model shipped inside the package: point the spec at the copy, not at whatever
            # version of the package the node has.
            return replace(spec, bundled_dir=str(target))  # type: ignore[type-var]
        return spec

    def ping(self) -> tuple[str, int]:
        return self.node, os.getpid()

    def embed(self, file_id: int, path: str) -> EmbeddedFile:
        from . import media

        t0 = time.monotonic()
        out = EmbeddedFile(file_id=file_id, node=self.node)
        local = map_path(path, self.path_map, self._names)
        fault = _fault_for(path)
        try:
            info = media.probe(Path(local))
            out.info = info
            times: list[float] = []
            vecs: list[np.ndarray] = []
            chunk: list[media.SampledFrame] = []

            def flush() -> None:
                if not chunk:
                    return
                v = self.embedder.encode_frames(np.stack([f.pixels for f in chunk]))
                for f, row in zip(chunk, v, strict=True):
                    times.append(f.t)
                    vecs.append(np.asarray(row, dtype=np.float32))
                    out.thumbs.append(media.encode_jpeg(f.thumb, quality=80) if f.thumb is not None else None)
                chunk.clear()

            for frame in media.sample_frames(
                Path(local),
                every=self.sample_every,
                size=self.embedder.image_size,
                thumb_width=self.thumb_width,
                info=info,
                max_every=self.max_every,
            ):
                chunk.append(frame)
                if len(chunk) >= self.batch_size:
                    flush()
                    if fault:
                        os.kill(os.getpid(), signal.SIGKILL)
            flush()
            if self.edges is not None and times:
                self._refine(local, info, times, vecs, out.thumbs)
            if not times:
                out.error = "no frames could be decoded"
            else:
                out.times = np.asarray(times, dtype=np.float32)
                out.vectors = np.stack(vecs)
        except (media.MediaError, FileNotFoundError) as e:
            gone = not os.path.exists(local)
            out.error = f"not found on node {self.node}: {local} (check --path-map)" if gone else str(e)
        except Exception as e:  # a decoder bug on one file must not take the worker down
            out.error = f"unexpected error on node {self.node}: {e}"
        out.busy_s = time.monotonic() - t0
        return out

    def _refine(
        self, path: str, info: object, times: list[float], vecs: list[np.ndarray], thumbs: list[bytes | None]
    ) -> None:
        from . import media
        from .sampling_edges import applies, refine_edges

        assert self.edges is not None
        if not applies(info, self.sample_every, self.max_every):  # type: ignore[arg-type]
            return  # sampled strictly: nothing to refine
        cosine, pin = self.edges
        refine_edges(
            path,
            info,  # type: ignore[arg-type]
            times,
            vecs,
            thumbs,
            encode=lambda px: np.asarray(self.embedder.encode_frames(px), dtype=np.float32),
            jpeg=lambda a: media.encode_jpeg(a, quality=80),
            every=self.sample_every,
            threshold=cosine,
            size=self.embedder.image_size,
            thumb_width=self.thumb_width,
            pin=pin,
        )

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _fault_for(path: str, env: str = FAULT_ENV) -> bool:
    spec = os.environ.get(env)
    if not spec:
        return False
    name, _, marker = spec.partition(":")
    if not name or name not in os.path.basename(path) or not marker:
        return False
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _node_ip() -> str:
    """The node's IP, plus its short Ray node id: several nodes may share one host."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():  # outside a worker: never start Ray from here
        return socket.gethostname()
    try:
        ctx = ray.get_runtime_context()
        return f"{ray.util.get_node_ip_address()}#{ctx.get_node_id()[:6]}"
    except Exception:
        return socket.gethostname()
