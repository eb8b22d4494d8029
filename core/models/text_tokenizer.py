"""CLIP's byte-pair tokenizer without torch: open_clip's vocabulary, its cleaning rules, numpy output.

open_clip's ``SimpleTokenizer`` is pure Python, but importing it imports torch (seconds, hundreds
of MB); a text search needs neither. This reads the BPE merge list that ships inside the
installed open_clip wheel (located with ``importlib.util.find_spec``, which does not run the
package) and gives the same token ids; ``tests/core/test_text_encoder.py`` holds it to that.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
_N_MERGES = 49152 - 256 - 2  # the merges CLIP's vocabulary uses (the file holds more)
_SPECIALS = ("<start_of_text>", "<end_of_text>")
# The word pattern of open_clip's tokenizer (case-insensitive, \p classes need `regex`).
_PATTERN = r"<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"


def vocab_path() -> Path:
    """The BPE file of the installed open_clip (raises FileNotFoundError when absent)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("open_clip is not installed")
    path = Path(spec.origin).parent / VOCAB_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    return path


@lru_cache(maxsize=1)
def _byte_chars() -> dict[int, str]:
    # Every byte maps to a printable character: printable Latin-1 bytes to themselves, the
    # rest to code points from 256 up, in byte order (GPT-2/CLIP's reversible byte encoding).
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _vocab_chars() -> list[str]:
    # The vocabulary lists the printable bytes' characters first, then the remapped ones.
    table = _byte_chars()
    return sorted(table.values(), key=lambda c: (ord(c) >= 256, ord(c)))


def _clean(text: str) -> str:
    """open_clip's 'lower' cleaning: ftfy, double HTML unescape, collapse whitespace, lower-case."""
    # ftfy only changes text with non-ASCII characters, control characters or HTML entities;
    # importing it costs ~0.15 s, so plain printable ASCII skips it (same result).
    if not (text.isascii() and text.isprintable() and "&" not in text):
        import ftfy

        text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text)).strip()
    return " ".join(text.split()).lower()


class ClipTokenizer:
    """Token ids for CLIP text towers; thread-safe, loads its vocabulary once (~0.1 s)."""

    def __init__(self, context_length: int = 77, path: Path | None = None) -> None:
        import regex

        # Merges are kept as their "first second" lines: no tuple per merge, ~3x quicker to load.
        with gzip.open(path or vocab_path()) as f:
            text = f.read().decode("utf-8")
        merges = text.split("\n", _N_MERGES + 1)[1 : _N_MERGES + 1]
        chars = _vocab_chars()
        vocab = [*chars, *(c + "</w>" for c in chars), *(m.replace(" ", "") for m in merges), *_SPECIALS]
        self._ids = dict(zip(vocab, range(len(vocab)), strict=True))
        self._ranks = dict(zip(merges, range(len(merges)), strict=True))
        self._pattern = regex.compile(_PATTERN, regex.IGNORECASE)
        self._words: dict[str, tuple[int, ...]] = {}
        self._lock = threading.Lock()
        self.context_length = int(context_length)
        self.sot, self.eot = self._ids[_SPECIALS[0]], self._ids[_SPECIALS[1]]

    def encode(self, text: str) -> list[int]:
        """The ids of one text, without start/end tokens or truncation."""
        out: list[int] = []
        enc = _byte_chars()
        for word in self._pattern.findall(_clean(text)):
            ids = self._words.get(word)
            if ids is None and word in _SPECIALS:  # the pattern keeps them whole; open_clip maps them as-is
                ids = (self._ids[word],)
            if ids is None:
                pieces = self._merge("".join(enc[b] for b in word.encode("utf-8")))
                ids = tuple(self._ids[p] for p in pieces)
                with self._lock:
                    if len(self._words) > 50_000:  # bounded: a long-lived app sees many words
                        self._words.clear()
                    self._words[word] = ids
            out.extend(ids)
        return out

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        """int64 (N, L): start token, ids, end token; cut to the context length with the end
        token kept last, as open_clip does, and zero-padded only to the longest text (L <= context)."""
        items = [texts] if isinstance(texts, str) else list(texts)
        rows = []
        for t in items:
            ids = [self.sot, *self.encode(t), self.eot]
            if len(ids) > self.context_length:
                ids = ids[: self.context_length]
                ids[-1] = self.eot
            rows.append(ids)
        out = np.zeros((len(rows), max((len(r) for r in rows), default=2)), dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out

    def _merge(self, word: str) -> list[str]:
        # Standard BPE: repeatedly join the adjacent pair with the lowest merge rank; the last
        # symbol carries the end-of-word marker.
        parts = [*word[:-1], word[-1] + "</w>"]
        ranks = self._ranks
        while len(parts) > 1:
            best, best_rank = -1, len(ranks)
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + " " + parts[i + 1])
                if r is not None and r < best_rank:
                    best, best_rank = i, r
            if best < 0:
                break
            first, second = parts[best], parts[best + 1]
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts
