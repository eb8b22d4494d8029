"""HEIF/HEIC and AVIF stills decode through the same reduced path as any still, errors stay readable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, features

from reelseek.core import media, still_images
from reelseek.core.still_formats import is_still_image, register_still_decoders


def _picture(mode: str, w: int = 1200, h: int = 900) -> Image.Image:
    """Left half red, right half blue; with alpha, the bottom half is fully transparent."""
    a = np.zeros((h, w, 4), dtype=np.uint8)
    a[:, : w // 2] = (220, 20, 20, 255)
    a[:, w // 2 :] = (20, 20, 220, 255)
    a[h // 2 :, :, 3] = 0
    return Image.fromarray(a, "RGBA").convert(mode)


def _write(img: Image.Image, path: Path) -> Path:
    if path.suffix == ".heic":
        pillow_heif.from_pillow(img).save(path, quality=90)
    else:
        img.save(path, quality=90)
    return path


@pytest.mark.parametrize("suffix", [".heic", ".avif"])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_heic_and_avif_decode_reduced_and_flattened(tmp_path, suffix, mode):
    if suffix == ".avif":
        assert features.check("avif"), "this Pillow has no AVIF decoder (pyproject requires pillow>=11.3)"
    path = _write(_picture(mode), tmp_path / f"still{suffix}")
    out = still_images.read_still(path, 112)
    # 900 px short side, target 112: reduced by 4 right after the one full decode.
    assert out.shape == (225, 300, 3) and out.dtype == np.uint8
    top_left, top_right = out[50, 50].astype(int), out[50, 250].astype(int)
    assert top_left[0] > 150 and top_left[2] < 90, top_left  # red stays left: not mirrored or rotated
    assert top_right[2] > 150 and top_right[0] < 90, top_right
    if mode == "RGBA":
        assert (out[200, 50] > 200).all() and (out[200, 250] > 200).all()  # transparency shows white
    assert media.load_image(path, 64).shape == (64, 64, 3)
    assert is_still_image(path)


def test_register_is_idempotent_and_lazy():
    register_still_decoders()
    register_still_decoders()
    assert "HEIF" in Image.OPEN


def test_damaged_heic_is_a_media_error(tmp_path):
    good = _write(_picture("RGB", 320, 240), tmp_path / "good.heic").read_bytes()
    cut = tmp_path / "cut.heic"
    cut.write_bytes(good[:-40])  # the boxes are whole, the picture data runs past the end
    with pytest.raises(media.MediaError, match=r"damaged") as info:
        media.load_image(cut, 64)
    assert "\n" not in str(info.value)
    text = tmp_path / "notes.heic"
    text.write_text("not a picture at all")
    with pytest.raises(media.MediaError, match="not an image"):
        media.load_image(text, 64)
    assert not is_still_image(text)


def test_heic_orientation_is_applied_once_like_a_jpeg(tmp_path):
    # iPhones shoot portrait as landscape pixels plus an orientation; libheif applies the HEIF
    # transform and pillow-heif resets EXIF to 1, so read_still must not rotate a second time.
    img = _picture("RGB", 800, 600)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    img.save(tmp_path / "portrait.jpg", exif=exif.tobytes(), quality=90)
    pillow_heif.from_pillow(img).save(tmp_path / "portrait.heic", quality=90, exif=exif.tobytes())
    jpeg = still_images.read_still(tmp_path / "portrait.jpg", 112)
    heic = still_images.read_still(tmp_path / "portrait.heic", 112)
    assert jpeg.shape == heic.shape and jpeg.shape[0] > jpeg.shape[1]  # portrait
    assert np.abs(jpeg.astype(int) - heic.astype(int)).mean() < 12
    assert heic[10, heic.shape[1] // 2, 0] > 150 and heic[-10, heic.shape[1] // 2, 2] > 150  # red on top


def test_heic_over_pillows_bomb_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    # libheif decodes whole pictures only (no draft, no strips), so the bomb limit, checked by
    # Image.open from the header, is what bounds the one full-size copy.
    path = _write(_picture("RGB", 640, 480), tmp_path / "big.heic")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 640 * 480 // 3)  # errors above twice the limit
    with pytest.raises(media.MediaError, match="too large"):
        media.load_image(path, 64)
    assert not is_still_image(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 640 * 480)
    assert media.load_image(path, 64).shape == (64, 64, 3)
