"""Versioned user settings, saved as JSON next to the library (GUI geometry stays in QSettings)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SETTINGS_VERSION = 2
# Keyframes when they are at most this far apart, edges refined (core/sampling_edges.py): within
# 0.02 of strict 1 frame/s on every quality figure with about a third fewer frames (issue 11).
DEFAULT_MAX_SAMPLE_EVERY = 2.0


@dataclass
class Settings:
    """What the user can change in the settings dialog or on the command line."""

    model_id: str | None = None  # None: the registry's default (or $REELSEEK_MODEL)
    device: str = "auto"  # auto | cpu | cuda | mps
    sample_every: float = 1.0  # seconds between sampled frames
    # Allow up to this when only keyframes then need decoding (picture changes between them are
    # still sampled at sample_every); None: strict, exactly one frame per sample_every.
    max_sample_every: float | None = DEFAULT_MAX_SAMPLE_EVERY
    thumb_cache_mb: int = 512  # thumbnail cache size limit
    rescan_interval_s: int = 300  # periodic rescan for drives without reliable file events
    timecode_display: str = "smpte"  # "smpte": source HH:MM:SS:FF; "seconds": HH:MM:SS.mmm from 0
    words: bool = True  # read subtitles / speech / on-screen text after the visual pass
    words_sources: list[str] = field(default_factory=lambda: ["subtitle", "said", "written"])
    group_takes: bool = True  # fold copies, re-encodes, trims and proxies of one shot into one result
    version: int = SETTINGS_VERSION

    @classmethod
    def load(cls, file: Path) -> Settings:
        """Read settings; a missing or unreadable file gives defaults (never an exception)."""
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        raw = _migrate(raw)
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}  # validate() checks them
        s = cls(**values)
        try:
            s.validate()
        except (ValueError, TypeError):
            return cls()  # a hand-edited file with a bad value must not stop the app starting
        return s

    def save(self, file: Path) -> None:
        """Write atomically so a crash never leaves half a settings file."""
        self.validate()
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, file)

    def indexer_max_every(self) -> float | None:
        """IndexerConfig.max_every for these settings: None (strict) or at least sample_every."""
        if self.max_sample_every is None:
            return None
        return max(float(self.max_sample_every), float(self.sample_every))

    def validate(self) -> None:
        from .models.device import DEVICE_CHOICES

        if self.device not in DEVICE_CHOICES:
            raise ValueError(f"unknown device {self.device!r} (use auto, cpu, cuda or mps)")
        if not 0.1 <= float(self.sample_every) <= 30:
            raise ValueError(f"sample_every must be between 0.1 and 30 seconds, not {self.sample_every}")
        # Below sample_every it simply never applies (Library.indexer_max_every), so it is not refused.
        if self.max_sample_every is not None and not 0.1 <= float(self.max_sample_every) <= 30:
            raise ValueError(f"max_sample_every must be between 0.1 and 30 seconds, not {self.max_sample_every}")
        if int(self.thumb_cache_mb) < 16:
            raise ValueError("thumbnail cache must be at least 16 MB")
        if self.timecode_display not in ("smpte", "seconds"):
            raise ValueError(f"timecode_display must be smpte or seconds, not {self.timecode_display!r}")
        if not isinstance(self.words_sources, list) or any(
            s not in ("subtitle", "said", "written") for s in self.words_sources
        ):
            raise ValueError(f"words_sources must list some of subtitle, said, written, not {self.words_sources!r}")
        if not isinstance(self.group_takes, bool):
            raise ValueError(f"group_takes must be true or false, not {self.group_takes!r}")
        if int(self.rescan_interval_s) < 10:
            raise ValueError("rescan interval must be at least 10 seconds")


def _migrate(raw: dict[str, object]) -> dict[str, object]:
    """Step settings written by older versions up to SETTINGS_VERSION."""
    version = raw.get("version", 1)
    version = int(version) if isinstance(version, int) else 1
    if version < 2 and raw.get("max_sample_every") is None:
        # v1 saved null for "the default" (strict then; nothing could choose it): take the new
        # default, keyframes + edges. Strict is now an explicit choice that v2 files keep.
        raw["max_sample_every"] = DEFAULT_MAX_SAMPLE_EVERY
    raw["version"] = max(version, SETTINGS_VERSION)
    return raw
