"""What one Ray worker does for one file's words: speech and on-screen text, read from shipped models.

Like ``cluster_worker``, this module never imports ray. The driver (core/cluster_words.py)
builds a ``WordsRecipe`` from the sources it would run locally, ships the speech model's folder
and rapidocr's model files through Ray's object store (the nodes need no network: rapidocr
otherwise downloads its models on first use), and commits the lines the worker sends back.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cluster_worker import PathMap, _fault_for, _node_ip, map_path
from .words.types import SAID, WRITTEN, WordLine

# Test hook like cluster_worker.FAULT_ENV, for the words pass: "NAME:MARKER" kills the worker
# after it read the first source of a file whose name holds NAME, before it answers (once).
WORDS_FAULT_ENV = "REELSEEK_CLUSTER_WORDS_FAULT"

# Which words sources a worker can run (the others, subtitles, are read on the driver: milliseconds).
REMOTE = (SAID, WRITTEN)


@dataclass(frozen=True)
class WordsRecipe:
    """How to rebuild the driver's speech / on-screen text sources on a worker (they hold locks and
    loaded models, so they are not shipped themselves). ``None`` for a source the run does not use."""

    speech: dict[str, Any] | None = None  # SpeechSource keyword arguments, model_dir excluded
    ocr: dict[str, Any] | None = None  # ScreenTextSource keyword arguments


def recipe_of(sources: list[Any]) -> WordsRecipe:
    """The recipe for the sources among ``sources`` a worker can run (others are ignored)."""
    from .words.ocr import ScreenTextSource
    from .words.speech import SpeechSource

    speech = ocr = None
    for s in sources:
        if isinstance(s, SpeechSource):
            speech = {
                "model_id": s.model_id,
                "compute_type": s.compute_type,
                "language": s.language,
                "beam_size": s.beam_size,
                "window_s": s.window_s,
                "overlap_s": s.overlap_s,
            }
        elif isinstance(s, ScreenTextSource):
            ocr = {
                "sample_every": s.sample_every,
                "min_gap": s.min_gap,
                "max_gap": s.max_gap,
                "min_confidence": s.min_confidence,
                "ocr_width": s.ocr_width,
            }
    return WordsRecipe(speech=speech, ocr=ocr)


def ocr_model_files() -> dict[str, bytes]:
    """rapidocr's model files as this process has them (in its package's ``models`` folder).

    Found without importing rapidocr: that would load onnxruntime, which must not load after
    usearch in this process (core/models/native.py). Empty when OCR never ran here; a worker
    then needs the models on its node.
    """
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in (".onnx", ".txt")}


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file directly in ``folder`` (a speech model's CTranslate2 files); {} when it is not there."""
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@dataclass
class WordsResult:
    """A worker's answer for one file: per source, its lines or the reason it failed."""

    file_id: int
    node: str
    lines: dict[str, list[WordLine]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    busy_s: float = 0.0


class WordsWorker:
    """Builds the speech and on-screen text sources once from shipped files, then reads files on request."""

    def __init__(
        self,
        recipe: WordsRecipe,
        speech_files: dict[str, bytes],
        ocr_files: dict[str, bytes],
        device: str,
        path_map: list[PathMap],
        threads: int = 1,
    ) -> None:
        from .words.ocr import ScreenTextSource
        from .words.speech import SpeechSource

        self._dir = Path(tempfile.mkdtemp(prefix="reelseek-words-"))
        self.sources: dict[str, Any] = {}
        if recipe.speech is not None:
            # The folder is named as the model id, as under the library's models/speech/.
            where = _unpack(self._dir / "speech" / str(recipe.speech["model_id"]), speech_files)
            self.sources[SAID] = SpeechSource(where, device=device, cpu_threads=threads, **recipe.speech)
        if recipe.ocr is not None:
            root = str(_unpack(self._dir / "ocr", ocr_files)) if ocr_files else None
            self.sources[WRITTEN] = ScreenTextSource(threads=threads, model_root_dir=root, **recipe.ocr)
        self.device = device
        self.path_map = path_map
        self.node = _node_ip()
        self._names = {self.node.split("#")[0], socket.gethostname()}

    def ping(self) -> tuple[str, int]:
        return self.node, os.getpid()

    def words(self, file_id: int, path: str, names: list[str]) -> WordsResult:
        """Read the sources ``names`` of one file; a source that fails gives its reason, never an exception."""
        t0 = time.monotonic()
        out = WordsResult(file_id=file_id, node=self.node)
        local = map_path(path, self.path_map, self._names)
        fault = _fault_for(path, WORDS_FAULT_ENV)
        for name in names:
            src = self.sources.get(name)
            if src is None:
                out.errors[name] = f"the {name} source is not set up on node {self.node}"
                continue
            if not os.path.exists(local):
                out.errors[name] = f"not found on node {self.node}: {local} (check --path-map)"
                continue
            try:
                out.lines[name] = src.extract(local)
            except Exception as e:  # the same per-source failure a local run records
                out.errors[name] = str(e) or type(e).__name__
            if fault:
                os.kill(os.getpid(), signal.SIGKILL)
        out.busy_s = time.monotonic() - t0
        return out

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _unpack(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / Path(name).name).write_bytes(data)
    return folder
