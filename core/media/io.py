"""PyAV plumbing shared by the media modules: errors, opening files safely, frame geometry and pixels."""

from __future__ import annotations

import errno
import math
import os
import stat
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import av
    import av.container
    import av.video.frame
    import av.video.stream


class MediaError(Exception):
    """Readable reason a file cannot be used; ``str(e)`` is shown to users as is.

    Examples: 'empty file (0 bytes)', 'not a video file (no video stream; audio only)',
    'cannot open: invalid data found', 'truncated: decoding stopped at 3.2 s of 10.0 s',
    'permission denied'.
    """


# Scaling for model input and thumbnails: AREA averages all source pixels (no aliasing on big
# downscales) at about the cost of BILINEAR in swscale; PIL would be ~7x slower (PERF-NOTES).
INTERPOLATION = "AREA"
# Bytes read by check_file to prove the file is readable (a permission or I/O error shows up
# here with an honest errno instead of FFmpeg's folded EINVAL).
_HEAD_BYTES = 16


def check_file(path: Path) -> os.stat_result:
    """Stat ``path`` and make sure it is a readable, non-empty regular file.

    Raises:
        MediaError: file not found, a directory, empty, unreadable, name too long...
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise MediaError(os_error_text(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError("not a file (it is a folder)")
    if not stat.S_ISREG(st.st_mode):
        raise MediaError("not a regular file (device, pipe or socket)")
    if st.st_size == 0:
        raise MediaError("empty file (0 bytes)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.read(fd, _HEAD_BYTES)
        finally:
            os.close(fd)
    except OSError as exc:
        raise MediaError(os_error_text(exc)) from None
    return st


def os_error_text(exc: OSError) -> str:
    """Human wording for an OS-level failure to read a file."""
    code = exc.errno
    if code == errno.ENOENT:
        return "file not found (moved, renamed or deleted?)"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.EISDIR:
        return "not a file (it is a folder)"
    if code == errno.ENAMETOOLONG:
        return "file name too long for this system"
    if code == errno.EIO:
        return "read error (disk or network drive failing or disconnected?)"
    if code in (errno.ENXIO, errno.ENODEV, getattr(errno, "ENOMEDIUM", -1), errno.ESTALE):
        return "drive not available (unplugged or unmounted?)"
    reason = exc.strerror or type(exc).__name__
    return f"cannot read file: {reason.lower()}"


def av_error_text(exc: BaseException, *, when: str = "cannot open") -> str:
    """Human wording for an exception raised by PyAV/FFmpeg."""
    import av

    # FFmpeg maps real OS failures (ENOENT, EACCES, EIO...) to OSError subclasses; EINVAL and
    # invalid data are about the content, worded below.
    if (
        isinstance(exc, av.error.FFmpegError)
        and isinstance(exc, OSError)
        and exc.errno not in (None, 0, errno.EINVAL)
        and not isinstance(exc, av.error.InvalidDataError)
    ):
        return os_error_text(exc)
    if isinstance(exc, av.error.InvalidDataError):
        return f"{when}: invalid data found (not a video file, or damaged)"
    if isinstance(exc, av.error.DecoderNotFoundError):
        return f"{when}: no decoder for this video codec"
    if isinstance(exc, av.error.PatchWelcomeError | av.error.OptionNotFoundError):
        return f"{when}: unsupported feature in this file"
    if isinstance(exc, av.error.EOFError):
        return f"{when}: file ends unexpectedly (incomplete download or copy?)"
    if isinstance(exc, OSError) and not isinstance(exc, av.error.FFmpegError):
        return os_error_text(exc)
    if isinstance(exc, MemoryError):
        return f"{when}: out of memory"
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    # FFmpeg messages carry the file name and an errno; keep only the reason.
    message = message.split(": '", 1)[0].strip().rstrip(".")
    return f"{when}: {message[:1].lower()}{message[1:]}"


def open_input(path: Path) -> av.container.InputContainer:
    """Open a media file for reading with PyAV; every failure becomes a MediaError.

    Names that are not valid UTF-8 (Linux bytes names via surrogate escapes) are handed to
    FFmpeg as bytes by PyAV itself (os.fsencode), so no special case is needed here.
    """
    import av

    check_file(path)
    try:
        # metadata_errors: a non-UTF-8 title tag must not make the whole file unreadable.
        return av.open(os.fspath(path), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, OSError, UnicodeError, ValueError) as exc:
        raise MediaError(av_error_text(exc)) from None


def video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The main video stream (cover-art pictures in audio files do not count)."""
    import av

    candidates = [
        s for s in container.streams.video if not (int(s.disposition) & int(av.stream.Disposition.attached_pic))
    ]
    if not candidates:
        if container.streams.audio:
            raise MediaError("not a video file (no video stream; audio only)")
        if container.streams.subtitles:
            raise MediaError("not a video file (no video stream; subtitles only)")
        raise MediaError("not a video file (no video stream)")
    # Prefer the stream FFmpeg would pick (largest resolution, default disposition).
    best = max(
        candidates,
        key=lambda s: (
            bool(int(s.disposition) & int(av.stream.Disposition.default)),
            (s.codec_context.width or 0) * (s.codec_context.height or 0),
        ),
    )
    if best.codec_context is None:
        raise MediaError("cannot open: no decoder for this video codec")
    return best


def configure_decoder(stream: av.video.stream.VideoStream, *, threads: int, thread_type: str) -> None:
    """Set threading before the decoder opens; 2-core machines share with the image encoder."""
    ctx = stream.codec_context
    ctx.thread_count = max(1, threads)
    ctx.thread_type = thread_type if threads > 1 else "NONE"


@dataclass(frozen=True)
class Geometry:
    """How one coded frame maps to display pixels: sample aspect ratio and clockwise rotation."""

    width: int
    height: int
    sar: Fraction
    rotation: int  # clockwise degrees to apply for display: 0, 90, 180, 270

    @property
    def display_aspect(self) -> float:
        """Width / height of the picture as shown, before rotation."""
        return float(self.width * self.sar) / self.height


def stream_sar(stream: av.video.stream.VideoStream) -> Fraction:
    """Sample aspect ratio (container value first, as FFmpeg does); missing or absurd -> square."""
    for candidate in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if candidate and Fraction(1, 8) <= Fraction(candidate) <= 8:
            return Fraction(candidate)
    return Fraction(1)


def normalize_rotation(degrees_ccw: float | None) -> int:
    """FFmpeg's counter-clockwise display-matrix angle -> clockwise rotation in {0, 90, 180, 270}."""
    if degrees_ccw is None or not math.isfinite(degrees_ccw):
        return 0
    return round(-degrees_ccw / 90.0) % 4 * 90


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 0:
        return rgb
    # np.rot90 turns counter-clockwise for positive k.
    return np.ascontiguousarray(np.rot90(rgb, k=-(rotation // 90)))


def _scaled_size(geo: Geometry, short_side: int) -> tuple[int, int]:
    """Coded-orientation (width, height) whose shorter side is ``short_side``, display aspect kept."""
    aspect = geo.display_aspect
    if aspect >= 1.0:
        return max(short_side, round(short_side * aspect)), short_side
    return short_side, max(short_side, round(short_side / aspect))


def _thumb_size(geo: Geometry, thumb_width: int) -> tuple[int, int]:
    """Coded-orientation (width, height) so that the displayed (rotated) width is ``thumb_width``."""
    aspect = geo.display_aspect
    if geo.rotation in (90, 270):
        # After rotation the coded height becomes the displayed width.
        return max(1, round(thumb_width * aspect)), thumb_width
    return thumb_width, max(1, round(thumb_width / aspect))


def _center_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    y0, x0 = (h - size) // 2, (w - size) // 2
    return rgb[y0 : y0 + size, x0 : x0 + size]


class FrameConverter:
    """Turns decoded frames into model input and thumbnails with swscale (one reformatter per call site).

    Not thread-safe: each sampling call owns one.
    """

    def __init__(self, rotation: int = 0, sar: Fraction = Fraction(1)) -> None:
        from av.video.reformatter import VideoReformatter

        self.rotation = rotation
        self.sar = sar
        self._reformatter = VideoReformatter()

    def geometry(self, frame: Any) -> Geometry:
        return Geometry(frame.width, frame.height, self.sar, self.rotation)

    def _scale(self, frame: Any, width: int, height: int) -> np.ndarray:
        # threads=1: swscale's own threads would fight the decoder and the encoder for 2 cores.
        out = self._reformatter.reformat(
            frame, width=width, height=height, format="rgb24", interpolation=INTERPOLATION, threads=1
        )
        return out.to_ndarray()

    def model_input(
        self, frame: Any, size: int, thumb_width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(size, size, 3) uint8 RGB centre crop, and an optional full-frame thumbnail."""
        geo = self.geometry(frame)
        sw, sh = _scaled_size(geo, size)
        small = self._scale(frame, sw, sh)
        pixels = _rotate(np.ascontiguousarray(_center_crop(small, size)), geo.rotation)
        thumb = None
        if thumb_width:
            tw, th = _thumb_size(geo, thumb_width)
            # Reuse the small scaled frame when it is big enough: scaling 400x224 costs far less
            # than scaling the 1920x1080 original a second time.
            if tw <= sw and th <= sh:
                source = frame_from_rgb(small)
                thumb = self._scale(source, tw, th)
            else:
                thumb = self._scale(frame, tw, th)
            thumb = _rotate(thumb, geo.rotation)
        return pixels, thumb

    def display(self, frame: Any, max_width: int) -> np.ndarray:
        """Whole frame as displayed (SAR and rotation applied), at most ``max_width`` wide."""
        geo = self.geometry(frame)
        shown_w = geo.height if geo.rotation in (90, 270) else round(geo.width * geo.sar)
        tw, th = _thumb_size(geo, min(max_width, max(1, shown_w)))
        return _rotate(self._scale(frame, tw, th), geo.rotation)


def frame_from_rgb(rgb: np.ndarray) -> Any:
    """Wrap an (h, w, 3) uint8 RGB array as a PyAV frame (no copy of pixel semantics)."""
    import av

    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24")
