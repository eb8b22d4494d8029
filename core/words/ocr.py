"""The on-screen text source: rapidocr (PP-OCR, ONNX) on the few sampled frames where the picture changed."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .screen_text import FrameChooser, TextMerger
from .types import WRITTEN, WordLine

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Boxes below this recognition score are dropped. Measured (docs/benchmarks.md, "Words in
# footage"): drawn text on textured backgrounds scored 0.959-1.000; every box read on no-text
# frames (textured 720p/360p clips, real sample footage) scored at most 0.63 (median 0.32).
MIN_CONFIDENCE = 0.85
# Width frames are handed to the reader at. The detector rescales to its own input size, so the
# width barely moves the cost (measured on 720p frames: 1.36 CPU-s at 1280, 1.35 at 960, with the
# default detector size); 960 keeps the decoded thumbnail small.
OCR_WIDTH = 960
# Detector input short side. rapidocr's default, 736, scales frames UP; 544 cost 0.76 CPU-s per
# frame instead of 1.35 and read the same five captions (DejaVu and Noto CJK, 22-72 px high).
DET_SHORT_SIDE = 544


class ScreenTextSource:
    """Reads text that is visible in the picture (slates, signs, titles, lower thirds).

    OCR costs ~0.8-0.9 CPU-seconds per frame here, so it never runs on every sampled frame: frames
    are sampled every ``sample_every`` seconds (cheap), and only a frame whose picture changed
    against the last frame read (see FrameChooser) is read, at most one per ``min_gap``
    seconds, plus a refresh every ``max_gap`` seconds of unchanged picture. A file is read on at
    most ``max_frames(duration)`` frames. The same text on consecutive read frames becomes one
    line spanning from its first sighting to the first read frame that no longer shows it.
    """

    name = WRITTEN

    def __init__(
        self,
        *,
        sample_every: float = 1.0,
        min_gap: float = 2.0,
        max_gap: float = 30.0,
        min_confidence: float = MIN_CONFIDENCE,
        ocr_width: int = OCR_WIDTH,
        threads: int = 0,
        model_root_dir: str | None = None,
    ) -> None:
        """
        Args:
            sample_every: seconds between the frames compared for change (decoded, not read).
            min_gap: the fewest seconds between two read frames (the bound on OCR cost).
            max_gap: read again after this long even when the picture did not change.
            min_confidence: boxes scoring below it are dropped as junk.
            ocr_width: frames are scaled to this width (never up) before reading.
            threads: onnxruntime threads; 0 lets it decide.
            model_root_dir: where rapidocr finds (or else downloads) its models; None: its package
                folder. Cluster workers get the driver's copies here (core/cluster_words_worker.py).
        """
        if not 0 < sample_every <= min_gap <= max_gap:
            raise ValueError("need 0 < sample_every <= min_gap <= max_gap")
        self.sample_every = sample_every
        self.min_gap = min_gap
        self.max_gap = max_gap
        self.min_confidence = min_confidence
        self.ocr_width = ocr_width
        self.threads = threads
        self.model_root_dir = model_root_dir
        self._engine: Any = None
        self._lock = threading.Lock()
        self.frames_read = 0  # OCR calls in the last extract (the tests bound it; the benchmark reports it)
        self.frames_sampled = 0

    def max_frames(self, duration: float) -> int:
        """The most frames one file of ``duration`` seconds can cost."""
        return int(max(0.0, duration) // self.min_gap) + 1

    def extract(self, path: str, cancel: threading.Event | None = None) -> list[WordLine]:
        """Every piece of on-screen text in ``path`` with the time range it is visible.

        When ``cancel`` is set, the lines read so far are returned at once (the caller must not
        store them as complete).

        Raises:
            MediaError: the video cannot be read.
        """
        from ..media import probe, sample_frames

        p = Path(path)
        info = probe(p)
        chooser = FrameChooser(min_gap=self.min_gap, max_gap=self.max_gap)
        merger = TextMerger()
        self.frames_read = self.frames_sampled = 0
        last_t = 0.0
        width = min(self.ocr_width, info.width)
        for frame in sample_frames(p, every=self.sample_every, size=8, thumb_width=width, info=info, cancel=cancel):
            if cancel is not None and cancel.is_set():
                break
            self.frames_sampled += 1
            last_t = frame.t
            assert frame.thumb is not None
            if not chooser.should_read(frame.t, frame.thumb):
                continue
            self.frames_read += 1
            merger.add(frame.t, self.read_frame(frame.thumb))
        return merger.finish(last_t + self.sample_every)

    def read_frame(self, rgb: np.ndarray) -> list[tuple[str, float]]:
        """(text, confidence) of each text box in one RGB frame, junk below the threshold dropped."""
        return [(t, s) for t, s in self.read_frame_raw(rgb) if s >= self.min_confidence]

    def read_frame_raw(self, rgb: np.ndarray) -> list[tuple[str, float]]:
        """Every box rapidocr reads, with no threshold (the benchmark measures the threshold on this)."""
        engine = self._ensure_engine()
        bgr = rgb[:, :, ::-1].copy()  # rapidocr follows OpenCV: BGR arrays
        result = engine(bgr)
        texts = getattr(result, "txts", None) or ()
        scores = getattr(result, "scores", None) or ()
        return [(" ".join(str(t).split()), float(s)) for t, s in zip(texts, scores, strict=False) if str(t).strip()]

    def _ensure_engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                # rapidocr logs each model path at start and each empty frame: keep the CLI's stderr clean.
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)
                from rapidocr import RapidOCR

                params: dict[str, Any] = {
                    "Global.log_level": "error",  # "no text found" is a warning per empty frame
                    "Global.text_score": 0.0,  # thresholded here, with the measured value
                    "Global.use_cls": False,  # footage text is upright; the angle classifier costs ~10%
                    "Det.limit_side_len": DET_SHORT_SIDE,
                }
                if self.model_root_dir:
                    params["Global.model_root_dir"] = self.model_root_dir
                if self.threads:
                    params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
                    params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
                try:
                    self._engine = RapidOCR(params=params)
                except Exception as e:  # a broken onnxruntime install, missing bundled models
                    raise RuntimeError(f"the on-screen text reader (rapidocr) does not start: {e}") from None
            return self._engine
