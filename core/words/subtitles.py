"""Subtitles as a words source: sidecar .srt/.vtt/.ass/.ssa files (pysubs2) and embedded text streams (PyAV)."""

from __future__ import annotations

import codecs
import html
import logging
import os
import re
import threading
from pathlib import Path

from .types import SUBTITLE, WordLine

log = logging.getLogger(__name__)

SIDECAR_EXTS = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ssa"}
# Text subtitle codecs PyAV/FFmpeg decode to ASS dialogue; bitmap ones (PGS, DVD) need OCR.
TEXT_CODECS = {"mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text", "microdvd", "sami", "realtext"}
# Encodings charset-normalizer may pick from when a file is not UTF-8: the ones subtitle files
# are written in. Without this list a short French file came back as cp1250 ("crčme").
_ENCODINGS = [
    "utf_8", "utf_16", "cp949", "euc_kr", "shift_jis", "euc_jp", "gb18030", "big5", "cp1252", "latin_1",
    "cp1251", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256", "iso8859_15",
]  # fmt: skip
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LANG_SUFFIX = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")
_ISO639_2 = {"eng": "en", "kor": "ko", "jpn": "ja", "zho": "zh", "chi": "zh", "fra": "fr", "fre": "fr", "deu": "de",
             "ger": "de", "spa": "es", "ita": "it", "por": "pt", "rus": "ru"}  # fmt: skip
_VTT_SKIP_BLOCK = re.compile(r"^(NOTE|STYLE|REGION)(\s|$)")


class SubtitleError(Exception):
    """A subtitle file or stream that cannot be read; str() is the reason shown to the user."""


def decode_text(data: bytes, name: str = "subtitle") -> str:
    """Text of a subtitle file: BOM, then UTF-8, then charset-normalizer among subtitle encodings."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError as e:
                raise SubtitleError(f"{name}: not valid {enc} text despite its byte-order mark ({e.reason})") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_ENCODINGS).best()
    if best is None:
        raise SubtitleError(f"{name}: unknown text encoding (not UTF-8, UTF-16 or a known legacy code page)")
    return str(best)


def _strip_vtt_blocks(text: str) -> str:
    # pysubs2 glues NOTE/STYLE/REGION blocks onto the cue before them; drop them first.
    # It also keeps a cue identifier that is not a number ("intro") as text of the cue before.
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for b in blocks:
        if _VTT_SKIP_BLOCK.match(b.lstrip("\n")):
            continue
        lines = b.strip("\n").split("\n")
        if len(lines) >= 2 and "-->" not in lines[0] and "-->" in lines[1]:
            lines = lines[1:]
        out.append("\n".join(lines))
    return "\n\n".join(out)


def clean_line(text: str) -> str:
    """Plain text of a cue: styling tags gone, entities decoded, one line."""
    from pysubs2 import SSAEvent

    plain = SSAEvent(text=text).plaintext  # drops {\i1}-style overrides, \N -> newline
    plain = re.sub(r"</?[a-zA-Z][^>]*>", "", plain)  # HTML-ish tags pysubs2 left (<font>, <v Name>, <c.x>)
    return " ".join(html.unescape(plain).split())


def sidecar_language(video: Path, sidecar: Path) -> str | None:
    """'en' for clip.en.srt next to clip.mp4; None for clip.srt."""
    middle = sidecar.name[len(video.stem) : -len(sidecar.suffix)].strip(".")
    return middle.replace("_", "-") if middle and _LANG_SUFFIX.match(middle) else None


def find_sidecars(video: str | os.PathLike[str], listing: list[str] | None = None) -> list[Path]:
    """Subtitle files next to a video with its stem: clip.srt, clip.en.srt, clip.ko.vtt, ..."""
    video = Path(video)
    stem = video.stem
    out = []
    if listing is None:
        try:
            listing = os.listdir(video.parent)
        except OSError:
            return []
    for name in listing:
        p = video.parent / name
        if p.suffix.lower() not in SIDECAR_EXTS or not p.name.startswith(stem + "."):
            continue
        middle = p.name[len(stem) : -len(p.suffix)]
        if middle and not (middle.startswith(".") and _LANG_SUFFIX.match(middle[1:])):
            continue  # clip.final.srt belongs to another video (clip.final.mp4), not clip.mp4
        if p.is_file():
            out.append(p)
    return sorted(out)


def read_sidecar(path: str | os.PathLike[str], language: str | None = None) -> list[WordLine]:
    """Every non-empty cue of a subtitle file, times in seconds."""
    import pysubs2

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SubtitleError(f"{path.name}: cannot read ({e.strerror or e})") from e
    if not data.strip():
        raise SubtitleError(f"{path.name}: empty subtitle file")
    text = decode_text(data, path.name)
    fmt = SIDECAR_EXTS[path.suffix.lower()]
    if fmt == "vtt":
        text = _strip_vtt_blocks(text)
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except Exception as e:  # pysubs2 raises several types for malformed files
        raise SubtitleError(f"{path.name}: not a readable {fmt.upper()} file ({e})") from e
    lines = _events_to_lines(subs, language)
    if not lines:
        raise SubtitleError(f"{path.name}: no subtitle cues could be read (is it a {fmt.upper()} file?)")
    return lines


def _events_to_lines(subs: object, language: str | None) -> list[WordLine]:
    out = []
    for ev in subs:  # type: ignore[attr-defined]
        if ev.is_comment or ev.end <= ev.start:
            continue
        text = clean_line(ev.text)
        if text:
            out.append(WordLine(ev.start / 1000, ev.end / 1000, text, SUBTITLE, language))
    return out


def read_embedded(path: str | os.PathLike[str], cancel: threading.Event | None = None) -> list[WordLine]:
    """Lines of every text subtitle stream in a container (mov_text in mp4/mov; subrip/ass/webvtt in mkv)."""
    import av

    try:
        container = av.open(os.fspath(path))
    except (av.FFmpegError, OSError) as e:
        raise SubtitleError(f"cannot open the file to look for subtitle streams: {e}") from e
    with container:
        streams = [s for s in container.streams.subtitles if s.codec_context.name in TEXT_CODECS]
        if not streams:
            return []
        langs = {s.index: _stream_language(s) for s in streams}
        out: list[WordLine] = []
        try:
            for packet in container.demux(streams):
                if cancel is not None and cancel.is_set():
                    break
                if packet.pts is None or packet.time_base is None:
                    continue
                start = float(packet.pts * packet.time_base)
                end = start + float((packet.duration or 0) * packet.time_base)
                for sub in packet.decode():
                    text = _dialogue(sub)
                    if text:
                        out.append(WordLine(start, max(end, start + 0.04), text, SUBTITLE, langs[packet.stream.index]))
        except av.FFmpegError as e:
            if not out:
                raise SubtitleError(f"embedded subtitle stream cannot be decoded: {e}") from e
            log.warning("%s: subtitle stream cut short: %s", path, e)
    out.sort(key=lambda ln: (ln.start, ln.end))
    return out


def _stream_language(stream: object) -> str | None:
    lang = (getattr(stream, "metadata", {}) or {}).get("language") or getattr(stream, "language", None)
    if not lang or lang == "und":
        return None
    return str(_ISO639_2.get(lang, lang))


def _dialogue(sub: object) -> str:
    # FFmpeg's decoders hand back an ASS "Dialogue" body: ReadOrder,Layer,Style,Name,
    # MarginL,MarginR,MarginV,Effect,Text. PyAV's .dialogue is the Text field when it parses.
    raw = getattr(sub, "dialogue", b"") or b""
    if not raw:
        ass = getattr(sub, "ass", b"") or getattr(sub, "text", b"") or b""
        raw = ass.split(b",", 8)[8] if ass.count(b",") >= 8 else ass
    return clean_line(raw.decode("utf-8", errors="replace"))


class SubtitleSource:
    """The subtitle words source: every sidecar with the video's stem plus embedded text streams."""

    name = SUBTITLE

    def __init__(self) -> None:
        # Folder listings, reused while the folder's mtime stands: one listdir per folder and
        # pass instead of one per video (a 10 000-file folder would cost 10^8 name checks).
        self._dirs: dict[str, tuple[int, list[str]]] = {}

    def sidecars(self, path: str) -> list[Path]:
        folder = os.path.dirname(os.path.abspath(path))
        try:
            mtime = os.stat(folder).st_mtime_ns
            hit = self._dirs.get(folder)
            if hit is None or hit[0] != mtime:
                hit = (mtime, os.listdir(folder))
                self._dirs[folder] = hit
        except OSError:
            return []
        return find_sidecars(path, hit[1])

    def signature(self, path: str) -> str:
        """Changes when the video or any of its sidecars changes (so a new .srt re-reads text only)."""
        parts = []
        for p in [Path(path), *self.sidecars(path)]:
            try:
                st = p.stat()
                parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{p.name}:missing")
        return "|".join(parts)

    def extract(self, path: str, cancel: threading.Event | None = None) -> list[WordLine]:
        video = Path(path)
        lines: list[WordLine] = []
        problems: list[str] = []
        for sc in self.sidecars(path):
            try:
                lines += read_sidecar(sc, sidecar_language(video, sc))
            except SubtitleError as e:
                problems.append(str(e))
        try:
            lines += read_embedded(video, cancel)
        except SubtitleError as e:
            problems.append(str(e))
        if problems and not lines:
            raise SubtitleError("; ".join(problems))
        for p in problems:
            log.warning("%s: %s", video, p)
        return lines
