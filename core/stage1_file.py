"""The stage-1 index file: header, mean, ids, int8 codes, float16 vectors and int4 codes, each block page-aligned."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"RSKSTG1\x00"
ALIGN = 4096  # every block starts on a page, so each can be memory-mapped on its own

# (ids, int8 codes or None when they must be made, float16 vectors) for consecutive live rows.
Blocks = Callable[[], Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray]]]


class Stage1Error(ValueError):
    """A stage-1 file that cannot be used (damaged, truncated, another format or dimension)."""


@dataclass(frozen=True)
class Stage1File:
    """A stage-1 file opened read-only: the arrays are memory maps (nothing copied in)."""

    mean: np.ndarray
    scale: float
    fitted_on: int  # rows the quantizer was fitted on (refit when the library doubles)
    ids: np.ndarray
    codes: np.ndarray
    vecs: np.ndarray
    # int4 codes, two a byte (even dimension first, in the low nibble), and their scale; None in
    # files written before they existed (those are scanned on the int8 codes).
    codes4: np.ndarray | None = None
    scale4: float | None = None


def _offsets(dim: int, rows: int, int4: bool = False) -> dict[str, int]:
    def up(x: int) -> int:
        return -(-x // ALIGN) * ALIGN

    mean = ALIGN
    ids = up(mean + 4 * dim)
    codes = up(ids + 8 * rows)
    vecs = up(codes + rows * dim)
    out = {"mean": mean, "ids": ids, "codes": codes, "vecs": vecs, "end": vecs + 2 * rows * dim}
    if int4:  # after the float16 block, so files without it keep their layout
        out["codes4"] = up(out["end"])
        out["end"] = out["codes4"] + rows * (dim // 2)
    return out


def write(
    path: Path,
    *,
    dim: int,
    rows: int,
    blocks: Blocks,
    mean: np.ndarray,
    scale: float,
    fitted_on: int,
    encode: Callable[[np.ndarray], np.ndarray],
    scale4: float | None = None,
    encode4: Callable[[np.ndarray], np.ndarray] | None = None,
) -> None:
    """Stream ``blocks`` into ``path`` (fsynced). Codes a block lacks are made with ``encode``;
    with ``scale4`` and ``encode4`` (even dimensions only) the int4 block is written too."""
    int4 = scale4 is not None and encode4 is not None and dim % 2 == 0
    off = _offsets(dim, rows, int4)
    fields: dict[str, object] = {"dim": dim, "rows": rows, "scale": scale, "fitted_on": fitted_on}
    if int4:
        fields["scale4"] = scale4
    header = json.dumps(fields).encode()
    if len(header) > ALIGN - 16:
        raise Stage1Error("stage-1 header too long")
    with open(path, "wb") as f:
        f.write(MAGIC + len(header).to_bytes(8, "little") + header)
        f.seek(off["mean"])
        f.write(np.asarray(mean, dtype="<f4").tobytes())
        f.seek(off["ids"])
        for ids, _c, _v in blocks():
            f.write(ids.astype("<i8").tobytes())
        f.seek(off["codes"])
        for _i, codes, vecs in blocks():
            f.write((codes if codes is not None else encode(vecs)).astype(np.int8).tobytes())
        f.seek(off["vecs"])
        for _i, _c, vecs in blocks():
            f.write(np.ascontiguousarray(vecs, dtype="<f2").tobytes())
        if int4 and encode4 is not None:
            f.seek(off["codes4"])
            for _i, _c, vecs in blocks():
                f.write(np.ascontiguousarray(encode4(vecs), dtype=np.uint8).tobytes())
        f.truncate(off["end"])
        f.flush()
        os.fsync(f.fileno())


def read(path: Path, dim: int) -> Stage1File:
    """Open ``path`` as memory maps; raises Stage1Error unless it is a whole file of this dimension."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            if len(head) < 16 or head[:8] != MAGIC:
                raise Stage1Error(f"{path.name}: not a stage-1 index file")
            size = int.from_bytes(head[8:], "little")
            if size > ALIGN - 16:
                raise Stage1Error(f"{path.name}: damaged header")
            meta = json.loads(f.read(size).decode())
            n, d = int(meta["rows"]), int(meta["dim"])
            scale, fitted_on = float(meta["scale"]), int(meta["fitted_on"])
            scale4 = float(meta["scale4"]) if "scale4" in meta else None
            f.seek(ALIGN)
            mean = np.frombuffer(f.read(4 * max(d, 0)), "<f4").copy()
        length = path.stat().st_size
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        if isinstance(e, Stage1Error):
            raise
        raise Stage1Error(f"{path.name}: unreadable stage-1 index ({e})") from e
    if d != dim or n < 0:
        raise Stage1Error(f"{path.name}: made for {d}-d vectors, not {dim}-d")
    int4 = scale4 is not None
    if int4 and (d % 2 or not np.isfinite(scale4 or 0.0) or (scale4 or 0.0) <= 0):
        raise Stage1Error(f"{path.name}: damaged header (int4 scale {scale4} at {d}-d)")
    off = _offsets(d, n, int4)
    if length != off["end"] or len(mean) != d or not np.isfinite(scale) or scale <= 0:
        raise Stage1Error(f"{path.name}: damaged ({length} bytes, want {off['end']})")
    if n == 0:
        empty4 = np.zeros((0, d // 2), np.uint8) if int4 else None
        return Stage1File(
            mean,
            scale,
            fitted_on,
            np.zeros(0, np.int64),
            np.zeros((0, d), np.int8),
            np.zeros((0, d), np.float16),
            empty4,
            scale4,
        )
    return Stage1File(
        mean,
        scale,
        fitted_on,
        np.memmap(path, dtype="<i8", mode="r", offset=off["ids"], shape=(n,)),
        np.memmap(path, dtype=np.int8, mode="r", offset=off["codes"], shape=(n, d)),
        np.memmap(path, dtype="<f2", mode="r", offset=off["vecs"], shape=(n, d)),
        np.memmap(path, dtype=np.uint8, mode="r", offset=off["codes4"], shape=(n, d // 2)) if int4 else None,
        scale4,
    )
