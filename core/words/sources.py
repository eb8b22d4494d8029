"""Which words sources run: subtitles always; speech and on-screen text through build_sources (settings)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .types import SAID, SOURCES, SUBTITLE, WRITTEN, WordSource

log = logging.getLogger(__name__)


def parse_sources(text: str | Sequence[str]) -> tuple[str, ...]:
    """'said,sub' -> ('said', 'subtitle'); accepts the aliases the search syntax accepts."""
    from .query import SOURCE_ALIASES

    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for raw in items:
        name = raw.strip().lower()
        if not name:
            continue
        if name not in SOURCE_ALIASES:
            known = ", ".join(sorted(SOURCE_ALIASES))
            raise ValueError(f"unknown source {raw.strip()!r} (use one of: {known})")
        if SOURCE_ALIASES[name] not in out:
            out.append(SOURCE_ALIASES[name])
    return tuple(out)


def load_sources(
    names: Sequence[str], *, models_dir: Path, settings: Any = None, device: str = "cpu"
) -> tuple[list[WordSource], dict[str, str]]:
    """The sources among ``names`` for an indexing run, and the reason for each that cannot run.

    A source that cannot be built (an unknown speech model id, a missing package) is replaced
    by an UnavailableSource, so every file's words status says why instead of nothing at all.
    """
    sources: list[WordSource] = []
    missing: dict[str, str] = {}
    for name in (n for n in SOURCES_ORDER if n in names):
        if name == SUBTITLE:
            from .subtitles import SubtitleSource

            sources.append(SubtitleSource())
            continue
        only = _OnlySource(settings, speech=name == SAID, ocr=name == WRITTEN)
        try:
            sources += build_sources(only, models_dir, device)
        except Exception as e:  # a bad speech setting must not stop the subtitles or the visual pass
            missing[name] = str(e) or type(e).__name__
            log.warning("%s words cannot run: %s", name, missing[name])
            sources.append(UnavailableSource(name, missing[name]))
    return sources, missing


class _OnlySource:
    """The settings as build_sources reads them, with exactly one of speech / OCR switched on."""

    def __init__(self, settings: Any, *, speech: bool, ocr: bool) -> None:
        self._settings = settings
        self.words_speech = speech
        self.words_ocr = ocr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._settings, name, None)  # speech_model_id, speech_language, ocr_min_gap, ...


# Cheapest first: subtitles are read in milliseconds, speech and OCR take seconds per file.
SOURCES_ORDER = (SUBTITLE, SAID, WRITTEN)
assert set(SOURCES_ORDER) == set(SOURCES)


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


class UnavailableSource:
    """Stands in for a source that cannot run here, so every file's words status says why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def signature(self, path: str) -> str:
        return f"unavailable:{self.reason}"

    def extract(self, path: str, cancel: object = None) -> list:  # type: ignore[type-arg]
        raise RuntimeError(self.reason)


def _make(factory: Any, models_dir: Path | None, settings: Any) -> WordSource:
    for kwargs in ({"models_dir": models_dir, "settings": settings}, {"models_dir": models_dir}, {}):
        try:
            return factory(**kwargs)  # type: ignore[no-any-return]
        except TypeError as e:
            if "argument" not in str(e):
                raise
    raise TypeError(f"cannot construct {factory!r}")
