"""Build the speech and on-screen text sources the settings ask for (subtitles are built elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .types import WordSource


def build_sources(settings: Any, models_dir: Path, device: str) -> list[WordSource]:
    """The speech and on-screen-text sources for an indexing run, in the order to run them.

    Settings fields read (absent ones take the default shown, so older settings files work):
    ``words_speech`` (True), ``words_ocr`` (True), ``speech_model_id`` (None: $REELSEEK_SPEECH_MODEL,
    else the device default), ``speech_language`` (None: detect), ``ocr_min_gap`` (2.0 s between
    frames read for on-screen text: the bound on OCR cost, docs/benchmarks.md). Nothing heavy is imported or
    loaded here: the Whisper model loads on the first file with audio, rapidocr on the first frame
    read, and a missing speech model surfaces as each file's words status (ModelError with how to
    get it) instead of stopping the run.

    Args:
        settings: a ``reelseek.core.settings.Settings`` (or anything with those attributes).
        models_dir: the weights cache (``data_paths().models``); speech models live in ``speech/``.
        device: the resolved device ("cpu", "cuda", "mps"); Whisper runs on CUDA or the CPU.

    Raises:
        ModelError: the configured speech model id is not in the registry.
    """
    from ..models.speech_registry import get_speech_spec, resolve_speech_model_id
    from .ocr import ScreenTextSource
    from .speech import SpeechSource
    from .speech_models import model_folder

    sources: list[WordSource] = []
    if getattr(settings, "words_speech", True):
        model_id = resolve_speech_model_id(None, device, settings_value=getattr(settings, "speech_model_id", None))
        spec = get_speech_spec(model_id)
        sources.append(
            SpeechSource(
                model_folder(spec, models_dir),
                device=device,
                compute_type="auto",
                language=getattr(settings, "speech_language", None) or None,
                model_id=spec.id,
            )
        )
    if getattr(settings, "words_ocr", True):
        sources.append(ScreenTextSource(min_gap=float(getattr(settings, "ocr_min_gap", None) or 2.0)))
    return sources
