"""Compare a frame the player decoded with the source video's own frames (decoded by PyAV)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.synth.videos import SceneSpec, VideoSpec, write_video

SMALL = (32, 18)


def small(image: QImage) -> np.ndarray:
    """A 32x18 RGB array of the image (enough to tell scenes apart, robust to scaling)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888).scaled(
        SMALL[0], SMALL[1], Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    out = np.zeros((SMALL[1], SMALL[0], 3), dtype=np.float32)
    for y in range(SMALL[1]):
        for x in range(SMALL[0]):
            c = img.pixelColor(x, y)
            out[y, x] = (c.red(), c.green(), c.blue())
    return out


def source_frame(path: Path, t: float) -> QImage:
    """The source file's frame at ``t`` seconds, decoded by PyAV (the reference)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        best = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time <= t + 1e-6:
                best = frame
            elif best is not None:
                break
        assert best is not None, f"no frame at {t} s in {path}"
        rgb = best.to_ndarray(format="rgb24")
    h, w, _ = rgb.shape
    return QImage(rgb.tobytes(), w, h, w * 3, QImage.Format.Format_RGB888).copy()


def scene_references(video: VideoSpec) -> list[np.ndarray]:
    """One reference per scene: the source frame in the middle of the scene."""
    return [small(source_frame(video.path, (s.start + s.end) / 2)) for s in video.scenes]


def closest_scene(frame: QImage, references: Sequence[np.ndarray]) -> int:
    """Index of the scene whose reference frame is nearest to ``frame`` (mean absolute difference)."""
    f = small(frame)
    return int(np.argmin([float(np.abs(f - r).mean()) for r in references]))


def three_scene_video(path: Path) -> VideoSpec:
    """Six seconds: three two-second scenes that differ in colour, shape and background."""
    scenes = [
        SceneSpec("red", "circle", "grass", "still", 0.0, 2.0),
        SceneSpec("blue", "square", "sand", "still", 2.0, 4.0),
        SceneSpec("yellow", "star", "night", "still", 4.0, 6.0),
    ]
    return write_video(path, scenes, codec="h264", fps=10, width=256, height=144, gop=10)


# A "frame counter" clip: frame n is a flat grey of COUNTER_BASE + COUNTER_STEP * n, so the
# number of the frame a player shows can be read back from one pixel.
COUNTER_BASE, COUNTER_STEP = 19, 7


def counter_video(path: Path, *, frames: int = 30, fps: int = 10, start_tc: str | None = None) -> Path:
    """Every frame a different flat grey (intra-refresh every 10 frames, no B-frames)."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "10", "g": "10", "bf": "0"}
        if start_tc:
            stream.metadata["timecode"] = start_tc
        for n in range(frames):
            grey = np.full((96, 160, 3), COUNTER_BASE + 1 + COUNTER_STEP * n, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(grey, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def frame_number(image: QImage) -> int:
    """Which frame of a counter_video() this picture is."""
    c = image.pixelColor(image.width() // 2, image.height() // 2)
    return round((c.red() - COUNTER_BASE) / COUNTER_STEP)
