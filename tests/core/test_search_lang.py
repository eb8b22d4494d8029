"""Query language by script: detection, prompt templates per language, the English-only-model notice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reelseek.core.models import get_spec
from reelseek.core.search import DEFAULT_TEMPLATES
from reelseek.core.search_lang import (
    MULTILINGUAL_MODEL_ID,
    TEMPLATES,
    detect_script,
    language_notice,
    templates_for,
)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("풀밭 위의 빨간 원", "ko"),
        ("红色圆圈", "zh"),
        ("赤いまる", "ja"),
        ("красный круг", "ru"),
        ("دائرة حمراء", "ar"),
        ("עיגול אדום", "he"),
        ("κόκκινος κύκλος", "el"),
        ("วงกลมสีแดง", "th"),
        ("लाल घेरा", "hi"),
        ("빨간 circle", "ko"),  # mixed: the non-Latin letters decide
    ],
)
def test_scripts_are_detected(text: str, lang: str) -> None:
    guess = detect_script(text)
    assert guess is not None and guess.language == lang


@pytest.mark.parametrize("text", ["a red circle on grass", "rouge cercle à Paris", "12:30 -night", "", "🙂 !!"])
def test_latin_text_and_symbols_are_not_flagged(text: str) -> None:
    assert detect_script(text) is None


def test_english_only_model_gets_a_notice_naming_the_multilingual_model() -> None:
    en = get_spec("vit-b-32")
    note = language_notice(en, "풀밭 위의 빨간 원")
    assert note is not None and "Korean" in note and MULTILINGUAL_MODEL_ID in note and "models download" in note
    assert language_notice(en, "a red circle") is None
    assert language_notice(en, "") is None and language_notice(en, None) is None
    # A stray foreign word in an English query is not worth a warning.
    assert language_notice(en, "a red circle near the 한 sign on the wall of the building") is None


def test_multilingual_and_bilingual_models_get_no_notice_for_what_they_read() -> None:
    assert language_notice(get_spec(MULTILINGUAL_MODEL_ID), "красный круг") is None
    tiny = get_spec("reelseek-test-tiny")
    assert language_notice(tiny, "풀밭 위의 빨간 원") is None
    note = language_notice(tiny, "красный круг")
    assert note is not None and "English and Korean only" in note


def test_templates_follow_the_query_language_when_the_model_reads_it() -> None:
    tiny = get_spec("reelseek-test-tiny")
    assert templates_for(tiny, "풀밭 위의 빨간 원", DEFAULT_TEMPLATES) == TEMPLATES["ko"]
    assert templates_for(tiny, "a red circle", DEFAULT_TEMPLATES) == DEFAULT_TEMPLATES
    # English-only model: Korean templates would only add words it cannot read.
    assert templates_for(get_spec("vit-b-32"), "빨간 원", DEFAULT_TEMPLATES) == DEFAULT_TEMPLATES
    multi = get_spec(MULTILINGUAL_MODEL_ID)
    assert templates_for(multi, "красный круг", DEFAULT_TEMPLATES) == TEMPLATES["ru"]
    custom = replace(get_spec("vit-b-32"), templates=("{}", "shot of {}"))
    assert templates_for(custom, "a dog", DEFAULT_TEMPLATES) == ("{}", "shot of {}")
    for lang, ts in TEMPLATES.items():
        assert ts[0] == "{}" and all(t.count("{}") == 1 for t in ts), lang
