"""Hugging Face tokenizer files of multilingual models: fetched and imported with the weights, loaded offline."""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tarfile
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .registry import ModelError, ModelSpec

TOKENIZER_DIR = "tokenizer"  # <models>/<id>/tokenizer/: tokenizer.json, sentencepiece model, config.json
_OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def needs_tokenizer(spec: ModelSpec) -> bool:
    """Whether the model's text side needs Hugging Face files besides the weights."""
    return bool(getattr(spec, "tokenizer_files", ()))


def tokenizer_dir(spec: ModelSpec, models_dir: Path) -> Path:
    return Path(models_dir) / spec.id / TOKENIZER_DIR


def missing_files(spec: ModelSpec, folder: Path) -> list[str]:
    """The required tokenizer files not (or only as empty files) in ``folder``."""
    return [n for n in spec.tokenizer_files if not (folder / n).is_file() or (folder / n).stat().st_size == 0]


def tokenizer_ready(spec: ModelSpec, models_dir: Path) -> bool:
    return not needs_tokenizer(spec) or not missing_files(spec, tokenizer_dir(spec, models_dir))


def missing_tokenizer_message(spec: ModelSpec, missing: list[str], where: str) -> str:
    return (
        f"{spec.id} needs its Hugging Face tokenizer files next to the weights, and {where} lacks "
        f"{', '.join(missing)} (all of: {', '.join(spec.tokenizer_files)}; from huggingface.co/{spec.tokenizer_repo}). "
        f"Run `reelseek-cli models download {spec.id}`, or import a folder or archive holding the weights "
        f"and these files with `reelseek-cli models import FOLDER --as {spec.id}`"
    )


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Hub access off for transformers/huggingface_hub while a tokenizer or HF text tower is built."""
    saved = {k: os.environ.get(k) for k in _OFFLINE_ENV}
    for k in _OFFLINE_ENV:
        os.environ[k] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def text_cfg_override(spec: ModelSpec, folder: Path) -> dict[str, Any]:
    """open_clip ``text_cfg`` for ``spec.arch`` with every hub name pointed at the local folder.

    ``create_model(..., text_cfg=<this>)`` then builds an HF text tower from ``folder/config.json``
    (random weights, replaced by the checkpoint) instead of fetching ``xlm-roberta-base`` from the hub.
    """
    import open_clip

    cfg = open_clip.get_model_config(spec.arch)
    if cfg is None:
        raise ModelError(f"open_clip has no architecture {spec.arch!r} (upgrade open_clip?)")
    text: dict[str, Any] = copy.deepcopy(cfg["text_cfg"])
    if "hf_model_name" in text:
        text["hf_model_name"] = str(folder)
        text["hf_model_pretrained"] = False
    if "hf_tokenizer_name" in text:
        text["hf_tokenizer_name"] = str(folder)
    return text


def load_tokenizer(spec: ModelSpec, folder: Path) -> Any:
    """open_clip's HFTokenizer over the local files only (``local_files_only``, hub switched off)."""
    import open_clip
    from open_clip.tokenizer import HFTokenizer

    missing = missing_files(spec, folder)
    if missing:
        raise ModelError(missing_tokenizer_message(spec, missing, str(folder)))
    text = (open_clip.get_model_config(spec.arch) or {}).get("text_cfg", {})
    kwargs = dict(text.get("tokenizer_kwargs", {}))
    try:
        with offline():
            return HFTokenizer(
                str(folder),
                context_length=int(text.get("context_length", 77)),
                tokenizer_mode=text.get("tokenizer_mode"),
                local_files_only=True,
                **kwargs,
            )
    except ImportError as e:
        raise ModelError(
            f"{spec.id} needs the `transformers` package: pip install 'reelseek[multilingual]' ({e})"
        ) from None
    except Exception as e:
        text_e = " ".join(str(e).split())[:300]
        raise ModelError(
            f"the tokenizer files of {spec.id} in {folder} do not load ({text_e}); download or import them again"
        ) from None


# -- import: a folder or an archive holding weights + tokenizer files -----------------------------
@contextlib.contextmanager
def unpacked(src: Path) -> Iterator[Path]:
    """A folder view of ``src``: itself when a folder, else a .zip/.tar(.gz/.xz/.bz2) extracted to a temp dir."""
    if src.is_dir():
        yield src
        return
    with tempfile.TemporaryDirectory(prefix="reelseek-import-") as tmp:
        try:
            if zipfile.is_zipfile(src):
                with zipfile.ZipFile(src) as z:
                    _check_members([i.filename for i in z.infolist()], src)
                    z.extractall(tmp)
            elif tarfile.is_tarfile(src):
                with tarfile.open(src) as t:
                    t.extractall(tmp, filter="data")  # no links out, no absolute paths, no devices
            else:
                raise ModelError(f"cannot import {src}: not a folder, a weights file or a .zip/.tar archive")
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as e:
            raise ModelError(f"cannot import {src}: the archive is damaged or unreadable ({e})") from None
        yield Path(tmp)


def _check_members(names: list[str], src: Path) -> None:
    for n in names:
        p = Path(n)
        if p.is_absolute() or ".." in p.parts:
            raise ModelError(f"cannot import {src}: the archive holds an unsafe path {n!r}")


def is_archive(path: Path) -> bool:
    """A .zip/.tar of files to import; a PyTorch checkpoint (itself a zip holding data.pkl) is not one."""
    if not path.is_file():
        return False
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                return not any(n == "data.pkl" or n.endswith("/data.pkl") for n in z.namelist())
        return tarfile.is_tarfile(path)
    except (OSError, zipfile.BadZipFile, tarfile.TarError):
        return False


def find_weights(folder: Path, names: list[str]) -> Path | None:
    """The weights file in an import folder: a known name anywhere in it, else the only .safetensors/.bin."""
    for name in names:
        hits = sorted(folder.rglob(name))
        if hits:
            return hits[0]
    others = [p for ext in ("*.safetensors", "*.bin", "*.pt") for p in folder.rglob(ext)]
    return others[0] if len(others) == 1 else None


def stage_tokenizer(spec: ModelSpec, folder: Path, models_dir: Path) -> Path:
    """Copy the tokenizer files found in ``folder`` into a staging dir beside the cache and check they load.

    Returns the staging dir; ``publish`` moves it into place. Raises ModelError naming missing files.
    """
    found: dict[str, Path] = {}
    for name in (*spec.tokenizer_files, *spec.tokenizer_optional):
        hits = sorted(folder.rglob(name))
        if hits:
            found[name] = hits[0]
    missing = [n for n in spec.tokenizer_files if n not in found or found[n].stat().st_size == 0]
    if missing:
        raise ModelError(missing_tokenizer_message(spec, missing, "the import"))
    stage = Path(models_dir) / spec.id / f".tokenizer-{uuid.uuid4().hex}"
    stage.mkdir(parents=True)
    try:
        for name, p in found.items():
            shutil.copyfile(p, stage / name)
        load_tokenizer(spec, stage)  # a broken tokenizer.json fails here, before anything is replaced
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage


def publish(stage: Path, spec: ModelSpec, models_dir: Path) -> Path:
    """Replace ``<models>/<id>/tokenizer`` with a staged folder (old one removed only after the move)."""
    dest = tokenizer_dir(spec, models_dir)
    old = dest.with_name(f".tokenizer-old-{uuid.uuid4().hex}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(stage, dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest
