"""Frame preprocessing as the app does it (short side to the model size, centre crop), plus augmentations."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

# The app uses swscale (PyAV reformat); open_clip's reference path uses PIL. Training sees both.
SWS_FILTERS = ("AREA", "BILINEAR", "BICUBIC", "FAST_BILINEAR")
PIL_FILTERS = (
    Image.Resampling.BILINEAR,
    Image.Resampling.BICUBIC,
    Image.Resampling.BOX,
    Image.Resampling.LANCZOS,
)


def short_side_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(width, height) after scaling so the short side equals `size`."""
    if width <= height:
        return size, max(size, round(height * size / width))
    return max(size, round(width * size / height)), size


def center_crop(rgb: np.ndarray, size: int, dx: int = 0, dy: int = 0) -> np.ndarray:
    """A size x size crop from the centre of an (H, W, 3) array, shifted by (dx, dy) pixels."""
    h, w = rgb.shape[:2]
    x0 = min(max(0, round((w - size) / 2) + dx), w - size)
    y0 = min(max(0, round((h - size) / 2) + dy), h - size)
    return rgb[y0 : y0 + size, x0 : x0 + size]


def resize_sws(rgb: np.ndarray, width: int, height: int, interpolation: str = "AREA") -> np.ndarray:
    """Resize an RGB array with swscale, as PyAV's VideoFrame.reformat does in the app."""
    import av

    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(width=width, height=height, format="rgb24", interpolation=interpolation).to_ndarray()


def app_input(rgb: np.ndarray, size: int = 64) -> np.ndarray:
    """The app's path: swscale AREA resize of the short side to `size`, then a centre crop."""
    w, h = short_side_size(rgb.shape[1], rgb.shape[0], size)
    return center_crop(resize_sws(rgb, w, h, "AREA"), size)


def av_frame_input(frame: object, size: int = 64) -> np.ndarray:
    """The app's path straight from a decoded av.VideoFrame (swscale converts and scales in one go)."""
    w, h = short_side_size(frame.width, frame.height, size)  # type: ignore[attr-defined]
    rgb = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()  # type: ignore[attr-defined]
    return center_crop(rgb, size)


def codec_degrade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Approximate lossy video coding: 4:2:0 chroma round trip and/or JPEG blocking at source size."""
    import av

    kind = rng.integers(3)
    if kind in (0, 2):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        rgb = frame.reformat(format="yuv420p").reformat(format="rgb24").to_ndarray()
    if kind in (1, 2):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(rng.integers(30, 91)))
        rgb = np.asarray(Image.open(buf).convert("RGB"))
    return rgb


def augmented_input(rgb: np.ndarray, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """A training view: lossy-coding artefacts, a random resize filter, slight zoom and shift, blur, noise.

    Stays close to app_input so the model learns the app's inputs, with enough variation to be robust
    to other filters, codecs and small crops.
    """
    if rng.random() < 0.75:
        rgb = codec_degrade(rgb, rng)
    zoom = 1.0 if rng.random() < 0.5 else float(rng.uniform(1.0, 1.15))
    w, h = short_side_size(rgb.shape[1], rgb.shape[0], round(size * zoom))
    if rng.random() < 0.5:
        out = resize_sws(rgb, w, h, str(rng.choice(SWS_FILTERS)))
    else:
        out = np.asarray(Image.fromarray(rgb).resize((w, h), PIL_FILTERS[int(rng.integers(len(PIL_FILTERS)))]))
    slack = min(w, h) - size
    dx, dy = (int(rng.integers(-slack // 2, slack // 2 + 1)) for _ in range(2)) if slack > 1 else (0, 0)
    out = center_crop(out, size, dx, dy)
    if rng.random() < 0.15:
        out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.8)))))
    if rng.random() < 0.3:
        gain = rng.uniform(0.92, 1.08)
        noise = rng.normal(0, rng.uniform(1, 5), out.shape)
        out = np.clip(out.astype(np.float32) * gain + noise, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def to_tensor(batch: np.ndarray, mean: tuple[float, ...] = OPENAI_MEAN, std: tuple[float, ...] = OPENAI_STD):
    """(N, H, W, 3) uint8 -> normalised float32 torch tensor (N, 3, H, W)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    return (x - m) / s
