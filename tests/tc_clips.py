"""Video files with a source timecode tag at an exact frame rate, written with PyAV (tests only)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

# (label, exact rate, drop-frame) for every rate the issue names.
RATES: tuple[tuple[str, Fraction, bool], ...] = (
    ("23.976", Fraction(24000, 1001), False),
    ("24", Fraction(24), False),
    ("25", Fraction(25), False),
    ("29.97DF", Fraction(30000, 1001), True),
    ("29.97NDF", Fraction(30000, 1001), False),
    ("30", Fraction(30), False),
    ("50", Fraction(50), False),
    ("59.94DF", Fraction(60000, 1001), True),
)


def write_tc_clip(
    path: str | os.PathLike[str] | bytes,
    rate: Fraction,
    timecode: str | None,
    *,
    seconds: float = 3.0,
    where: str = "container",
    size: tuple[int, int] = (64, 48),
) -> Path:
    """Encode ``seconds`` of a moving square at ``rate`` with a ``timecode`` tag.

    Args:
        where: "container" (the muxer writes a QuickTime tmcd track), "stream" (the video
            stream's metadata) or "both".
    """
    import av

    target = Path(os.fsdecode(path))
    w, h = size
    n = max(1, round(seconds * rate))
    with av.open(str(target), mode="w") as c:
        if timecode and where in ("container", "both"):
            c.metadata["timecode"] = timecode
        s = c.add_stream("libx264", rate=rate, options={"preset": "ultrafast", "crf": "30"})
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if timecode and where in ("stream", "both"):
            s.metadata["timecode"] = timecode
        for i in range(n):
            img = np.full((h, w, 3), (i * 7) % 255, dtype=np.uint8)
            x = int((i / n) * (w - 8))
            img[h // 2 - 4 : h // 2 + 4, x : x + 8] = (255, 0, 0)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in s.encode(frame):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return target
