"""Weights on disk: where they live, resumable verified downloads, and checked imports of a local file."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import threading
import urllib.parse
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .registry import PICKLE_NAME, SAFETENSORS_NAME, DownloadCancelled, ModelError, ModelSpec

Progress = Callable[[int, "int | None"], None]
HF_BASE_URL = "https://huggingface.co"
CONFIG_NAME = "open_clip_config.json"
_CHUNK = 1 << 20
_USER_AGENT = "reelseek (open_clip weights download)"


# -- where the weights are -----------------------------------------------------------------------
def bundled_dir(spec: ModelSpec) -> Path | None:
    """The folder of a model shipped inside ``reelseek.resources`` (None for hub models)."""
    if spec.bundled_dir is None:
        return None
    p = Path(spec.bundled_dir)
    if p.is_absolute():
        return p
    from importlib.resources import files

    return Path(str(files("reelseek.resources"))) / p


def model_dir(spec: ModelSpec, models_dir: Path) -> Path:
    """The folder that holds a hub model's downloaded or imported weights."""
    return Path(models_dir) / spec.id


def _candidate_names(spec: ModelSpec) -> list[str]:
    names = [spec.weights_file, *spec.alt_weights_files, SAFETENSORS_NAME, PICKLE_NAME]
    return list(dict.fromkeys(n for n in names if n))


def weights_path(spec: ModelSpec, models_dir: Path) -> Path | None:
    """Where the weights are, if they are on this machine.

    Returns:
        For a bundled model its folder (``open_clip_config.json`` + checkpoint, loaded as
        ``local-dir:``); for a hub model the weights file; None when absent.
    """
    bdir = bundled_dir(spec)
    if bdir is not None:
        ckpt = bdir / (spec.weights_file or SAFETENSORS_NAME)
        return bdir if (bdir / CONFIG_NAME).is_file() and ckpt.is_file() else None
    from .hf_tokenizer import tokenizer_ready

    if not tokenizer_ready(spec, models_dir):
        return None  # weights without their tokenizer files cannot be loaded offline
    return _weights_file(spec, models_dir)


def _weights_file(spec: ModelSpec, models_dir: Path) -> Path | None:
    mdir = model_dir(spec, models_dir)
    for name in _candidate_names(spec):
        p = mdir / name
        if p.is_file():
            if name == spec.weights_file and spec.size_bytes and p.stat().st_size != spec.size_bytes:
                continue
            return p
    return None


def is_available(spec: ModelSpec, models_dir: Path) -> bool:
    """Whether the model can be loaded without the network."""
    return weights_path(spec, models_dir) is not None


def _how_to_get(spec: ModelSpec) -> str:
    hint = getattr(spec, "how_to_get", None)  # other model kinds (speech) reuse the downloader
    if hint:
        return str(hint)
    return (
        f"run `reelseek-cli models download {spec.id}` or import a file with "
        f"`reelseek-cli models import FILE --as {spec.id}`"
    )


def _import_hint(spec: ModelSpec) -> str:
    return str(getattr(spec, "import_hint", None) or f"`reelseek-cli models import FILE --as {spec.id}`")


def missing_weights_error(spec: ModelSpec) -> ModelError:
    """The error for a model whose weights are not on this machine."""
    if spec.is_bundled:
        return ModelError(f"the bundled model {spec.id} is missing from this installation (reinstall reelseek)")
    return ModelError(f"weights for {spec.id} are not on this machine: {_how_to_get(spec)}")


# -- download ------------------------------------------------------------------------------------
class _NotOnServer(Exception):
    pass


def download(
    spec: ModelSpec,
    models_dir: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    base_url: str = HF_BASE_URL,
    timeout: float = 30.0,
) -> Path:
    """Fetch a model's weights into ``models_dir/<id>/``.

    Streams to ``<file>.part`` (resumed with an HTTP Range request when a previous attempt
    left one), checks size and sha256 when the registry knows them, then renames atomically:
    the final file exists only when it is complete.

    Args:
        spec: the model.
        models_dir: the weights cache (``data_paths().models``).
        progress: called with ``(bytes_done, bytes_total or None)`` as data arrives.
        cancel: when set, the download stops between chunks; the ``.part`` file is kept so a
            later call resumes.
        base_url: the hub (tests point this at a local server).
        timeout: seconds to wait for the server to connect or send data.

    Returns:
        The path of the weights file (already there: returned at once).

    Raises:
        DownloadCancelled: ``cancel`` was set.
        ModelError: no network, the server refused, the data failed its checks, or the
            model cannot be downloaded; the message says what to do instead.
    """
    existing = weights_path(spec, models_dir)
    if existing is not None:
        if progress is not None and existing.is_file():
            size = existing.stat().st_size
            progress(size, size)
        return existing
    if spec.is_bundled:
        raise missing_weights_error(spec)
    if not spec.hf_repo or not spec.weights_file:
        raise ModelError(f"{spec.id} has no download source; import a weights file with {_how_to_get(spec)}")

    mdir = model_dir(spec, models_dir)
    mdir.mkdir(parents=True, exist_ok=True)
    from .hf_tokenizer import tokenizer_ready

    if not tokenizer_ready(spec, models_dir):
        _download_tokenizer(spec, models_dir, progress=progress, cancel=cancel, base_url=base_url, timeout=timeout)
    have = _weights_file(spec, models_dir)
    if have is not None:
        return have
    tried = []
    for name in dict.fromkeys((spec.weights_file, *spec.alt_weights_files)):
        url = f"{base_url.rstrip('/')}/{spec.hf_repo}/resolve/main/{urllib.parse.quote(name)}"
        primary = name == spec.weights_file
        try:
            return _fetch(
                url,
                mdir / name,
                spec,
                sha256=spec.sha256 if primary else None,
                size=spec.size_bytes if primary else None,
                progress=progress,
                cancel=cancel,
                timeout=timeout,
            )
        except _NotOnServer:
            tried.append(url)
    raise ModelError(f"the server has no weights for {spec.id} (tried {', '.join(tried)}); {_how_to_get(spec)}")


def _download_tokenizer(
    spec: ModelSpec,
    models_dir: Path,
    *,
    progress: Progress | None,
    cancel: threading.Event | None,
    base_url: str,
    timeout: float,
) -> Path:
    """Fetch the tokenizer files (required ones must exist) into a staging folder, check it loads, publish."""
    from .hf_tokenizer import load_tokenizer, publish

    stage = model_dir(spec, models_dir) / f".tokenizer-{uuid.uuid4().hex}"
    stage.mkdir(parents=True)
    try:
        for name in (*spec.tokenizer_files, *spec.tokenizer_optional):
            url = f"{base_url.rstrip('/')}/{spec.tokenizer_repo}/resolve/main/{urllib.parse.quote(name)}"
            try:
                _fetch(
                    url, stage / name, spec, sha256=None, size=None, progress=progress, cancel=cancel, timeout=timeout
                )
            except _NotOnServer:
                if name in spec.tokenizer_files:
                    raise ModelError(
                        f"the server has no {name} for {spec.id} (tried {url}); {_how_to_get(spec)}"
                    ) from None
        load_tokenizer(spec, stage)
        return publish(stage, spec, models_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _fetch(
    url: str,
    dest: Path,
    spec: ModelSpec,
    *,
    sha256: str | None,
    size: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
    timeout: float,
) -> Path:
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    total: int | None = size
    if size is None or offset < size:
        total = _stream(url, part, offset, spec, progress=progress, cancel=cancel, timeout=timeout)
        if size is not None:
            total = size
    done = part.stat().st_size
    if total is not None and done != total:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"download of {spec.id} has the wrong size ({done} bytes, expected {total}); "
            "the partial file was deleted, try again"
        )
    if sha256:
        # Hashed after the fact (one more read) so resumed and restarted downloads need no bookkeeping.
        digest = _sha256_of(part)
        if digest != sha256.lower():
            part.unlink(missing_ok=True)
            raise ModelError(
                f"download of {spec.id} failed its checksum (sha256 {digest}, expected {sha256}); "
                "the file was deleted: try again, or import a file you trust"
            )
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)
    if progress is not None:
        progress(done, done)
    return dest


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _stream(
    url: str,
    part: Path,
    offset: int,
    spec: ModelSpec,
    *,
    progress: Progress | None,
    cancel: threading.Event | None,
    timeout: float,
) -> int | None:
    """Append the rest of ``url`` to ``part`` from byte ``offset``; returns the total size if known."""
    # Imported here: http.client and urllib.request cost ~0.1 s, paid only by downloads.
    import http.client
    import urllib.error
    import urllib.request

    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    host = urllib.parse.urlsplit(url).netloc
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 404:
            raise _NotOnServer from None
        if e.code == 416 and offset:
            # The .part is as long as the file or longer (the file changed): start over cleanly.
            part.unlink(missing_ok=True)
            return _stream(url, part, 0, spec, progress=progress, cancel=cancel, timeout=timeout)
        if e.code in (401, 403):
            raise ModelError(f"{host} refused the download of {spec.id} (HTTP {e.code}); {_how_to_get(spec)}") from None
        raise ModelError(f"download of {spec.id} failed: HTTP {e.code} from {host}; try again later") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", None) or e
        raise ModelError(
            f"no network: could not reach {host} ({reason}); import a weights file instead with {_import_hint(spec)}"
        ) from None

    with resp:
        length = resp.headers.get("Content-Length")
        if offset and resp.status == 206:
            start, total = _parse_content_range(resp.headers.get("Content-Range"))
            if start != offset:
                raise ModelError(f"download of {spec.id} failed: the server resumed at the wrong place")
            if total is None and length is not None:
                total = offset + int(length)
        else:
            offset = 0  # a plain 200 answer (no resume support): start over
            total = int(length) if length is not None else None
        done = offset
        if progress is not None:
            progress(done, total)
        try:
            with open(part, "r+b" if offset else "wb") as out:
                out.seek(offset)
                out.truncate()
                while True:
                    if cancel is not None and cancel.is_set():
                        raise DownloadCancelled(
                            f"download of {spec.id} cancelled ({done / 1e6:.1f} MB kept; download again to resume)"
                        )
                    chunk = resp.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except (OSError, http.client.HTTPException) as e:
            if isinstance(e, OSError) and e.filename is not None:
                raise ModelError(f"cannot write {part}: {e.strerror}") from None
            raise _interrupted(spec, host, str(e)) from None
    if total is not None and done < total:
        # http.client returns b"" (no IncompleteRead) when the peer closes early.
        raise _interrupted(spec, host, f"connection closed after {done} of {total} bytes")
    return total


def _interrupted(spec: ModelSpec, host: str, why: str) -> ModelError:
    return ModelError(
        f"no network: the download of {spec.id} from {host} was interrupted ({why}); run the download "
        f"again to resume, or import a weights file with {_import_hint(spec)}"
    )


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    # "bytes 100-999/1000" -> (100, 1000); "bytes 100-999/*" -> (100, None)
    if not value or not value.startswith("bytes "):
        return None, None
    rng, _, total = value[6:].partition("/")
    start = rng.split("-", 1)[0]
    return (int(start) if start.isdigit() else None), (int(total) if total.isdigit() else None)


# -- import --------------------------------------------------------------------------------------
def import_weights(file: Path, spec: ModelSpec, models_dir: Path) -> Path:
    """Copy a local weights file into the cache after checking it really loads into the model.

    The file may be open_clip safetensors or a PyTorch checkpoint (``.bin``/``.pt``, read with
    ``torch.load(weights_only=True)``: no code in it runs). It is copied to a temporary name,
    the copy is loaded into the architecture (shapes and names must match exactly, values must
    be finite), and only then renamed into place, replacing older weights of that model.

    Returns:
        The path of the imported weights.

    Raises:
        ModelError: the file is missing, unreadable, not a checkpoint, truncated, or made for
            another architecture; nothing is left behind.
    """
    src = Path(file).expanduser()
    if spec.is_bundled:
        raise ModelError(f"{spec.id} ships with reelseek; there is nothing to import")
    from . import hf_tokenizer as hft

    if src.is_dir() or hft.is_archive(src):
        return _import_bundle(src, spec, models_dir)
    if not src.is_file():
        raise ModelError(f"cannot import {src}: no such file")
    if not hft.tokenizer_ready(spec, models_dir):
        raise ModelError(
            hft.missing_tokenizer_message(
                spec, hft.missing_files(spec, hft.tokenizer_dir(spec, models_dir)), f"{src} (a lone weights file)"
            )
        )
    return _import_file(src, spec, models_dir, hft.tokenizer_dir(spec, models_dir))


def _import_bundle(src: Path, spec: ModelSpec, models_dir: Path) -> Path:
    """Import a folder or archive holding the weights and (for multilingual models) the tokenizer files."""
    from . import hf_tokenizer as hft

    with hft.unpacked(src) as folder:
        weights = hft.find_weights(folder, _candidate_names(spec))
        if weights is None:
            raise ModelError(
                f"cannot import {src}: no weights file in it (expected {spec.weights_file} or one .safetensors/.bin)"
            )
        stage = hft.stage_tokenizer(spec, folder, models_dir) if hft.needs_tokenizer(spec) else None
        try:
            dest = _import_file(weights, spec, models_dir, stage)
            if stage is not None:
                hft.publish(stage, spec, models_dir)
        finally:
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
        return dest


def _import_file(src: Path, spec: ModelSpec, models_dir: Path, tokenizer: Path | None) -> Path:
    fmt = _sniff_format(src)
    if fmt is None:
        raise ModelError(
            f"cannot import {src}: it is neither a safetensors file nor a PyTorch checkpoint "
            f"(expected the open_clip weights of {spec.arch}, e.g. {spec.weights_file})"
        )
    name = SAFETENSORS_NAME if fmt == "safetensors" else PICKLE_NAME
    mdir = model_dir(spec, models_dir)
    mdir.mkdir(parents=True, exist_ok=True)
    tmp = mdir / f".import-{uuid.uuid4().hex}{'.safetensors' if fmt == 'safetensors' else '.bin'}"
    try:
        try:
            shutil.copyfile(src, tmp)
        except OSError as e:
            raise ModelError(f"cannot import {src}: {e.strerror or e}") from None
        check_weights_file(tmp, spec, shown_name=src.name, tokenizer=tokenizer)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        for old in _candidate_names(spec):
            if old != name:
                (mdir / old).unlink(missing_ok=True)
            (mdir / (old + ".part")).unlink(missing_ok=True)
        dest = mdir / name
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            mdir.rmdir()  # only succeeds when the failed import left the folder empty


def _sniff_format(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(9)
        size = path.stat().st_size
    except OSError as e:
        raise ModelError(f"cannot read {path}: {e.strerror or e}") from None
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":  # torch zip format / legacy pickle
        return "torch"
    return None


def check_weights_file(
    path: Path, spec: ModelSpec, *, shown_name: str | None = None, tokenizer: Path | None = None
) -> None:
    """Load a weights file into ``spec.arch`` (on torch's meta device: no memory for the model).

    Raises:
        ModelError: the file cannot be parsed, does not match the architecture exactly, or
            holds NaN/inf values.
    """

    shown = shown_name or Path(path).name
    try:
        bad = _first_non_finite(Path(path))
    except Exception as e:
        raise ModelError(f"{shown} is not a readable weights file (corrupt or truncated?): {_short(e)}") from None
    if bad is not None:
        raise ModelError(f"{shown} holds NaN or infinite values (e.g. in {bad}); it is corrupt")
    try:
        with quiet_open_clip(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "copying into a meta parameter is a no-op"
            import open_clip
            from open_clip.factory import load_checkpoint

            extra: dict[str, Any] = {}
            if tokenizer is not None and spec.tokenizer_files:
                from .hf_tokenizer import text_cfg_override

                extra["text_cfg"] = text_cfg_override(spec, tokenizer)  # no hub: config.json is local
            model = open_clip.create_model(spec.arch, pretrained=None, device="meta", pretrained_text=False, **extra)
            load_checkpoint(model, str(path), strict=True, weights_only=True, device="cpu")
    except Exception as e:
        raise ModelError(f"{shown} does not fit {spec.id} ({spec.arch}): {_short(e)}") from None


def _first_non_finite(path: Path) -> str | None:
    """Parse every tensor (memory-mapped, one at a time) and name the first holding NaN/inf."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            keys = list(f.keys())
            if not keys:
                raise ValueError("the file holds no tensors")
            for k in keys:
                t = f.get_tensor(k)
                if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                    return str(k)
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes about odd pickle protocols in garbage files
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # legacy (non-zip) checkpoints cannot be memory-mapped
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError("the checkpoint is not a dictionary of tensors")
    for k, t in obj.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return str(k)
    return None


def _short(e: BaseException) -> str:
    # state_dict errors list hundreds of keys: keep the gist.
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."


class _DropNoPretrainedWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "No pretrained weights loaded" not in record.getMessage()


@contextlib.contextmanager
def quiet_open_clip() -> Iterator[None]:
    """Keep open_clip off the network and quiet while it builds a model.

    HF_HUB_OFFLINE makes any accidental hub access fail fast instead of hanging on a
    firewalled machine; the warning about random initialisation is expected when weights
    are loaded separately.
    """
    root = logging.getLogger()
    filt = _DropNoPretrainedWarning()
    root.addFilter(filt)
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        yield
    finally:
        root.removeFilter(filt)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
