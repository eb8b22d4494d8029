"""Speech models on disk: resumable downloads, checked air-gapped imports and safe loading."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from ..models.registry import ModelError
from ..models.speech_registry import (
    CONFIG,
    MODEL_BIN,
    PREPROCESSOR,
    TOKENIZER,
    VOCABULARIES,
    SpeechModelSpec,
    get_speech_spec,
)
from ..models.weights import HF_BASE_URL, Progress, _fetch, _NotOnServer

SPEECH_SUBDIR = "speech"  # models_dir/speech/<id>: never collides with an image model's folder


def model_folder(spec: SpeechModelSpec, models_dir: Path) -> Path:
    """Where a speech model lives once downloaded or imported."""
    return Path(models_dir) / SPEECH_SUBDIR / spec.id


def missing_files(folder: Path, spec: SpeechModelSpec) -> list[str]:
    """Names of the files faster-whisper needs that ``folder`` lacks (a vocabulary in either form)."""
    missing = [f for f in spec.files if not (folder / f).is_file()]
    if not any((folder / v).is_file() for v in VOCABULARIES):
        missing.append(" or ".join(VOCABULARIES))
    return missing


def is_available(spec: SpeechModelSpec, models_dir: Path) -> bool:
    """Whether every file of the model is on this machine (cheap: no loading)."""
    return not missing_files(model_folder(spec, models_dir), spec)


def missing_model_error(spec: SpeechModelSpec) -> ModelError:
    return ModelError(f"the speech model {spec.id} is not on this machine: {spec.how_to_get}")


def download(
    spec: SpeechModelSpec,
    models_dir: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    base_url: str = HF_BASE_URL,
    timeout: float = 30.0,
) -> Path:
    """Fetch every file of a speech model into its folder, resuming ``.part`` files, then check it loads.

    Uses the image models' downloader (HTTP Range resume, atomic rename per file); a file is in
    place only once complete, so the folder counts as available only when all of them are.

    Raises:
        DownloadCancelled: ``cancel`` was set (partial files are kept for a resume).
        ModelError: no network, a file missing on the server, or the result does not load.
    """
    folder = model_folder(spec, models_dir)
    if is_available(spec, models_dir):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    done_before = 0

    def fetch(name: str) -> None:
        nonlocal done_before
        dest = folder / name
        if dest.is_file():
            done_before += dest.stat().st_size
            return
        url = f"{base_url.rstrip('/')}/{spec.hf_repo}/resolve/main/{urllib.parse.quote(name)}"

        def step(done: int, total: int | None) -> None:
            if progress is not None:
                progress(done_before + done, None if total is None else done_before + total)

        path = _fetch(url, dest, spec, sha256=None, size=None, progress=step, cancel=cancel, timeout=timeout)  # type: ignore[arg-type]
        done_before += path.stat().st_size

    # Small files first: a wrong repository or an offline machine fails before the big download.
    for name in sorted(spec.files, key=lambda n: n == MODEL_BIN):
        try:
            fetch(name)
        except _NotOnServer:
            raise ModelError(f"the server has no {name} for {spec.id} ({spec.hf_repo}); {spec.how_to_get}") from None
    for vocab in VOCABULARIES:
        try:
            fetch(vocab)
            break
        except _NotOnServer:
            continue
    else:
        raise ModelError(f"the server has no vocabulary file for {spec.id} ({spec.hf_repo})")
    with contextlib.suppress(_NotOnServer, ModelError):
        if PREPROCESSOR not in spec.files:  # optional for 80-mel models; harmless when absent
            fetch(PREPROCESSOR)
    try:
        check_model_dir(folder, spec)
    except ModelError:
        shutil.rmtree(folder, ignore_errors=True)  # a bad download must not pass as available
        raise
    return folder


def import_model(source: Path, spec: SpeechModelSpec, models_dir: Path) -> Path:
    """Copy a local model folder (air-gapped machines) into place after checking it loads.

    The folder is copied to a temporary sibling, loaded from there (files complete, JSON valid,
    the CTranslate2 model builds, English-only/multilingual as registered), and only then swapped
    in for any older copy. Nothing is left behind when it fails.

    Raises:
        ModelError: the folder is missing, incomplete, unreadable, or holds another kind of model.
    """
    src = Path(source).expanduser()
    if not src.is_dir():
        what = "a file, not a folder" if src.is_file() else "no such folder"
        raise ModelError(f"cannot import {src}: {what} (give the folder holding {MODEL_BIN}, {CONFIG}, ...)")
    src = _snapshot_in(src)
    missing = missing_files(src, spec)
    if missing:
        raise ModelError(f"cannot import {src} as {spec.id}: missing {', '.join(missing)}")
    dest = model_folder(spec, models_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".import-{spec.id}-{uuid.uuid4().hex}"
    old = dest.parent / f".old-{spec.id}-{uuid.uuid4().hex}"
    names = [*spec.files, *VOCABULARIES, PREPROCESSOR]
    try:
        tmp.mkdir()
        for name in dict.fromkeys(names):
            if (src / name).is_file():
                try:
                    shutil.copyfile(src / name, tmp / name)
                except OSError as e:
                    raise ModelError(f"cannot import {src / name}: {e.strerror or e}") from None
        check_model_dir(tmp, spec, shown=str(src))
        if dest.exists():
            os.replace(dest, old)
        os.replace(tmp, dest)
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _snapshot_in(src: Path) -> Path:
    """A Hugging Face cache folder (``models--Systran--faster-whisper-base``) means its newest snapshot.

    Copying follows the cache's symlinks into ``blobs/``, so the imported folder holds real files.
    """
    if (src / MODEL_BIN).is_file() or not (src / "snapshots").is_dir():
        return src
    snaps = [p for p in (src / "snapshots").iterdir() if (p / MODEL_BIN).is_file()]
    return max(snaps, key=lambda p: p.stat().st_mtime) if snaps else src


def check_model_dir(folder: Path, spec: SpeechModelSpec, *, shown: str | None = None) -> None:
    """Prove a folder holds a working model for ``spec``: complete, parseable, and it loads.

    CTranslate2's model.bin is a plain tensor container (no pickled code), and the JSON files
    are parsed as data, so checking an untrusted folder runs nothing from it.

    Raises:
        ModelError: what is wrong, in words.
    """
    where = shown or str(folder)
    missing = missing_files(folder, spec)
    if missing:
        raise ModelError(f"{where} is not a complete {spec.id} model: missing {', '.join(missing)}")
    for name in (CONFIG, TOKENIZER, PREPROCESSOR, "vocabulary.json"):
        p = folder / name
        if p.is_file():
            try:
                json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise ModelError(f"{where}: {name} is damaged ({_short(e)})") from None
    model = _load(folder, where, device="cpu", compute_type="int8", cpu_threads=1)
    if bool(model.model.is_multilingual) == spec.english_only:
        found = "a multilingual" if model.model.is_multilingual else "an English-only"
        wanted = "English-only" if spec.english_only else "multilingual"
        raise ModelError(f"{where} holds {found} Whisper model, but {spec.id} is {wanted}")
    n_mels = getattr(model.model, "n_mels", None)
    if n_mels and n_mels != model.feature_extractor.mel_filters.shape[0]:
        raise ModelError(f"{where}: the model wants {n_mels} mel bins; is {PREPROCESSOR} missing or wrong?")


def load_speech_model(
    model_id: str, models_dir: Path, *, device: str = "cpu", compute_type: str = "auto", cpu_threads: int = 0
) -> Any:
    """A ``faster_whisper.WhisperModel`` for a registered model that is on this machine.

    Args:
        device: "cpu" or "cuda" ("mps" runs on the CPU: CTranslate2 has no Metal backend).
        compute_type: "auto" picks int8 on CPU (about 2x faster than float32, same words on our
            espeak set) and float16 on CUDA; any CTranslate2 compute type is passed through.
        cpu_threads: 0 lets CTranslate2 decide.

    Raises:
        ModelError: unknown id, model not here (with how to get it), or it fails to load.
    """
    spec = get_speech_spec(model_id)
    folder = model_folder(spec, models_dir)
    if not is_available(spec, models_dir):
        raise missing_model_error(spec)
    ct2_device = "cuda" if device == "cuda" else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if ct2_device == "cuda" else "int8"
    return _load(folder, spec.id, device=ct2_device, compute_type=compute_type, cpu_threads=cpu_threads)


def _load(folder: Path, shown: str, *, device: str, compute_type: str, cpu_threads: int) -> Any:
    try:
        from faster_whisper import WhisperModel

        return WhisperModel(
            str(folder), device=device, compute_type=compute_type, cpu_threads=cpu_threads, local_files_only=True
        )
    except Exception as e:  # ctranslate2 raises RuntimeError/ValueError with its own wording
        raise ModelError(f"the speech model {shown} does not load ({_short(e)})") from None


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."
