"""The stage-1 folder: immutable shard files, a removal mask and a manifest that commits them atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import stage1_file
from .stage1_file import Stage1Error

FORMAT = "reelseek-stage1-shards"
VERSION = 1
MANIFEST = "manifest.json"
SHARD_ROWS = 262_144  # most rows in one shard file (~400 MB of codes and float16 vectors at 512-d)
SHARD_SUFFIX = ".shard"
MASK_SUFFIX = ".mask"


@dataclass(frozen=True)
class ShardEntry:
    """One shard file named by the manifest: its rows and how many of them are removed."""

    file: str
    rows: int
    dead: int


@dataclass(frozen=True)
class Manifest:
    dim: int
    shards: tuple[ShardEntry, ...]
    mask: str | None  # packed bits over every shard's rows, in manifest order; None: nothing removed
    meta: dict[str, Any]  # the owner's fields (generation, model_id, count), stored beside ours


def new_name(seq: int, suffix: str) -> str:
    """A file name no earlier save used: a crash can leave a half-written file, never a half-replaced one."""
    return f"{seq:06d}-{secrets.token_hex(4)}{suffix}"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_mask(folder: Path, dead: np.ndarray) -> str:
    name = new_name(0, MASK_SUFFIX)
    with open(folder / name, "wb") as f:
        f.write(np.packbits(dead.astype(bool)).tobytes())
        f.flush()
        os.fsync(f.fileno())
    return name


def read_mask(folder: Path, name: str, rows: int) -> np.ndarray:
    try:
        raw = (folder / name).read_bytes()
    except OSError as e:
        raise Stage1Error(f"{name}: unreadable removal mask ({e})") from e
    if len(raw) != (rows + 7) // 8:
        raise Stage1Error(f"{name}: damaged removal mask ({len(raw)} bytes for {rows} rows)")
    return np.unpackbits(np.frombuffer(raw, np.uint8))[:rows].astype(bool)


def commit(folder: Path, manifest: Manifest) -> None:
    """Make ``manifest`` the folder's state in one rename (the files it names are already fsynced)."""
    body = {
        **manifest.meta,
        "format": FORMAT,
        "version": VERSION,
        "dim": manifest.dim,
        "shards": [{"file": s.file, "rows": s.rows, "dead": s.dead} for s in manifest.shards],
        "mask": manifest.mask,
    }
    tmp = folder / f"{MANIFEST}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / MANIFEST)
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)
    _fsync_dir(folder)


def read_manifest(folder: Path) -> Manifest:
    """The folder's manifest; raises Stage1Error when it is missing, damaged or another format."""
    try:
        body = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if body.get("format") != FORMAT or body.get("version") != VERSION:
            raise Stage1Error(f"{folder.name}: not a stage-1 folder of this version")
        shards = tuple(ShardEntry(str(s["file"]), int(s["rows"]), int(s["dead"])) for s in body["shards"])
        mask = body.get("mask")
        dim = int(body["dim"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        if isinstance(e, Stage1Error):
            raise
        raise Stage1Error(f"{folder.name}: unreadable stage-1 manifest ({e})") from e
    keep = {"format", "version", "dim", "shards", "mask"}
    return Manifest(dim, shards, str(mask) if mask else None, {k: v for k, v in body.items() if k not in keep})


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The owner's fields of the manifest (with ``dim``), or None when there is no usable manifest."""
    try:
        m = read_manifest(folder)
    except Stage1Error:
        return None
    return {**m.meta, "dim": m.dim}


def open_shards(folder: Path, dim: int) -> tuple[Manifest, list[stage1_file.Stage1File], np.ndarray | None]:
    """Map every shard the manifest names, and its mask; Stage1Error if any is missing or damaged."""
    # A writer deletes the files an older manifest named right after committing a new one; a
    # reader that read the old manifest just before that tries again with the new one.
    for attempt in range(3):
        manifest = read_manifest(folder)
        if manifest.dim != dim:
            raise Stage1Error(f"{folder.name}: made for {manifest.dim}-d vectors, not {dim}-d")
        try:
            files = [stage1_file.read(folder / s.file, dim) for s in manifest.shards]
        except Stage1Error:
            if attempt == 2 or read_manifest(folder) == manifest:
                raise
            continue
        for s, f in zip(manifest.shards, files, strict=True):
            if len(f.ids) != s.rows:
                raise Stage1Error(f"{s.file}: {len(f.ids)} rows, the manifest says {s.rows}")
        rows = sum(s.rows for s in manifest.shards)
        dead = read_mask(folder, manifest.mask, rows) if manifest.mask else None
        if dead is not None and int(dead.sum()) != sum(s.dead for s in manifest.shards):
            raise Stage1Error(f"{folder.name}: the removal mask disagrees with the manifest")
        return manifest, files, dead
    raise Stage1Error(f"{folder.name}: the stage-1 folder kept changing while it was opened")


def live_ids(folder: Path, dim: int) -> np.ndarray:
    """Every id the saved folder holds, removed rows left out (for ``doctor``)."""
    _m, files, dead = open_shards(folder, dim)
    ids = np.concatenate([np.asarray(f.ids) for f in files]) if files else np.zeros(0, np.int64)
    return ids if dead is None else ids[~dead]


def remove_unlisted(folder: Path, manifest: Manifest) -> None:
    """Delete shard and mask files the manifest does not name (replaced ones, or a killed save's).
    Readers that still map them keep their pages (POSIX); where removal fails, the next save retries."""
    keep = {s.file for s in manifest.shards} | ({manifest.mask} if manifest.mask else set())
    for p in folder.iterdir():
        stale_tmp = p.name.startswith(MANIFEST + ".") and p.name.endswith(".tmp")
        if (p.suffix in (SHARD_SUFFIX, MASK_SUFFIX) and p.name not in keep) or stale_tmp:
            with contextlib.suppress(OSError):
                p.unlink()
