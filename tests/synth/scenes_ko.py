"""Korean captions for the procedural test scenes (short: open_clip's byte BPE spends ~2-3 tokens a syllable)."""

from __future__ import annotations

import numpy as np

# Adnominal colour words (the form that sits before a noun), canonical first.
COLOUR_WORDS_KO: dict[str, list[str]] = {
    "red": ["빨간", "붉은"],
    "orange": ["주황색"],
    "yellow": ["노란"],
    "green": ["초록색", "녹색"],
    "blue": ["파란"],
    "purple": ["보라색"],
    "white": ["하얀", "흰"],
}
SHAPE_WORDS_KO: dict[str, list[str]] = {
    "circle": ["원", "동그라미"],
    "square": ["사각형", "네모"],
    "triangle": ["삼각형", "세모"],
    "star": ["별"],
    "cross": ["십자가"],
    "ring": ["고리", "링"],
}
# (modifier phrase "on X", noun phrase "X"); the first pair of each list is the canonical wording.
BG_PHRASES_KO: dict[str, list[tuple[str, str]]] = {
    "plain": [("회색 배경의", "회색 배경"), ("단색 배경의", "단색 배경")],
    "sky": [("하늘의", "하늘"), ("맑은 하늘의", "맑은 하늘")],
    "grass": [("풀밭 위의", "풀밭"), ("잔디 위의", "잔디")],
    "sand": [("모래 위의", "모래"), ("사막의", "사막")],
    "noise": [("노이즈 화면의", "노이즈 화면"), ("잡음 화면의", "잡음 화면")],
    "night": [("밤의", "밤"), ("어두운 밤의", "어두운 밤")],
}
# The search wraps Korean queries in these (core/search_lang.py TEMPLATES["ko"]); training sees them too.
WRAPPERS_KO = ["{}", "{}", "{}", "{}의 사진", "{}의 영상", "{} 장면"]
_TEMPLATES_KO = ["{bg} {c} {s}", "{bg} {c} {s}", "{c} {s}, {bgn}", "{bgn}에 있는 {c} {s}"]


def canonical_caption_ko(colour: str, shape: str, background: str) -> str:
    """The one plain Korean caption of a scene, e.g. '풀밭 위의 빨간 원' (a red circle on grass)."""
    return f"{BG_PHRASES_KO[background][0][0]} {COLOUR_WORDS_KO[colour][0]} {SHAPE_WORDS_KO[shape][0]}"


def captions_ko(colour: str, shape: str, background: str) -> list[str]:
    """Every full Korean description used in training, canonical first."""
    out = [canonical_caption_ko(colour, shape, background)]
    for t in _TEMPLATES_KO:
        for c in COLOUR_WORDS_KO[colour]:
            for s in SHAPE_WORDS_KO[shape]:
                for bg, bgn in BG_PHRASES_KO[background]:
                    out.append(t.format(bg=bg, bgn=bgn, c=c, s=s))
    return list(dict.fromkeys(out))


def sample_training_caption_ko(
    rng: np.random.Generator, colour: str, shape: str, background: str, *, full_bias: float = 0.4
) -> tuple[str, tuple[str | None, str | None, str | None]]:
    """A random Korean caption for one object, possibly partial; returns (text, stated attributes)."""
    c = str(rng.choice(COLOUR_WORDS_KO[colour]))
    s = str(rng.choice(SHAPE_WORDS_KO[shape]))
    bg, bgn = BG_PHRASES_KO[background][int(rng.integers(len(BG_PHRASES_KO[background])))]
    wrap = str(rng.choice(WRAPPERS_KO))
    if rng.random() < full_bias:
        t = str(rng.choice(_TEMPLATES_KO))
        return wrap.format(t.format(bg=bg, bgn=bgn, c=c, s=s)), (colour, shape, background)
    kind = int(rng.integers(6))
    if kind == 0:
        text, attrs = f"{c} {s}", (colour, shape, None)
    elif kind == 1:
        text, attrs = f"{bg} {c} 물체", (colour, None, background)
    elif kind == 2:
        text, attrs = f"{bg} {s}", (None, shape, background)
    elif kind == 3:
        text, attrs = str(rng.choice([f"{c} 물체", f"{c} 것"])), (colour, None, None)
    elif kind == 4:
        text, attrs = s, (None, shape, None)
    else:
        text, attrs = bgn, (None, None, background)
    return wrap.format(text), attrs
