"""Query language by script: prompt templates per language, and a notice when the model cannot read it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .models.registry import ModelSpec

# The multilingual model the notice offers (registry id; docs/models.md says why this one).
MULTILINGUAL_MODEL_ID = "xlm-roberta-base-vit-b-32"

# Prompt templates per language, the counterparts of search.DEFAULT_TEMPLATES ("{}", "a photo of {}.",
# "a video frame of {}.", "a film still of {}."). Short on purpose: byte-level BPE spends 2-3 tokens per
# syllable of non-Latin scripts. Used only with a model that reads the language.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "ko": ("{}", "{}의 사진", "{}의 영상", "{} 장면"),
    "ja": ("{}", "{}の写真", "{}の映像", "{}の場面"),
    "zh": ("{}", "{}的照片", "{}的视频画面", "{}的镜头"),
    "ru": ("{}", "фото: {}", "кадр из видео: {}", "кадр из фильма: {}"),
    "ar": ("{}", "صورة {}", "لقطة فيديو {}", "مشهد من فيلم {}"),
}
# Unicode name prefix of a letter -> (language code, how the notice names it). Checked in order.
_SCRIPTS: tuple[tuple[str, str, str], ...] = (
    ("HANGUL", "ko", "Korean (Hangul)"),
    ("HIRAGANA", "ja", "Japanese"),
    ("KATAKANA", "ja", "Japanese"),
    ("CJK", "zh", "Chinese/Japanese (CJK)"),
    ("CYRILLIC", "ru", "Cyrillic"),
    ("ARABIC", "ar", "Arabic"),
    ("HEBREW", "he", "Hebrew"),
    ("GREEK", "el", "Greek"),
    ("THAI", "th", "Thai"),
    ("DEVANAGARI", "hi", "Devanagari"),
    ("BENGALI", "bn", "Bengali"),
    ("TAMIL", "ta", "Tamil"),
    ("GEORGIAN", "ka", "Georgian"),
    ("ARMENIAN", "hy", "Armenian"),
    ("ETHIOPIC", "am", "Ethiopic"),
)


@dataclass(frozen=True)
class ScriptGuess:
    """The dominant non-Latin script of a text: language code and a name for messages."""

    language: str
    name: str
    share: float  # fraction of the text's letters in that script


def detect_script(text: str) -> ScriptGuess | None:
    """The non-Latin script most of the text's letters are in, or None for Latin/ASCII text.

    Scripts, not languages: a Latin-script query (French, German) is not detected. Japanese text
    mixing kana and kanji counts as Japanese when any kana is present.
    """
    counts: dict[int, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        name = unicodedata.name(ch, "")
        for i, (prefix, _, _) in enumerate(_SCRIPTS):
            if name.startswith(prefix):
                counts[i] = counts.get(i, 0) + 1
                break
    if not counts:
        return None
    kana = counts.get(1, 0) + counts.get(2, 0)
    if kana and 3 in counts:  # kanji + kana: Japanese
        counts[1] = kana + counts.pop(3)
        counts.pop(2, None)
    best = max(counts, key=lambda i: counts[i])
    _, lang, name = _SCRIPTS[best]
    return ScriptGuess(lang, name, counts[best] / letters)


def reads_language(spec: ModelSpec, language: str) -> bool:
    """Whether the model was trained on text in this language."""
    langs = getattr(spec, "languages", ("en",))
    return "*" in langs or language in langs


def templates_for(spec: ModelSpec, text: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Prompt templates for this query: the language's own when the model reads it, else the model's."""
    guess = detect_script(text)
    if guess is not None and guess.language in TEMPLATES and reads_language(spec, guess.language):
        return TEMPLATES[guess.language]
    return tuple(getattr(spec, "templates", ()) or default)


_LANGUAGE_NAMES = {"en": "English", "ko": "Korean"}


def language_notice(spec: ModelSpec, text: str | None) -> str | None:
    """A one-line warning when the query is in a script the model was not trained on, else None."""
    if not text:
        return None
    guess = detect_script(text)
    if guess is None or guess.share < 0.3 or reads_language(spec, guess.language):
        return None
    langs = " and ".join(_LANGUAGE_NAMES.get(x, x) for x in getattr(spec, "languages", ("en",)))
    return (
        f"the model {spec.id} understands {langs} only and this query is {guess.name}: results may be poor. "
        f"Set up the multilingual model: `reelseek-cli models download {MULTILINGUAL_MODEL_ID}`, then search "
        f"with `--model {MULTILINGUAL_MODEL_ID}` (or pick it in Settings)"
    )


def library_notice(lib: object, text: str | None) -> str | None:
    """``language_notice`` for the library's active model (None when it cannot be told)."""
    if not text:
        return None
    from .models.registry import ModelError, get_spec

    try:
        spec = get_spec(lib.model_id())  # type: ignore[attr-defined]
    except (ModelError, AttributeError):
        return None
    return language_notice(spec, text)
