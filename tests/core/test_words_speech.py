"""The speech source on espeak-ng clips: phrases at their times, word times, silence, no audio, bad audio."""
# ruff: noqa: F811  (pytest fixtures imported from tests.core.speech_helpers are parameters here)

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from reelseek.core.media import MediaError
from reelseek.core.models import ModelError
from reelseek.core.words import SAID, WordLine
from reelseek.core.words import speech as speech_module
from reelseek.core.words.audio import SAMPLE_RATE, audio_windows, has_audio
from reelseek.core.words.speech import SpeechSource
from tests.core.speech_helpers import speech_models_dir, speech_source  # noqa: F401 (fixtures)
from tests.synth.speech import (
    PHRASES,
    SpokenPhrase,
    have_espeak,
    normalize_words,
    word_error_rate,
    write_corrupt_audio_video,
    write_silent_video,
    write_speech_clip,
)

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed (.ci/run installs it)")

PLAN = ((1.5, PHRASES[0]), (8.0, PHRASES[1]), (15.0, PHRASES[3]))
DURATION = 20.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("speech")
    spoken = write_speech_clip(d / "talk.mp4", PLAN, duration=DURATION)
    write_silent_video(d / "mute.mp4", duration=3, with_audio_track=False)
    write_silent_video(d / "quiet.mp4", duration=6, with_audio_track=True)
    write_corrupt_audio_video(d / "broken-audio.mp4")
    return {"dir": d, "spoken": spoken}


def _words(text: str) -> list[str]:
    return normalize_words(text)


def _overlap(a: list[str], b: list[str]) -> float:
    """Share of ``b``'s words that appear in ``a``."""
    return sum(1 for w in b if w in a) / len(b)


def _line_for(lines: list[WordLine], phrase: SpokenPhrase) -> list[WordLine]:
    return [ln for ln in lines if _overlap(_words(ln.text), _words(phrase.text)) >= 0.6]


def test_phrases_are_found_at_their_times_with_word_times(clips: dict, speech_source: SpeechSource) -> None:
    lines = speech_source.extract(str(clips["dir"] / "talk.mp4"))
    spoken: list[SpokenPhrase] = clips["spoken"]
    for phrase in spoken:
        found = _line_for(lines, phrase)
        assert len(found) == 1, f"{phrase.text!r} not heard once in {[ln.text for ln in lines]}"
        line = found[0]
        assert line.source == SAID and line.language == "en"
        assert line.start < phrase.end and line.end > phrase.start, (line, phrase)
        assert abs(line.start - phrase.start) < 1.0 and abs(line.end - phrase.end) < 1.0
        assert 0.0 < (line.confidence or 0) <= 1.0
        assert word_error_rate(phrase.text, line.text) <= 0.5, (phrase.text, line.text)
        assert len(line.words) >= len(_words(phrase.text)) - 2
        starts = [w[0] for w in line.words]
        assert starts == sorted(starts) and all(s <= e for s, e, _ in line.words)
        for s, e, _ in line.words:  # each word inside the spoken interval (generous margins)
            assert phrase.start - 0.8 <= s and e <= phrase.end + 0.8, (s, e, phrase)
    # Silence between the phrases produces nothing.
    for line in lines:
        assert any(line.start < p.end + 1 and line.end > p.start - 1 for p in spoken), line


def test_windows_overlap_without_duplicating_lines(clips: dict, speech_models_dir: Path) -> None:
    src = SpeechSource(
        speech_models_dir / "speech" / "tiny.en", model_id="tiny.en", cpu_threads=1, window_s=7.0, overlap_s=3.0
    )
    lines = src.extract(str(clips["dir"] / "talk.mp4"))
    for phrase in clips["spoken"]:
        assert len(_line_for(lines, phrase)) == 1, (phrase.text, [(ln.start, ln.text) for ln in lines])


def test_audio_windows_cover_the_file_in_bounded_pieces(clips: dict) -> None:
    windows = list(audio_windows(clips["dir"] / "talk.mp4", window_s=6.0, overlap_s=2.0))
    assert len(windows) == 5  # starts at 0, 4, 8, 12, 16
    assert [round(w.start, 2) for w in windows] == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert all(len(w.samples) <= 6 * SAMPLE_RATE for w in windows)
    end = windows[-1].start + windows[-1].duration
    assert abs(end - DURATION) < 0.2
    # Responsibilities tile the timeline: each instant belongs to exactly one window.
    for a, b in itertools.pairwise(windows):
        assert a.keep_to == pytest.approx(b.keep_from)
    assert windows[0].keep_from == 0.0 and windows[-1].keep_to == float("inf")


def test_no_audio_stream_returns_nothing_without_decoding(clips: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("audio was decoded for a file without audio")

    monkeypatch.setattr(speech_module, "audio_windows", no_decoding)
    mute = clips["dir"] / "mute.mp4"
    assert not has_audio(mute)
    # No model is needed either: this source's model folder does not even exist.
    src = SpeechSource(clips["dir"] / "no-model-here", model_id="base")
    assert src.extract(str(mute)) == []


def test_silence_gives_no_lines(clips: dict, speech_source: SpeechSource) -> None:
    assert has_audio(clips["dir"] / "quiet.mp4")
    assert speech_source.extract(str(clips["dir"] / "quiet.mp4")) == []


def test_undecodable_audio_is_a_readable_media_error(clips: dict, speech_source: SpeechSource) -> None:
    with pytest.raises(MediaError, match=r"cannot decode the audio \(aac\): \d+ of \d+ packets are damaged"):
        speech_source.extract(str(clips["dir"] / "broken-audio.mp4"))


def test_unreadable_files_are_media_errors(tmp_path: Path, speech_source: SpeechSource) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty file"):
        speech_source.extract(str(empty))
    junk = tmp_path / "junk.mov"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        speech_source.extract(str(junk))


def test_missing_speech_model_is_a_clear_error(clips: dict) -> None:
    src = SpeechSource(clips["dir"] / "models" / "speech" / "base", model_id="base")
    with pytest.raises(ModelError, match="speech model base is not on this machine") as e:
        src.extract(str(clips["dir"] / "talk.mp4"))
    assert "models download-speech base" in str(e.value) and "import-speech DIR --as base" in str(e.value)


def test_cancel_before_start_returns_at_once(clips: dict, speech_source: SpeechSource) -> None:
    cancel = threading.Event()
    cancel.set()
    assert speech_source.extract(str(clips["dir"] / "talk.mp4"), cancel) == []


def test_times_follow_the_video_clock_when_video_starts_late(tmp_path: Path, speech_source: SpeechSource) -> None:
    # Visual moments count from the first video frame; speech must use the same clock.
    clip = tmp_path / "late-video.mkv"
    (phrase,) = write_speech_clip(clip, [(3.0, PHRASES[2])], duration=6.0, video_delay=1.0)
    from reelseek.core.media import probe

    assert probe(clip).start_offset == pytest.approx(1.0, abs=0.05)
    (line,) = speech_source.extract(str(clip))
    assert abs(line.start - (phrase.start - 1.0)) < 0.8 and abs(line.end - (phrase.end - 1.0)) < 0.8, line


def test_a_language_the_model_cannot_speak_is_a_clear_error(clips: dict, speech_models_dir: Path) -> None:
    src = SpeechSource(speech_models_dir / "speech" / "tiny.en", language="ko", model_id="tiny.en")
    with pytest.raises(ModelError, match=r"tiny.en understands English only.*'ko'.*multilingual"):
        src.extract(str(clips["dir"] / "talk.mp4"))
