"""Subtitle fixtures: sidecar files in several formats/encodings, and videos with embedded subtitle streams."""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from tests.synth.videos import SceneSpec, VideoSpec, write_video

Cue = tuple[float, float, str]  # (start s, end s, text)

# FFmpeg's text subtitle encoders refuse to open without an ASS header.
_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
    b"Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
    b"MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


def _ts(t: float, sep: str = ",") -> str:
    ms = round(t * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(cues: Sequence[Cue]) -> str:
    return "".join(f"{i}\n{_ts(a)} --> {_ts(b)}\n{t}\n\n" for i, (a, b, t) in enumerate(cues, 1))


def vtt_text(cues: Sequence[Cue]) -> str:
    """WebVTT with the parts parsers trip on: a header, NOTE and STYLE blocks, cue settings, tags."""
    out = ["WEBVTT\nKind: captions\n\nNOTE written by the reelseek tests\nspanning two lines\n\n"]
    out.append("STYLE\n::cue { color: yellow }\n\n")
    for i, (a, b, t) in enumerate(cues, 1):
        out.append(f"cue-{i}\n{_ts(a, '.')} --> {_ts(b, '.')} align:start position:10% line:0\n<v Narrator>{t}\n\n")
        out.append("NOTE a comment between cues\n\n")
    return "".join(out)


def ass_text(cues: Sequence[Cue]) -> str:
    def t(s: float) -> str:
        cs = round(s * 100)
        return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"

    body = "".join(f"Dialogue: 0,{t(a)},{t(b)},Default,,0,0,0,,{{\\i1}}{x}{{\\i0}}\n" for a, b, x in cues)
    return _ASS_HEADER.decode() + "Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,not a cue\n" + body


def write_sidecar(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write a subtitle file; encoding 'utf-16' writes a byte-order mark (as Python does)."""
    path = Path(path)
    path.write_bytes(text.encode(encoding))
    return path


def write_with_subtitles(
    path: str | os.PathLike[str],
    scenes: Sequence[SceneSpec],
    cues: Sequence[Cue],
    *,
    codec: str = "h264",
    language: str | None = "eng",
    fps: float = 10,
    width: int = 128,
    height: int = 96,
) -> VideoSpec:
    """A generated video with an embedded text subtitle stream: mov_text in .mp4/.mov, subrip in .mkv."""
    import av

    path = Path(path)
    plain = path.with_name(path.stem + ".nosubs" + path.suffix)
    spec = write_video(plain, scenes, codec=codec, fps=fps, width=width, height=height)
    sub_codec = "mov_text" if path.suffix.lower() in (".mp4", ".mov", ".m4v") else "subrip"
    tb = Fraction(1, 1000)
    with av.open(str(plain)) as src, av.open(str(path), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        sout = dst.add_stream(sub_codec)
        sout.time_base = tb
        sout.codec_context.subtitle_header = _ASS_HEADER
        if language:
            sout.metadata["language"] = language
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            dst.mux(packet)
        for a, b, text in cues:
            data = text.encode("utf-8")
            if sub_codec == "mov_text":
                data = struct.pack(">H", len(data)) + data  # 3GPP timed text: length-prefixed UTF-8
            pkt = av.Packet(data)
            pkt.stream = sout
            pkt.time_base = tb
            pkt.pts = pkt.dts = round(a * 1000)
            pkt.duration = round((b - a) * 1000)
            dst.mux(pkt)
    plain.unlink()
    return VideoSpec(path, spec.scenes, spec.codec, spec.fps, spec.width, spec.height, spec.duration)


def long_srt(n: int, seed: int = 0) -> str:
    """n cues of varied words, for tests that need a words pass that takes a while."""
    rng = np.random.default_rng(seed)
    vocab = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    cues = [(i * 0.5, i * 0.5 + 0.4, " ".join(rng.choice(vocab, 6).tolist()) + f" line{i}") for i in range(n)]
    return srt_text(cues)
