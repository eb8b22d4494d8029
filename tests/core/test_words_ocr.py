"""On-screen text: drawn text found at its times, nothing on textured no-text frames, bounded OCR calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelseek.core.media import MediaError
from reelseek.core.words import WRITTEN, WordLine
from reelseek.core.words.ocr import ScreenTextSource
from reelseek.core.words.screen_text import FrameChooser, TextMerger, text_key
from tests.synth.screen_text import TextOverlay, write_text_clip

SIZE = (640, 360)
OVERLAYS = (
    TextOverlay("SC 12 TK 3", 1.0, 5.0, font="sans-bold", size=72, x=0.1, y=0.12),
    TextOverlay("MARGARET HOLLOWAY", 7.0, 12.0, font="sans", size=44, x=0.08, y=0.78, box=True),
    TextOverlay("OPEN 24 HOURS", 13.0, 17.0, font="serif", size=60, x=0.25, y=0.4),
    TextOverlay("東京駅", 18.0, 22.0, font="cjk", size=72, x=0.4, y=0.3),
)
DURATION = 24.0


class CountingEngine:
    """Wraps the real rapidocr engine and counts the frames handed to it."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.calls = 0

    def __call__(self, image: np.ndarray) -> Any:
        self.calls += 1
        return self.engine(image)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ocr")
    write_text_clip(d / "panning.mp4", OVERLAYS, duration=DURATION, size=SIZE)
    write_text_clip(d / "static.mp4", OVERLAYS, duration=DURATION, size=SIZE, moving=False)
    write_text_clip(d / "no-text.mp4", (), duration=12.0, size=SIZE, seed=5)
    return d


def _counting_source() -> ScreenTextSource:
    src = ScreenTextSource(threads=1)
    src._engine = CountingEngine(src._ensure_engine())
    return src


@pytest.fixture(scope="module")
def read(clips: Path) -> dict[str, tuple[list[WordLine], int, int, ScreenTextSource]]:
    """Each clip read once (OCR is the slow part): lines, OCR calls, frames sampled, the source."""
    out = {}
    for name in ("panning.mp4", "static.mp4", "no-text.mp4"):
        src = _counting_source()
        lines = src.extract(str(clips / name))
        out[name] = (lines, src._engine.calls, src.frames_sampled, src)
    return out


def _found(lines: list[WordLine], text: str) -> list[WordLine]:
    import difflib

    key = text_key(text)
    return [ln for ln in lines if difflib.SequenceMatcher(None, text_key(ln.text), key).ratio() >= 0.8]


@pytest.mark.parametrize("clip", ["panning.mp4", "static.mp4"])
def test_drawn_text_is_found_at_its_times(read: dict, clip: str) -> None:
    lines, _, _, source = read[clip]
    for o in OVERLAYS:
        hits = _found(lines, o.text)
        assert len(hits) == 1, (o.text, [(ln.start, ln.end, ln.text, ln.confidence) for ln in lines])
        line = hits[0]
        assert line.source == WRITTEN and (line.confidence or 0) >= source.min_confidence
        # Read at most min_gap after it appears; ends by the first read frame without it.
        assert o.start - 0.01 <= line.start <= o.start + source.min_gap + 0.01, (o, line)
        assert o.end - 0.01 <= line.end <= o.end + source.min_gap + 0.01, (o, line)
    # Nothing else passes the threshold (the rings and lines of the texture are not text).
    assert len(lines) == len(OVERLAYS), [(ln.text, ln.confidence) for ln in lines]


def test_textured_frames_without_text_give_nothing(read: dict) -> None:
    lines, calls, _, _ = read["no-text.mp4"]
    assert lines == [] and calls >= 1  # it did look


def test_ocr_runs_on_a_bounded_number_of_frames(read: dict) -> None:
    _, panning, sampled, source = read["panning.mp4"]
    # A picture that changes all the time is read once per min_gap, never more...
    assert panning <= source.max_frames(DURATION) == 13
    assert sampled >= DURATION - 1  # ...while every second was looked at.
    _, static, _, _ = read["static.mp4"]
    # A still picture is read when text comes or goes (4 overlays: 8 changes) plus the first frame.
    assert static <= 1 + 2 * len(OVERLAYS)
    assert static < panning


def test_unreadable_video_is_a_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 5000)
    with pytest.raises(MediaError):
        ScreenTextSource().extract(str(bad))


# -- the pure parts: frame choice and merging ---------------------------------------------------
def _frame(level: int, patch: bool = False) -> np.ndarray:
    rng = np.random.default_rng(level)
    img = np.clip(rng.normal(level, 15, (90, 160, 3)), 0, 255).astype(np.uint8)
    if patch:
        img[60:80, 20:100] = 250  # a caption appears in a corner
    return img


def test_frame_chooser_reads_changes_no_sooner_than_min_gap_and_refreshes() -> None:
    chooser = FrameChooser(min_gap=2.0, max_gap=10.0)
    base, caption = _frame(100), _frame(100, patch=True)
    picks = [t for t in range(0, 25) if chooser.should_read(float(t), caption if 5 <= t < 8 else base)]
    # first frame; the caption at 5 (2 s after nothing); its end at 8; refreshes 10 s later.
    assert picks == [0, 5, 8, 18]
    flat = np.zeros((90, 160, 3), dtype=np.uint8)
    assert not FrameChooser(min_gap=2.0, max_gap=10.0).should_read(0.0, flat)


def test_merger_joins_sightings_and_tolerates_misreads() -> None:
    m = TextMerger()
    m.add(0.0, [("SC 12 TK 3", 0.95)])
    m.add(2.0, [("SC12 TK 3", 0.90), ("JANE DOE", 0.99)])
    m.add(4.0, [("JANE D0E", 0.97)])
    m.add(6.0, [])
    lines = m.finish(8.0)
    assert [(ln.start, ln.end, ln.text) for ln in lines] == [(0.0, 4.0, "SC 12 TK 3"), (2.0, 6.0, "JANE DOE")]
    assert lines[0].confidence == pytest.approx(0.925)
    m = TextMerger()
    m.add(0.0, [("END CARD", 0.9)])
    assert [(ln.start, ln.end) for ln in m.finish(3.0)] == [(0.0, 3.0)]


def test_cancel_stops_before_reading(clips: Path) -> None:
    import threading

    src = _counting_source()
    cancel = threading.Event()
    cancel.set()
    assert src.extract(str(clips / "static.mp4"), cancel) == [] and src._engine.calls == 0
