"""User models: weights for a known architecture imported under a new id (fine-tunes, a second model)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

from .registry import PICKLE_NAME, SAFETENSORS_NAME, ModelError, ModelSpec, get_spec, list_models, register_model
from .weights import CONFIG_NAME, bundled_dir, import_weights

log = logging.getLogger(__name__)
MANIFEST = "reelseek_model.json"  # {"like": base id}: marks a models/<id>/ folder as a user model
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_WEIGHT_NAMES = {SAFETENSORS_NAME, PICKLE_NAME}


def custom_spec(model_id: str, base: ModelSpec, folder: Path) -> ModelSpec:
    """The spec of a user model: the base's architecture and preprocessing, its own id and folder.

    A base shipped as an open_clip ``local-dir:`` folder (the test model) is copied without its
    weights into the user model's folder, so the user model loads as ``local-dir:`` from there.
    """
    common = dict(
        id=model_id,
        hf_repo=None,
        sha256=None,
        size_bytes=None,
        description=f"your model, imported with the architecture of {base.id}",
        gpu_recommended=base.gpu_recommended,
        license="",
        alt_weights_files=(PICKLE_NAME,),
        weights_file=SAFETENSORS_NAME,
    )
    if base.is_bundled:
        return replace(base, arch=f"local-dir:{folder}", bundled_dir=None, pretrained=None, **common)  # type: ignore[arg-type]
    return replace(base, **common)  # type: ignore[arg-type]


def register_custom_models(models_dir: Path) -> list[ModelSpec]:
    """Register every user model found in the models folder (an unreadable one is skipped)."""
    out: list[ModelSpec] = []
    try:
        folders = sorted(p for p in Path(models_dir).iterdir() if (p / MANIFEST).is_file())
    except OSError:
        return out
    for folder in folders:
        try:
            base = get_spec(str(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["like"]))
            spec = custom_spec(folder.name, base, folder)
            register_model(spec)
            out.append(spec)
        except (OSError, ValueError, KeyError, TypeError, ModelError) as e:
            log.warning("skipping the model folder %s: %s", folder, e)
    return out


def import_custom(file: Path, model_id: str, like: str, models_dir: Path) -> Path:
    """Import a weights file as a new model ``model_id`` with ``like``'s architecture.

    The file is checked exactly as ``import_weights`` checks it (loads into the architecture,
    finite values); a failed import leaves no new folder behind.

    Raises:
        ModelError: a bad id, an unknown base, a built-in id, or a file that does not fit.
    """
    if not _ID.match(model_id):
        raise ModelError(
            f"{model_id!r} is not a usable model id: lower-case letters, digits, '.', '_' or '-' (64 at most)"
        )
    if any(s.id == model_id and not _is_custom_dir(models_dir, s.id) for s in list_models()):
        raise ModelError(f"{model_id} is a built-in model id; import its weights with --as {model_id} alone")
    base = get_spec(like)
    if _is_custom_dir(models_dir, like):
        base = get_spec(json.loads((Path(models_dir) / like / MANIFEST).read_text(encoding="utf-8"))["like"])
    folder = Path(models_dir) / model_id
    existed = folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        bdir = bundled_dir(base)
        if bdir is not None:
            # Config, tokenizer files and the like travel with the architecture; weights do not.
            for f in bdir.iterdir():
                if f.is_file() and f.name not in _WEIGHT_NAMES and not f.name.endswith(".md"):
                    shutil.copyfile(f, folder / f.name)
            if not (folder / CONFIG_NAME).is_file():
                raise ModelError(f"{base.id} has no {CONFIG_NAME} to build {model_id} from")
        spec = custom_spec(model_id, base, folder)
        # Checked against the base's own folder: this one may hold older weights beside the new.
        checker = replace(spec, arch=f"local-dir:{bdir}") if bdir is not None else spec
        path = import_weights(file, checker, models_dir)
        (folder / MANIFEST).write_text(json.dumps({"like": base.id}), encoding="utf-8")
    except OSError as e:
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        raise ModelError(f"cannot import {file} as {model_id}: {e.strerror or e}") from None
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
        raise
    with contextlib.suppress(ModelError):
        register_model(spec)
    return path


def _is_custom_dir(models_dir: Path, model_id: str) -> bool:
    return (Path(models_dir) / model_id / MANIFEST).is_file()
