"""Stills decoded reduced: same pixels as a full decode, every PNG layout, clear errors on damage."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelseek.core import media, still_images
from tests.synth.big_png import write_big_png


def _reference(path: Path, target: int) -> np.ndarray:
    """What a plain full-size decode gives: decode everything, reduce, flatten."""
    with Image.open(path) as im:
        factor = still_images.reduce_factor(im.width, im.height, target)
        return np.asarray(still_images._flatten(still_images._reduced(im, factor)))


# Adam7: (first column, first row, column step, row step) of each of the seven passes.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _write_interlaced_png(image: Image.Image, path: Path) -> None:
    """An Adam7-interlaced 8-bit RGBA PNG. Pillow reads these but cannot write them, and a
    machine's ``convert`` may be missing or a stand-in, so the file is written here."""
    rgba = np.asarray(image.convert("RGBA"))
    h, w, _ = rgba.shape
    raw = bytearray()
    for x0, y0, dx, dy in _ADAM7:
        sub = rgba[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue  # an empty pass has no scanlines at all
        for row in sub:
            raw += b"\x00" + row.tobytes()  # filter type 0 (None) on every scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 1)  # 8-bit RGBA, interlace method 1 (Adam7)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    )


def _noisy(mode: str, h: int = 517, w: int = 463, seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    ch = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "P": 1}[mode]
    blocks = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, ch), dtype=np.uint8).repeat(8, 0).repeat(8, 1)[:h, :w]
    a = blocks // 2 + rng.integers(0, 40, (h, w, ch), dtype=np.uint8)
    if mode == "P":
        im = Image.fromarray(a[:, :, 0], "L").convert("P")
        im.putpalette(list(rng.integers(0, 255, 768)))
        return im
    return Image.fromarray(a[:, :, 0] if ch == 1 else a, mode)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "P+tRNS"])
def test_png_strips_give_the_same_pixels_as_a_full_decode(tmp_path, monkeypatch, mode):
    # Small strips so every image crosses many strip borders (the row filters Up, Average and
    # Paeth read the row above, which Pillow's adaptive filtering uses throughout).
    monkeypatch.setattr(still_images, "_STRIP_BYTES", 20_000)
    path = tmp_path / "still.png"
    im = _noisy(mode.split("+")[0])
    im.save(path, **({"transparency": 5} if mode == "P+tRNS" else {}))
    with Image.open(path) as opened:
        assert still_images._strippable(opened)
    got = still_images.read_still(path, 32)
    want = _reference(path, 32)
    assert got.shape == want.shape and got.shape[2] == 3
    assert min(got.shape[:2]) >= 64  # at least twice the target
    assert np.array_equal(got, want)


def test_strips_never_hold_the_full_image(tmp_path, monkeypatch):
    path = write_big_png(tmp_path / "big.png", 2000, "RGBA")
    biggest: list[int] = []
    real = Image.frombytes

    def watching(mode, size, data, *args):  # type: ignore[no-untyped-def]
        biggest.append(size[0] * size[1])
        return real(mode, size, data, *args)

    monkeypatch.setattr(still_images, "_STRIP_BYTES", 400_000)
    monkeypatch.setattr(Image, "frombytes", watching)
    got = still_images.read_still(path, 64)
    monkeypatch.setattr(Image, "frombytes", real)
    assert biggest and max(biggest) * 10 < 2000 * 2000
    assert np.array_equal(got, _reference(path, 64))
    # Transparent corners came out white, the disc red.
    assert got[0, 0].tolist() == [255, 255, 255]
    assert got[got.shape[0] // 2, got.shape[1] // 2].tolist() == [230, 30, 120]


@pytest.mark.parametrize("kind", ["interlaced", "16-bit grey", "tiff", "bilevel", "cmyk-jpeg", "webp"])
def test_other_layouts_decode_reduced(tmp_path, kind):
    base = _noisy("RGBA", 700, 500)
    path = tmp_path / "still.png"
    if kind == "interlaced":
        _write_interlaced_png(base, path)
        with Image.open(path) as im:
            assert im.info.get("interlace") and not still_images._strippable(im)
            assert np.array_equal(np.asarray(im.convert("RGBA")), np.asarray(base.convert("RGBA")))
    elif kind == "16-bit grey":
        arr = (np.asarray(base.convert("L"), dtype=np.uint16) * 200).astype(np.uint16)
        Image.fromarray(arr).save(path)
        with Image.open(path) as im:
            assert im.mode.startswith("I")
    elif kind == "tiff":
        path = tmp_path / "still.tif"
        base.save(path)
    elif kind == "bilevel":
        base.convert("1").save(path)
    elif kind == "cmyk-jpeg":
        path = tmp_path / "still.jpg"
        base.convert("CMYK").save(path)
    else:
        path = tmp_path / "still.webp"
        base.save(path)
    got = still_images.read_still(path, 64)
    assert got.dtype == np.uint8 and got.ndim == 3 and got.shape[2] == 3
    assert 128 <= min(got.shape[:2]) < 4 * 128
    assert float(got.std()) > 1.0  # not a blank image


def test_exif_orientation_of_a_png_is_applied(tmp_path):
    im = Image.new("RGB", (400, 200), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 200, 200))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rot.png"
    im.save(path, exif=exif.tobytes())
    got = still_images.read_still(path, 50)
    assert got.shape[0] > got.shape[1]  # portrait after rotation
    assert got[2, got.shape[1] // 2].tolist() == [255, 0, 0]  # red on top


def test_damaged_pngs_are_clear_errors(tmp_path):
    good = tmp_path / "good.png"
    write_big_png(good, 1500, "RGB")
    data = good.read_bytes()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(data[: len(data) // 2])
    garbled = tmp_path / "garbled.png"
    middle = len(data) // 2
    garbled.write_bytes(data[:middle] + bytes(range(256)) * 8 + data[middle + 2048 :])
    for path in (truncated, garbled):
        with pytest.raises(media.MediaError) as err:
            media.load_image(path, 224)
        assert "damaged" in str(err.value) or "truncated" in str(err.value), err.value
    zero = tmp_path / "zero.png"
    zero.write_bytes(b"")
    with pytest.raises(media.MediaError, match="empty"):
        media.load_image(zero, 224)
    text = tmp_path / "notes.png"
    text.write_text("not an image at all\n" * 50)
    with pytest.raises(media.MediaError, match="not an image"):
        media.load_image(text, 224)


def test_jpeg_is_drafted_not_decoded_full_size(tmp_path, monkeypatch):
    buf = io.BytesIO()
    _noisy("RGB", 2400, 3200).save(buf, "JPEG", quality=90)
    path = tmp_path / "big.jpg"
    path.write_bytes(buf.getvalue())
    sizes: list[tuple[int, int]] = []
    real_load = Image.Image.load

    def watching(self):  # type: ignore[no-untyped-def]
        sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(Image.Image, "load", watching)
    got = still_images.read_still(path, 224)
    assert max(w * h for w, h in sizes) <= 2400 * 3200 // 4  # decoded at most at half size
    assert min(got.shape[:2]) >= 448
