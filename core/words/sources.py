"""Which words sources a library runs: subtitles always; speech and on-screen text when their modules load."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .types import SAID, SOURCES, SUBTITLE, WRITTEN, WordSource

log = logging.getLogger(__name__)

# source name -> (module, factory or class names tried in order). The speech and OCR modules
# are built on their own branch; any of these entry points that exists is used.
_OPTIONAL = {
    SAID: ("reelseek.core.words.speech", ("create_source", "SpeechSource")),
    WRITTEN: ("reelseek.core.words.ocr", ("create_source", "OcrSource", "OCRSource")),
}


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
    names: Sequence[str], *, models_dir: Path | None = None, settings: Any = None
) -> tuple[list[WordSource], dict[str, str]]:
    """The sources among ``names`` that can run here, and a reason for each that cannot."""
    sources: list[WordSource] = []
    missing: dict[str, str] = {}
    for name in names:
        if name not in SOURCES:
            continue
        if name == SUBTITLE:
            from .subtitles import SubtitleSource

            sources.append(SubtitleSource())
            continue
        module_name, entries = _OPTIONAL[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            log.info("%s words are not available in this build: %s", name, e)
            continue
        made = None
        for entry in entries:
            factory = getattr(module, entry, None)
            if factory is None:
                continue
            try:
                made = _make(factory, models_dir, settings)
            except Exception as e:  # a missing model must not stop the subtitles or the visual pass
                missing[name] = str(e) or type(e).__name__
            break
        if made is not None:
            sources.append(made)
        elif name not in missing:
            missing[name] = f"{module_name} has no source factory"
        if name in missing:
            # Each file then reports why (e.g. "no speech model installed"); once the source
            # can run, its signature differs and the files are read for real.
            sources.append(UnavailableSource(name, missing[name]))
    return sources, missing


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
