"""Single frames and stills: read_frame, thumbnails, JPEG encoding, still images as model input."""

from __future__ import annotations

import contextlib
import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .io import (
    FrameConverter,
    MediaError,
    av_error_text,
    check_file,
    configure_decoder,
    frame_from_rgb,
    normalize_rotation,
    open_input,
    stream_sar,
    video_stream,
)
from .probing import frame_rate


def to_model_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` and centre-crop, exactly as video frames are (swscale, AREA).

    Args:
        rgb: (h, w, 3) uint8 RGB (grey (h, w) and RGBA are accepted too).
        size: output side.

    Returns:
        (size, size, 3) uint8 RGB.
    """
    rgb = _as_rgb8(rgb)
    pixels, _ = FrameConverter().model_input(frame_from_rgb(rgb), size)
    return pixels


def _as_rgb8(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"expected an (h, w, 3) RGB array, got shape {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


def load_image(path: Path, size: int) -> np.ndarray:
    """Load a still image (EXIF orientation applied) as (size, size, 3) uint8 model input.

    Uses the same resize and centre crop as video frames (to_model_input).

    Raises:
        MediaError: unreadable, not an image, damaged or absurdly large.
    """
    return to_model_input(_read_image(path, draft=size), size)


def _read_image(path: Path, draft: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    from ..still_images import read_still

    check_file(path)
    try:
        # Decoded already reduced, transparency flattened after reducing: memory stays
        # bounded for any image under Pillow's limit (a 13,300² RGBA PNG needed 5.3 GB).
        return read_still(path, draft)
    except Image.DecompressionBombError:
        raise MediaError("image too large (over Pillow's safety limit)") from None
    except UnidentifiedImageError:
        raise MediaError("not an image file (format not recognised)") from None
    except OSError as exc:
        if exc.errno is not None:
            raise MediaError(av_error_text(exc)) from None
        raise MediaError(f"cannot read image: damaged or truncated ({str(exc).strip()})") from None
    except (ValueError, SyntaxError) as exc:  # Pillow plugins raise these on garbage
        raise MediaError(f"cannot read image: damaged ({str(exc).strip()})") from None


def read_frame(path: Path, t: float, *, max_width: int = 640) -> np.ndarray:
    """The frame shown at time ``t`` (seek, then decode forward), as displayed, RGB, aspect kept.

    Args:
        path: video file.
        t: seconds from the start of the video stream (as sample_frames reports).
        max_width: scale down to at most this width (never up).

    Returns:
        (h, w, 3) uint8 RGB with rotation and pixel aspect ratio applied.

    Raises:
        MediaError: unreadable file or no frame decodes.
    """
    import av

    container = open_input(path)
    try:
        stream = video_stream(container)
        configure_decoder(stream, threads=2, thread_type="FRAME")
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        frame = _frame_at(container, stream, max(0.0, float(t)))
        rotation = normalize_rotation(frame.rotation)
        if rotation == 0 and "rotate" in stream.metadata:
            with contextlib.suppress(ValueError):
                rotation = normalize_rotation(-float(stream.metadata["rotate"]))
        return FrameConverter(rotation, stream_sar(stream)).display(frame, max_width)
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(av_error_text(exc, when="cannot decode")) from None
    finally:
        container.close()


def _frame_at(container: Any, stream: Any, t: float) -> Any:
    import av

    tb = stream.time_base or Fraction(1, 90000)
    origin = stream.start_time if stream.start_time is not None else 0
    fps = frame_rate(stream.average_rate) or frame_rate(stream.guessed_rate) or 25.0
    # The frame shown at t is the last one starting at or before t; a little slack absorbs times
    # that were rounded on their way through the database.
    slack = min(0.001, 0.25 / fps)
    # A seek can land after the wanted time (no index, as in MPEG-TS; damaged file): back off,
    # then read from the very start.
    for back in (0.0, 3.0, 30.0, None):
        start = 0.0 if back is None else max(0.0, t - back)
        if back is None:
            _rewind(container, stream, origin)
        else:
            try:
                container.seek(origin + int(start / tb), stream=stream, backward=True, any_frame=False)
            except (av.error.FFmpegError, OSError):
                continue
        stream.codec_context.flush_buffers()
        best, overshot, clean = _decode_until(container, stream, t + slack, tb, origin)
        # A seek may land on an I-frame that is not a clean entry point (no IDR, open GOP, a
        # file whose index marks recovery points as keyframes): the first frame decoded is
        # then flagged corrupt, and so are some (not all) of the garbage frames after it. Back
        # off further, and at worst decode from the start.
        if best is not None and (not overshot or back is None) and (clean or back is None):
            return best
    raise MediaError("cannot decode: no video frame could be decoded (damaged file?)")


def _rewind(container: Any, stream: Any, origin: int) -> None:
    import av

    try:
        container.seek(0, unsupported_byte_offset=True)  # byte 0: works where timestamps do not
    except (av.error.FFmpegError, OSError):
        with contextlib.suppress(av.error.FFmpegError, OSError):
            container.seek(origin, stream=stream, backward=True, any_frame=False)


def _decode_until(container: Any, stream: Any, t: float, tb: Fraction, origin: int) -> tuple[Any, bool, bool]:
    """Decode forward to the last frame starting at or before ``t``.

    Returns (frame, overshot, clean): overshot is True when even the first frame decoded starts
    after t; clean is False when the first frame decoded was flagged corrupt (a bad entry point).
    """
    import av

    best = None
    first = None
    errors = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = stream.codec_context.decode(packet if packet.size else None)
            except av.error.FFmpegError:
                errors += 1
                if errors > 48:
                    break
                continue
            for frame in frames:
                if first is None:
                    first = frame
                clean = not getattr(first, "is_corrupt", False)
                ft = t if frame.pts is None else float((frame.pts - origin) * tb)
                if ft > t:
                    return (frame, True, clean) if best is None else (best, False, clean)
                best = frame
    except av.error.FFmpegError:
        pass  # damaged data: keep the nearest frame before it
    # t is past the last frame: the last frame is shown
    return best, False, first is not None and not getattr(first, "is_corrupt", False)


def thumbnail_jpeg(path: Path, t: float, *, width: int = 320, quality: int = 85) -> bytes:
    """JPEG of the frame at ``t``, at most ``width`` pixels wide (see read_frame)."""
    return encode_jpeg(read_frame(path, t, max_width=width), quality=quality)


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """Encode an (h, w, 3) uint8 RGB array as baseline JPEG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(_as_rgb8(rgb), "RGB").save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()
