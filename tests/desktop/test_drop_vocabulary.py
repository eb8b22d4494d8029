"""The window takes every file the indexer takes: one vocabulary of video and still extensions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image
from pytestqt.qtbot import QtBot

from reelseek.core import media
from reelseek.core.media.kinds import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, is_video_candidate
from reelseek.desktop import media_kinds as gui_kinds
from reelseek.desktop.media_kinds import DropKind, classify
from tests.desktop import test_main_window
from tests.desktop.test_main_window import MakeWindow
from tests.desktop.test_search_bar import drop_event

make_window = test_main_window.make_window  # the window fixture, shared


def test_gui_and_indexer_share_one_vocabulary() -> None:
    assert gui_kinds.VIDEO_EXTENSIONS is VIDEO_EXTENSIONS is media.VIDEO_EXTENSIONS
    assert gui_kinds.IMAGE_EXTENSIONS is IMAGE_EXTENSIONS is media.IMAGE_EXTENSIONS
    assert {".vob", ".mod", ".m2t", ".mxf", ".tod"} <= VIDEO_EXTENSIONS
    assert not VIDEO_EXTENSIONS & IMAGE_EXTENSIONS


def test_every_video_extension_the_indexer_takes_is_accepted_on_the_window(
    qtbot: QtBot,
    make_window: MakeWindow,
    tmp_path: Path,
) -> None:
    w = make_window()
    clips = []
    for i, ext in enumerate(sorted(VIDEO_EXTENSIONS)):
        # Upper case on every other one: cameras write A001.MXF, PRIVATE/AVCHD/.../00001.MTS.
        clip = tmp_path / f"take_{i}{ext.upper() if i % 2 else ext}"
        clip.write_bytes(b"\0" * 16)
        assert is_video_candidate(clip), clip  # the indexer's scan would take it
        clips.append(clip)
    w.dropEvent(drop_event(clips))
    chips = w.search_bar.chips()
    assert sorted(c.path for c in chips) == sorted(clips), w.notice.text()
    assert all(c.kind is DropKind.CLIP for c in chips)
    assert w.notice.text() == "", "nothing was refused"


def test_heic_and_avif_stills_are_accepted_broken_ones_refused(
    qtbot: QtBot,
    make_window: MakeWindow,
    tmp_path: Path,
) -> None:
    img = Image.fromarray(np.full((48, 64, 3), (200, 40, 40), dtype=np.uint8))
    heic, heif, avif = tmp_path / "IMG_0001.HEIC", tmp_path / "burst.heif", tmp_path / "grab.avif"
    pillow_heif.from_pillow(img).save(heic, quality=80)
    pillow_heif.from_pillow(img).save(heif, quality=80)
    img.save(avif, quality=80)
    broken = tmp_path / "broken.heic"
    broken.write_text("not a picture")
    assert [classify(p) for p in (heic, heif, avif, broken)] == [DropKind.IMAGE] * 3 + [DropKind.OTHER]
    w = make_window()
    w.dropEvent(drop_event([heic, heif, avif, broken]))
    assert [c.path for c in w.search_bar.chips()] == [heic, heif, avif]
    assert all(c.kind is DropKind.IMAGE for c in w.search_bar.chips())
    assert "broken.heic" in w.notice.text()
