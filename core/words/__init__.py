"""Words in footage: what is said (speech), written on screen (OCR) and subtitled, as timed lines."""

from .types import SAID, SOURCES, SUBTITLE, WRITTEN, WordLine, WordSource

__all__ = ["SAID", "SOURCES", "SUBTITLE", "WRITTEN", "WordLine", "WordSource"]
