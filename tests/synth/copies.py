"""A library of copies of one shot (re-encode, trimmed copy, proxy) and a different shot, for grouping takes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from tests.synth.videos import _ENCODER_OPTIONS, CODECS, SceneSpec, write_video

# The shot every copy shows (a trained colour-shape pair, so the test model finds it by text),
# and a DIFFERENT shot of the same kind: the same red circle, other background, other time.
SHOT_CAPTION = "a red circle on grass"
SHOT = (
    SceneSpec("blue", "square", "sky", "right", 0.0, 4.0),
    SceneSpec("red", "circle", "grass", "left", 4.0, 10.0),
    SceneSpec("yellow", "triangle", "night", "up", 10.0, 14.0),
)
OTHER_SHOT = (
    SceneSpec("green", "star", "noise", "still", 0.0, 5.0),
    SceneSpec("red", "circle", "sand", "right", 5.0, 11.0),
    SceneSpec("blue", "cross", "plain", "down", 11.0, 15.0),
)
# Seconds cut off the trimmed copy's start: off the 1 s sampling grid, so its frames are not the original's.
TRIM = 2.5
# Unrelated footage, so the library has a background to calibrate against.
FILLER = (
    (SceneSpec("green", "ring", "sky", "left", 0.0, 5.0), SceneSpec("yellow", "star", "sand", "still", 5.0, 10.0)),
    (SceneSpec("blue", "triangle", "noise", "up", 0.0, 5.0), SceneSpec("green", "square", "night", "down", 5.0, 9.0)),
)


@dataclass(frozen=True)
class TakesLibrary:
    root: Path
    original: Path
    reencode: Path
    trimmed: Path
    proxy: Path
    other: Path
    fillers: tuple[Path, ...]

    @property
    def takes(self) -> tuple[Path, ...]:
        """The four files that show the one shot."""
        return (self.original, self.reencode, self.trimmed, self.proxy)


def transcode(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    codec: str,
    trim_start: float = 0.0,
    size: tuple[int, int] | None = None,
) -> Path:
    """Decode `src` and encode it again: another codec, the first `trim_start` seconds cut, or scaled down."""
    import av

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    _, encoder, pix_fmt = CODECS[codec]
    if encoder == "libsvtav1":
        os.environ.setdefault("SVT_LOG", "1")
    with av.open(str(src)) as inp, av.open(str(dst), mode="w") as out:
        vin = inp.streams.video[0]
        rate = Fraction(vin.average_rate or 10).limit_denominator(1001)
        stream = out.add_stream(encoder, rate=rate, options=dict(_ENCODER_OPTIONS[encoder]))
        w, h = size or (vin.codec_context.width, vin.codec_context.height)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        i = 0
        for frame in inp.decode(vin):
            if frame.time is not None and frame.time < trim_start - 1e-6:
                continue
            img = frame.to_ndarray(format="rgb24", width=w, height=h)
            new = av.VideoFrame.from_ndarray(img, format="rgb24")
            new.pts = i
            i += 1
            for packet in stream.encode(new):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def make_takes_library(root: str | os.PathLike[str], *, trim: float = TRIM) -> TakesLibrary:
    """An original, a re-encode in another codec, a copy with `trim` s cut off the start, a quarter-size
    proxy in Proxy/ (same basename), a different shot of the same kind, and unrelated filler."""
    root = Path(root)
    original = write_video(root / "A001_shot.mp4", SHOT, codec="h264", width=256, height=144, seed=1).path
    reencode = transcode(original, root / "deliveries" / "A001_shot_hevc.mkv", codec="hevc")
    trimmed = transcode(original, root / "selects" / "A001_shot_trim.mov", codec="prores", trim_start=trim)
    proxy = transcode(original, root / "Proxy" / "A001_shot.mp4", codec="h264", size=(128, 72))
    other = write_video(root / "B007_other.webm", OTHER_SHOT, codec="vp9", width=256, height=144, seed=2).path
    fillers = tuple(
        write_video(root / f"C{i:03d}_filler.mp4", scenes, codec="h264", width=256, height=144, seed=10 + i).path
        for i, scenes in enumerate(FILLER)
    )
    return TakesLibrary(root, original, reencode, trimmed, proxy, other, fillers)


def frame_similarities(
    home: str | os.PathLike[str], lib: TakesLibrary, model_id: str
) -> tuple[list[float], list[float]]:
    """Cosines of stored frame vectors: (same picture of the shot in two copies, frames of different files).

    "Same" pairs two copies' frames that show the original's same instant (within 0.6 s, given the
    trim, and not across a cut); pairs of two copies at other instants are left out.
    """
    import itertools

    import numpy as np

    from reelseek.core.library import Library

    offset = {str(lib.original): 0.0, str(lib.reencode): 0.0, str(lib.proxy): 0.0, str(lib.trimmed): TRIM}
    same: list[float] = []
    different: list[float] = []
    with Library(home, model_id=model_id, readonly=True) as library:
        files = []
        for f in library.store.files():
            segs = library.store.segments_of_file(f.id, model_id)
            times = np.concatenate([s.times for s, _v, _t in segs]).astype(np.float64)
            frames = np.concatenate([s.frames for s, _v, _t in segs]).astype(np.float32)
            files.append((f.path, times, frames))
        for (pa, ta, fa), (pb, tb, fb) in itertools.combinations(files, 2):
            sims = fa @ fb.T
            if pa in offset and pb in offset:
                ia, ib = ta + offset[pa], tb + offset[pb]  # instants of the original
                cuts = [sc.end for sc in SHOT[:-1]]
                one_scene = np.searchsorted(cuts, ia, side="right")[:, None] == np.searchsorted(cuts, ib, side="right")
                same += sims[(np.abs(ia[:, None] - ib[None, :]) <= 0.6) & one_scene].tolist()
            else:
                different += sims.ravel().tolist()
    return same, different
