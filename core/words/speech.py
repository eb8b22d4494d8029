"""The speech source: what is said in a file, as timed lines with per-word times (faster-whisper)."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..models.registry import ModelError
from .audio import OVERLAP_S, WINDOW_S, audio_windows, has_audio
from .types import SAID, WordLine

# A silence longer than this between two words starts a new line (people pause ~0.2-0.8 s
# between sentences; longer gaps are VAD-removed silence that Whisper never heard).
PAUSE_S = 1.5


class SpeechSource:
    """Transcribes a file's main audio stream with a Whisper model in CTranslate2 format.

    Lines are Whisper's segments; ``words`` holds each word's (start, end, text) and
    ``confidence`` is the mean word probability. Times are seconds on the file's visual
    timeline (from its first video frame), so they line up with visual moments.

    The model loads on the first file that has audio (a library without speech never pays
    for it) and is shared by later calls; ``extract`` may run in one worker thread at a time.
    """

    name = SAID

    def __init__(
        self,
        model_dir: Path,
        device: str = "cpu",
        compute_type: str = "auto",
        language: str | None = None,
        *,
        model_id: str | None = None,
        cpu_threads: int = 0,
        beam_size: int = 5,
        window_s: float = WINDOW_S,
        overlap_s: float = OVERLAP_S,
    ) -> None:
        """
        Args:
            model_dir: the model's folder (``speech_models.model_folder(spec, models_dir)``).
            device: "cpu" or "cuda"; anything else runs on the CPU.
            compute_type: "auto" (int8 on CPU, float16 on CUDA) or a CTranslate2 compute type.
            language: ISO 639-1 code to skip detection ("ko"); None detects per 10-minute window.
            model_id: the registry id, for messages ("speech model base is not on this machine").
            cpu_threads: CTranslate2 threads; 0 lets it decide.
            beam_size: 5 (faster-whisper's default). Measured with tiny.en on the espeak set
                (docs/benchmarks.md): greedy (1) saves 25-30 % CPU but raises the word error rate
                from 0.36 to 0.45 with background noise, so the beam stays.
            window_s, overlap_s: audio is transcribed in windows this long sharing this much
                (bounded memory for 10-hour files; see core.words.audio).
        """
        self.model_dir = Path(model_dir)
        self.device = "cuda" if device == "cuda" else "cpu"
        self.compute_type = compute_type
        self.language = language
        self.model_id = model_id or self.model_dir.name
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.window_s = window_s
        self.overlap_s = overlap_s
        self._model: Any = None
        self._lock = threading.Lock()
        self.audio_seconds = 0.0  # audio decoded and transcribed, for throughput reports

    def extract(self, path: str, cancel: threading.Event | None = None) -> list[WordLine]:
        """Every spoken line in ``path``; [] when it has no audio stream or only silence.

        When ``cancel`` is set the lines found so far are returned at once: the caller, which
        set it, must not record them as the file's complete transcript.

        Raises:
            MediaError: the file or its audio cannot be read (reason in the message).
            ModelError: the speech model is missing or does not load.
        """
        p = Path(path)
        if not has_audio(p):  # the cost of a file without sound: opening its header
            return []
        model = self._ensure_model()
        lines: list[WordLine] = []
        for window in audio_windows(p, window_s=self.window_s, overlap_s=self.overlap_s, cancel=cancel):
            if cancel is not None and cancel.is_set():
                break
            self.audio_seconds += window.duration
            segments, info = model.transcribe(
                window.samples,
                language=self.language,
                word_timestamps=True,
                vad_filter=True,  # silence and music never reach the decoder (no "Thank you." ghosts)
                beam_size=self.beam_size,
                condition_on_previous_text=False,  # stops one misheard line repeating through a window
            )
            language = self.language or getattr(info, "language", None)
            for seg in segments:  # a generator: each step decodes one more segment
                if cancel is not None and cancel.is_set():
                    break
                for line in _lines(seg, window.start, language):
                    if window.keep_from <= (line.start + line.end) / 2 < window.keep_to and line.end > 0:
                        lines.append(_clip_to_picture(line))
        return lines

    def _ensure_model(self) -> Any:
        with self._lock:
            if self._model is None:
                from .speech_models import _load

                if not (self.model_dir / "model.bin").is_file():
                    raise ModelError(
                        f"the speech model {self.model_id} is not on this machine: run `reelseek-cli models "
                        f"download-speech {self.model_id}` or import a model folder with "
                        f"`reelseek-cli models import-speech DIR --as {self.model_id}`"
                    )
                compute = self.compute_type
                if compute == "auto":
                    compute = "float16" if self.device == "cuda" else "int8"
                threads = self.cpu_threads
                where, mid = self.model_dir, self.model_id
                model = _load(where, mid, device=self.device, compute_type=compute, cpu_threads=threads)
                if self.language not in (None, "en") and not model.model.is_multilingual:
                    raise ModelError(
                        f"the speech model {mid} understands English only, but the speech language is set to "
                        f"{self.language!r}: choose a multilingual model (e.g. base, small, large-v3-turbo)"
                    )
                self._model = model
            return self._model


def _clip_to_picture(line: WordLine) -> WordLine:
    """Sound from before the first video frame (negative times) is cut at 0, where the picture starts."""
    if line.start >= 0:
        return line
    words = tuple((max(0.0, a), b, t) for a, b, t in line.words if b > 0)
    return replace(line, start=0.0, words=words)


def _lines(seg: Any, offset: float, language: str | None) -> list[WordLine]:
    """WordLines from one faster-whisper Segment, shifted by the window's start.

    VAD glues speech across silences before Whisper sees it, so one segment can hold phrases
    said seconds apart; it is split wherever two words are more than PAUSE_S apart, so that a
    line's range covers speech, not the silence between.
    """
    words = [
        (offset + float(w.start), offset + float(w.end), w.word.strip(), float(w.probability))
        for w in (seg.words or ())
        if w.word.strip()
    ]
    if not words:
        text = " ".join(str(seg.text).split())
        if not text:
            return []
        # Without words (rare), the segment's average log-probability is the closest stand-in.
        conf = math.exp(min(0.0, float(seg.avg_logprob)))
        return [_make(offset + float(seg.start), offset + float(seg.end), text, language, conf, ())]
    groups: list[list[tuple[float, float, str, float]]] = [[words[0]]]
    for w in words[1:]:
        if w[0] - groups[-1][-1][1] > PAUSE_S:
            groups.append([])
        groups[-1].append(w)
    lines = []
    for g in groups:
        conf = sum(w[3] for w in g) / len(g)
        timed = tuple((round(a, 3), round(b, 3), t) for a, b, t, _ in g)
        lines.append(_make(g[0][0], g[-1][1], " ".join(w[2] for w in g), language, conf, timed))
    return lines


def _make(
    start: float, end: float, text: str, language: str | None, conf: float, words: tuple[tuple[float, float, str], ...]
) -> WordLine:
    return WordLine(
        start=round(start, 3),
        end=round(max(end, start), 3),
        text=text,
        source=SAID,
        language=language,
        confidence=round(min(1.0, max(0.0, conf)), 4),
        words=words,
    )
