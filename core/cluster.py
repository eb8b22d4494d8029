"""Optional Ray fan-out of the heavy part of indexing; this process stays the library's one writer.

Workers (Ray actors, one per CPU slot or GPU of each node) decode and embed whole files and
send the frames' vectors back; the driver segments and commits them file by file through
``indexer.commit_embedded``, exactly as a local run does; the words pass then reads speech and
on-screen text on workers too (core/cluster_words.py). Ray is imported only here, and only
when ``--cluster`` is used (``pip install reelseek[cluster]``).

Failure model: a file is committed only by the driver, once, in one transaction. A worker or
node that dies mid-file loses only that attempt: the file is sent to another worker (up to
``max_attempts``), or stays pending for the next run. A killed driver leaves files it had
handed out as ``indexing``; the next run resets them to pending (``Store.reset_interrupted``).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .cluster_worker import EmbeddedFile, EmbedWorker, PathMap
from .indexer import Indexer, IndexerConfig, commit_embedded
from .store import INDEXING, PENDING, FileRow, Store
from .types import FINAL_PHASES, IndexPhase, IndexProgress, IndexReport

if TYPE_CHECKING:
    from .index import VectorIndex
    from .models.embedder import Embedder
    from .models.registry import ModelSpec

log = logging.getLogger(__name__)

LOCAL = ("auto", "local")


class ClusterError(Exception):
    """Ray is missing, the cluster cannot be reached, or no worker could start; str() says which."""


@dataclass(frozen=True)
class ClusterConfig:
    address: str = "auto"  # a Ray address (ray://host:10001, host:6379), or auto/local: start one here
    path_map: tuple[PathMap, ...] = ()
    workers: int | None = None  # cap on actors; default one per CPU (or GPU) of every node
    cpus_per_worker: float = 1.0
    max_attempts: int = 3  # tries per file before it is marked failed (each a worker death)
    local_cpus: int | None = None  # CPUs of a local cluster started on demand


@dataclass
class _NodeRate:
    seconds: float = 0.0  # video seconds embedded
    busy: float = 0.0


@dataclass
class _State:
    attempts: dict[int, int] = field(default_factory=dict)
    committed: set[int] = field(default_factory=set)
    nodes: dict[str, _NodeRate] = field(default_factory=dict)


def connect(config: ClusterConfig) -> Any:
    """Import ray and join (or start) the cluster; the ray module is returned.

    Call it before anything imports usearch: with usearch's extension loaded first, ``ray.init``
    aborts the process in C++ (``std::regex_error``, seen with ray 2.60 and usearch 2.26).
    """
    if "ray" not in sys.modules and "usearch.index" in sys.modules:
        raise ClusterError(
            "Ray must start before the vector index is loaded in this process: run the cluster "
            "index from a fresh process (reelseek-cli index --cluster ...)"
        )
    try:
        import ray
    except ImportError:
        raise ClusterError("--cluster needs Ray: pip install 'reelseek[cluster]'") from None
    if ray.is_initialized():
        return ray
    _raylet_messages_to_stderr()
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if config.address in LOCAL:
            ray.init(num_cpus=config.local_cpus or os.cpu_count() or 1, **kwargs)
        else:
            ray.init(address=config.address, **kwargs)
    except Exception as e:
        raise ClusterError(f"cannot reach the Ray cluster at {config.address}: {e}") from e
    return ray


def _raylet_messages_to_stderr() -> None:
    """Ray prints its raylet's messages ("A worker died or was killed ...") on stdout, which is
    the CLI's ``--json`` answer: they go to stderr instead (where its other diagnostics go).

    ``print_to_stdstream`` is Ray's private helper (ray 2.60), looked up by its error listener
    at each message; without it (another Ray version) nothing changes.
    """
    try:
        from ray._private import worker
    except ImportError:
        return
    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "reelseek_stderr", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    to_stderr.reelseek_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def model_files(spec: ModelSpec, models_dir: Path) -> dict[str, bytes]:
    """The files a worker needs to load the model offline, read from this library."""
    from .models.weights import CONFIG_NAME, missing_weights_error, weights_path

    where = weights_path(spec, models_dir)
    if where is None:
        raise missing_weights_error(spec)
    paths = [p for p in where.iterdir() if p.is_file()] if where.is_dir() else [where]
    config = where.parent / CONFIG_NAME if not where.is_dir() else None
    if config is not None and config.is_file():
        paths.append(config)
    return {p.name: p.read_bytes() for p in paths if p.suffix in (".json", ".safetensors", ".bin", ".pt", ".pth")}


@dataclass(frozen=True)
class ActorPlan:
    """Where one worker goes and what it asks Ray for."""

    node_id: str
    device: str  # "cuda" on a node with GPUs (one worker per GPU), else "cpu"
    num_cpus: float
    num_gpus: int


def plan_actors(nodes: Sequence[dict[str, Any]], cluster: ClusterConfig, n_files: int) -> list[ActorPlan]:
    """One worker per GPU of a node that has GPUs, else one per ``cpus_per_worker`` CPUs; dead
    nodes skipped; at most ``n_files`` (and ``cluster.workers``) in all. ``nodes`` as ``ray.nodes()``."""
    cap = min(n_files, cluster.workers or n_files)
    plans: list[ActorPlan] = []
    for node in nodes:
        if not node.get("Alive"):
            continue
        res = node.get("Resources", {})
        gpus = int(res.get("GPU", 0))
        slots = gpus or max(1, int(res.get("CPU", 1) // cluster.cpus_per_worker))
        device = "cuda" if gpus else "cpu"
        for _ in range(slots):
            if len(plans) >= cap:
                return plans
            plans.append(ActorPlan(node["NodeID"], device, cluster.cpus_per_worker, 1 if gpus else 0))
    return plans


def start_actors(
    ray: Any, cls: type, args: Callable[[str], tuple[Any, ...]], n_files: int, cluster: ClusterConfig
) -> list[Any]:
    """Start ``cls`` as Ray actors as ``plan_actors`` places them, each built with ``args(device)``,
    and wait until every one answers (a model that cannot load on the nodes shows now, not file by file)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(cls)
    actors = []
    for plan in plan_actors(ray.nodes(), cluster, n_files):
        opts: dict[str, Any] = {
            "max_restarts": 3,  # a killed worker process comes back on its node
            "num_cpus": plan.num_cpus,
            "num_gpus": plan.num_gpus,
            "scheduling_strategy": NodeAffinitySchedulingStrategy(plan.node_id, soft=False),
        }
        actors.append(remote.options(**opts).remote(*args(plan.device)))
    if not actors:
        raise ClusterError("the Ray cluster has no live node with a free CPU")
    try:
        ray.get([a.ping.remote() for a in actors], timeout=300)
    except Exception as e:
        for a in actors:
            ray.kill(a)
        raise ClusterError(f"the workers could not start: {_short(e)}") from e
    return actors


class ClusterIndexer:
    """Embeds pending files on Ray workers and commits them here, one file per transaction."""

    def __init__(
        self,
        store: Store,
        vindex: VectorIndex,
        spec: ModelSpec,
        models_dir: Path,
        config: IndexerConfig,
        cluster: ClusterConfig,
    ) -> None:
        self.store, self.vindex, self.spec = store, vindex, spec
        self.models_dir = Path(models_dir)
        self.config, self.cluster = config, cluster
        self.model_id = spec.id

    def run(
        self,
        files: Sequence[FileRow],
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        report: IndexReport | None = None,
    ) -> IndexReport:
        report = report or IndexReport()
        cancel = cancel or threading.Event()
        t0 = time.monotonic()
        # Byte-identical copies take their donor's vectors here, without a worker.
        spec_only = cast("Embedder", _SpecOnly(self.model_id))  # _reuse_copies reads only model_id
        todo = Indexer(self.store, self.vindex, spec_only, self.config)._reuse_copies(files, report)
        by_id = {f.id: f for f in todo}
        state = _State()
        emit = _Emitter(progress, t0, len(todo), report, state)
        if not todo:
            emit(None, IndexPhase.FINISHED)
            return report
        ray = connect(self.cluster)
        t_start = time.monotonic()
        actors = self._start_actors(ray, len(todo))
        report.workers_start_s = time.monotonic() - t_start
        queue = list(reversed(todo))
        inflight: dict[Any, tuple[Any, FileRow]] = {}
        idle = list(actors)
        try:
            while queue or inflight:
                if cancel.is_set():
                    report.cancelled = True
                    break
                paused = pause is not None and pause.is_set()
                while idle and queue and not paused:
                    row = queue.pop()
                    actor = idle.pop()
                    self.store.set_status(row.id, INDEXING)
                    inflight[actor.embed.remote(row.id, row.path)] = (actor, row)
                    emit(row.display, IndexPhase.INDEXING)
                if not inflight:
                    if paused:
                        emit(None, IndexPhase.PAUSED)
                        time.sleep(0.1)
                        continue
                    break  # no worker left: what is queued stays pending
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.2)
                for ref in ready:
                    actor, row = inflight.pop(ref)
                    try:
                        result: EmbeddedFile = ray.get(ref)
                    except Exception as e:  # the actor or its node died mid-file
                        self._retry(ray, row, e, queue, state, report, actors, actor, idle)
                        continue
                    idle.append(actor)
                    self._commit(by_id[result.file_id], result, state, report)
                    emit(None, IndexPhase.INDEXING)
        finally:
            for ref, (_, row) in inflight.items():
                ray.cancel(ref, force=True)
                self.store.set_status(row.id, PENDING)
            for row in queue:
                if self.store.file_by_id(row.id) and row.id not in state.committed:
                    self.store.set_status(row.id, PENDING)
            for a in actors:
                ray.kill(a)
            self.vindex.save(self.store.generation(self.model_id))
        report.elapsed = time.monotonic() - t0
        emit(None, IndexPhase.CANCELLED if report.cancelled else IndexPhase.FINISHED)
        return report

    # -- workers -----------------------------------------------------------------------------------
    def _start_actors(self, ray: Any, n_files: int) -> list[Any]:
        # Held for the whole run: a restarted worker re-reads its constructor arguments.
        if getattr(self, "_files_ref", None) is None:
            self._files_ref = ray.put(model_files(self.spec, self.models_dir))
        files = self._files_ref

        def args(device: str) -> tuple[Any, ...]:
            c = self.config
            threads = max(1, int(self.cluster.cpus_per_worker))
            paths = list(self.cluster.path_map)
            # The workers refine picture changes between keyframe samples as the local indexer does.
            edges = (c.edge_cosine, c.edge_pin) if c.refine_edges and c.max_every is not None else None
            return (
                files,
                self.spec,
                device,
                c.sample_every,
                c.max_every,
                c.batch_size,
                c.thumb_width,
                paths,
                threads,
                edges,
            )

        return start_actors(ray, EmbedWorker, args, n_files, self.cluster)

    def _retry(
        self,
        ray: Any,
        row: FileRow,
        error: BaseException,
        queue: list[FileRow],
        state: _State,
        report: IndexReport,
        actors: list[Any],
        dead: Any,
        idle: list[Any],
    ) -> None:
        n = state.attempts[row.id] = state.attempts.get(row.id, 0) + 1
        log.warning("%s: worker lost (%s), attempt %d", row.display, _short(error), n)
        if n >= self.cluster.max_attempts:
            reason = f"a worker died on this file {n} times ({_short(error)})"
            self.store.fail_file(row.id, reason)
            report.errors.append((row.display, reason))
        else:
            self.store.set_status(row.id, PENDING)
            queue.append(row)
        # Ray restarts a killed worker process on its node (max_restarts); a worker whose node
        # is gone does not answer, and the run carries on with the others.
        try:
            ray.get(dead.ping.remote(), timeout=120)
            idle.append(dead)
        except Exception as e:
            log.warning("worker gone for good: %s", _short(e))
            if dead in actors:
                actors.remove(dead)

    def _commit(self, row: FileRow, result: EmbeddedFile, state: _State, report: IndexReport) -> None:
        if row.id in state.committed:
            return  # a late duplicate answer: never commit a file twice
        if self.store.file_by_id(row.id) is None:
            return  # removed while it was out
        state.committed.add(row.id)
        if result.error is not None:
            self.store.fail_file(row.id, result.error)
            report.errors.append((row.display, result.error))
            return
        before = report.video_seconds
        commit_embedded(
            self.store,
            self.vindex,
            self.model_id,
            row,
            result.info,  # type: ignore[arg-type]
            result.times,
            result.vectors,
            result.thumbs,
            self.config,
            report,
        )
        rate = state.nodes.setdefault(result.node, _NodeRate())
        rate.seconds += report.video_seconds - before
        rate.busy += result.busy_s


class _SpecOnly:
    """The embedder stand-in ``Indexer._reuse_copies`` needs: it only reads ``model_id``."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id


class _Emitter:
    def __init__(
        self,
        cb: Callable[[IndexProgress], None] | None,
        t0: float,
        total: int,
        report: IndexReport,
        state: _State,
    ) -> None:
        self.cb, self.t0, self.total, self.report, self.state = cb, t0, total, report, state
        self.current: str | None = None

    def __call__(self, current: str | None, phase: IndexPhase) -> None:
        if current is not None:
            self.current = current
        if self.cb is None:
            return
        elapsed = time.monotonic() - self.t0
        done = self.report.video_seconds
        nodes = tuple(
            (name, r.seconds / elapsed if elapsed > 0 else 0.0) for name, r in sorted(self.state.nodes.items())
        )
        self.cb(
            IndexProgress(
                files_done=len(self.state.committed),
                files_total=self.total,
                current=self.current if phase not in FINAL_PHASES else None,
                video_seconds_done=done,
                video_seconds_total=done * self.total / max(1, len(self.state.committed)),
                elapsed=elapsed,
                errors=len(self.report.errors),
                phase=phase,
                nodes=nodes,
            )
        )


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]
