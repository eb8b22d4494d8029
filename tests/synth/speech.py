"""Video clips with espeak-ng phrases spoken at known times (silence elsewhere), muxed with PyAV."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

AUDIO_RATE = 22_050  # espeak-ng's native rate: no resampling in the fixture itself
# Phrases with words whisper tiny.en knows and espeak pronounces clearly (the benchmark's set).
PHRASES: tuple[str, ...] = (
    "where does she say we are out of time",
    "the delivery truck arrives at noon",
    "please bring the red umbrella tomorrow",
    "the meeting starts in ten minutes",
    "turn left at the old church",
    "we need more coffee in the kitchen",
    "the weather will be sunny all week",
    "call the office before five o'clock",
)


_NUMBERS = dict(
    enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    )
)


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation, digits spelled out (Whisper writes "10", espeak said "ten")."""
    import re

    out = []
    for w in re.findall(r"[a-z0-9']+", text.lower()):
        out.append(_NUMBERS.get(int(w), w) if w.isdigit() else w.strip("'"))
    return [w for w in out if w]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on normalize_words()."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)] / max(1, len(ref))


@dataclass(frozen=True)
class SpokenPhrase:
    """A phrase and the interval its speech actually fills in the clip (espeak's own padding trimmed)."""

    text: str
    start: float
    end: float


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, *, voice: str = "en-us", speed: int = 150) -> np.ndarray:
    """espeak-ng's rendering of ``text`` as float32 mono samples at AUDIO_RATE."""
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        with wave.open(str(wav), "rb") as w:
            assert w.getframerate() == AUDIO_RATE and w.getsampwidth() == 2 and w.getnchannels() == 1
            raw = w.readframes(w.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def _voiced_bounds(samples: np.ndarray) -> tuple[int, int]:
    """First and last sample above a small level (espeak pads the phrase with silence)."""
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)


def write_speech_clip(
    path: Path,
    phrases: Sequence[tuple[float, str]],
    *,
    duration: float,
    size: tuple[int, int] = (160, 96),
    fps: int = 10,
    audio_codec: str = "aac",
    noise: float = 0.0,
    video_delay: float = 0.0,
) -> list[SpokenPhrase]:
    """Write an mp4/mkv with a plain moving picture and ``phrases`` spoken at (start second, text).

    ``video_delay`` starts the video stream that many seconds after the audio (as in MPEG-TS
    captures); phrase times are then given on the audio's clock.

    Returns the phrases with the interval their voiced samples really occupy (audio clock).
    """
    import av

    total = round(duration * AUDIO_RATE)
    track = np.zeros(total, dtype=np.float32)
    if noise:
        track += np.random.default_rng(7).normal(0, noise, total).astype(np.float32)
    spoken: list[SpokenPhrase] = []
    for start, text in phrases:
        samples = speak(text)
        a, b = _voiced_bounds(samples)
        i = round(start * AUDIO_RATE)
        n = min(len(samples), total - i)
        track[i : i + n] += samples[:n]
        spoken.append(SpokenPhrase(text, (i + a) / AUDIO_RATE, (i + min(b, n)) / AUDIO_RATE))
    pcm = (np.clip(track, -1, 1) * 32767).astype(np.int16)

    w, h = size
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264" if path.suffix != ".avi" else "mpeg4", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast", "crf": "30"} if path.suffix != ".avi" else {}
        a_stream = out.add_stream(audio_codec, rate=AUDIO_RATE)
        a_stream.layout = "mono"
        ramp = np.linspace(0, 255, w, dtype=np.uint8)
        for k in range(round(duration * fps)):
            img = np.empty((h, w, 3), dtype=np.uint8)
            img[:] = np.roll(ramp, k)[None, :, None]
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k + round(video_delay * fps)
            frame.time_base = Fraction(1, fps)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        step = 1024
        for i in range(0, total, step):
            chunk = pcm[i : i + step]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="s16", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = i
            frame.time_base = Fraction(1, AUDIO_RATE)
            out.mux(a_stream.encode(frame))
        out.mux(a_stream.encode(None))
    return spoken


def write_silent_video(path: Path, *, duration: float, with_audio_track: bool) -> None:
    """A clip with no speech: either no audio stream at all, or an audio stream of pure silence."""
    if with_audio_track:
        write_speech_clip(path, [], duration=duration)
        return
    import av

    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 160, 96, "yuv420p"
        v.options = {"preset": "ultrafast"}
        for k in range(round(duration * 10)):
            img = np.full((96, 160, 3), (k * 7) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, 10)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))


def write_corrupt_audio_video(path: Path, *, duration: float = 4.0) -> None:
    """A clip whose video is fine but whose AAC audio packets are random bytes (undecodable)."""
    import av

    rng = np.random.default_rng(3)
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 160, 96, "yuv420p"
        v.options = {"preset": "ultrafast"}
        a_stream = out.add_stream("aac", rate=AUDIO_RATE)
        a_stream.layout = "mono"
        for k in range(round(duration * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((96, 160, 3), 90, dtype=np.uint8), format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, 10)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        for k in range(round(duration * AUDIO_RATE / 1024)):
            packet = av.Packet(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
            packet.stream = a_stream
            packet.pts = packet.dts = k * 1024
            packet.time_base = Fraction(1, AUDIO_RATE)
            out.mux(packet)
