"""The speech model registry: Whisper models in CTranslate2 format (faster-whisper), as data."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .registry import ModelError

SPEECH_MODEL_ENV = "REELSEEK_SPEECH_MODEL"
# Files faster-whisper reads from a model folder (faster_whisper.utils.download_model's patterns).
MODEL_BIN = "model.bin"
CONFIG = "config.json"
TOKENIZER = "tokenizer.json"
PREPROCESSOR = "preprocessor_config.json"  # large-v3 and turbo: 128 mel bins instead of 80
VOCABULARIES = ("vocabulary.txt", "vocabulary.json")  # older conversions ship .txt, newer .json


@dataclass(frozen=True)
class SpeechModelSpec:
    """One Whisper model. ``files`` must all be present; one of ``VOCABULARIES`` must be too."""

    id: str
    hf_repo: str
    english_only: bool
    params_m: int  # parameters, millions (OpenAI's model card)
    size_mb: int  # approximate download size (float16 model.bin)
    description: str
    files: tuple[str, ...] = (MODEL_BIN, CONFIG, TOKENIZER)
    license: str = "MIT"

    @property
    def how_to_get(self) -> str:
        """Read by the shared downloader (core.models.weights) for its error messages."""
        return (
            f"run `reelseek-cli models download-speech {self.id}` or import a model folder with "
            f"`reelseek-cli models import-speech DIR --as {self.id}`"
        )

    @property
    def import_hint(self) -> str:
        return f"`reelseek-cli models import-speech DIR --as {self.id}`"


def _m(model_id: str, repo: str, params: int, size: int, desc: str, *extra: str) -> SpeechModelSpec:
    return SpeechModelSpec(
        id=model_id,
        hf_repo=repo,
        english_only=model_id.endswith(".en"),
        params_m=params,
        size_mb=size,
        description=desc,
        files=(MODEL_BIN, CONFIG, TOKENIZER, *extra),
    )


# Repositories as faster-whisper 1.2.1 names them (faster_whisper/utils.py _MODELS).
_MODELS: tuple[SpeechModelSpec, ...] = (
    _m("tiny.en", "Systran/faster-whisper-tiny.en", 39, 75, "English only, fastest; weak on names and noise"),
    _m("tiny", "Systran/faster-whisper-tiny", 39, 75, "99 languages, fastest; rough on Korean"),
    _m("base.en", "Systran/faster-whisper-base.en", 74, 145, "English only, about 2x tiny's cost"),
    _m("base", "Systran/faster-whisper-base", 74, 145, "99 languages incl. Korean, about 2x tiny's cost"),
    _m("small.en", "Systran/faster-whisper-small.en", 244, 484, "English only, good accuracy, ~6x tiny"),
    _m("small", "Systran/faster-whisper-small", 244, 484, "99 languages, good Korean; slow on 2 cores"),
    _m("medium.en", "Systran/faster-whisper-medium.en", 769, 1530, "English only; wants a GPU"),
    _m("medium", "Systran/faster-whisper-medium", 769, 1530, "99 languages; wants a GPU"),
    _m("large-v2", "Systran/faster-whisper-large-v2", 1550, 3090, "99 languages, high accuracy; GPU"),
    _m("large-v3", "Systran/faster-whisper-large-v3", 1550, 3090, "99 languages, best accuracy; GPU", PREPROCESSOR),
    _m(
        "large-v3-turbo",
        "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
        809,
        1620,
        "large-v3 with a 4-layer decoder: near large-v3 accuracy at ~3x its speed",
        PREPROCESSOR,
    ),
)

# Default per device. MEASURED: tiny.en's real-time factor on this project's 2-core CPU (see
# docs/benchmarks.md, "Words"). NOT MEASURED here (no model hub access): every other model; the
# rule is "the most accurate multilingual model whose RTF stays under ~0.25 on the target", using
# Whisper's parameter counts as the cost ratio to tiny (base ~2x, small ~6x, turbo ~20x).
# Multilingual defaults because the seed archives are Korean broadcast material.
DEFAULT_SPEECH_MODEL = {"cpu": "base", "cuda": "large-v3-turbo", "mps": "base"}


def list_speech_models() -> list[SpeechModelSpec]:
    """Every registered speech model, smallest first."""
    return list(_MODELS)


def get_speech_spec(model_id: str) -> SpeechModelSpec:
    """The spec for a speech model id.

    Raises:
        ModelError: unknown id; the message lists the known ones.
    """
    for spec in _MODELS:
        if spec.id == model_id:
            return spec
    known = ", ".join(s.id for s in _MODELS)
    raise ModelError(f"unknown speech model {model_id!r}; known speech models: {known}")


def default_speech_model(device: str) -> str:
    """The registry's default for a resolved device ("cpu", "cuda", "mps")."""
    return DEFAULT_SPEECH_MODEL.get(device, DEFAULT_SPEECH_MODEL["cpu"])


def resolve_speech_model_id(explicit: str | None, device: str, *, settings_value: str | None = None) -> str:
    """``explicit`` > ``$REELSEEK_SPEECH_MODEL`` > settings > the device default.

    Raises:
        ModelError: the chosen id is not registered (the message says where it came from).
    """
    for model_id, where in (
        (explicit, "the requested speech model"),
        (os.environ.get(SPEECH_MODEL_ENV) or None, f"${SPEECH_MODEL_ENV}"),
        (settings_value, "the settings"),
    ):
        if model_id:
            try:
                return get_speech_spec(model_id).id
            except ModelError as e:
                raise ModelError(f"{e} (from {where})") from None
    return default_speech_model(device)
