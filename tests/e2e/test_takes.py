"""Takes through the real CLI: an original, its re-encode, a trimmed copy and a proxy fold into one result."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from reelseek.core.takes import TakesConfig
from tests.e2e.conftest import TEST_MODEL, run_cli, search_json
from tests.synth.copies import SHOT_CAPTION, TRIM, TakesLibrary, frame_similarities, make_takes_library


@pytest.fixture(scope="module")
def takes_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TakesLibrary]:
    lib = make_takes_library(tmp_path_factory.mktemp("takes"))
    home = tmp_path_factory.mktemp("takes-home")
    summary = json.loads(run_cli(home, "index", lib.root, "--json").stdout)
    assert summary["indexed"] == 7 and summary["errors"] == [], summary
    return home, lib


def _files(card: dict[str, object]) -> set[str]:
    return {str(card["path"]), *(str(t["path"]) for t in card["takes"])}  # type: ignore[attr-defined]


def test_copies_of_one_shot_fold_into_one_card(takes_home: tuple[Path, TakesLibrary]) -> None:
    home, lib = takes_home
    cards = search_json(home, SHOT_CAPTION, "-n", "5")
    top = cards[0]
    assert _files(top) == {str(p) for p in lib.takes}, top
    assert len(top["takes"]) == 3
    # Face: the best take; the proxy only ever scores within a hair of the original, so never the face.
    assert top["path"] != str(lib.proxy)
    assert all(t["takes"] == [] for t in top["takes"])
    # The trimmed copy's range sits 2 s earlier in its own file: the same pictures, its own times.
    trimmed = next(t for t in top["takes"] if t["path"] == str(lib.trimmed)) if top["path"] != str(lib.trimmed) else top
    original = (
        top if top["path"] == str(lib.original) else next(t for t in top["takes"] if t["path"] == str(lib.original))
    )
    assert abs((original["start"] - trimmed["start"]) - TRIM) <= 1.01
    # The different shot of the same kind (a red circle on sand, other time) stays its own card.
    other = [c for c in cards if str(lib.other) in _files(c)]
    assert other and all(_files(c) == {str(lib.other)} for c in other), other
    # No file shows up twice across the cards' moments of the shot (nothing is lost or doubled).
    paths = [p for c in cards for p in [c["path"], *(t["path"] for t in c["takes"])]]
    assert len([p for p in paths if p in {str(x) for x in lib.takes}]) >= 4


def test_no_group_lists_every_copy(takes_home: tuple[Path, TakesLibrary]) -> None:
    home, lib = takes_home
    cards = search_json(home, SHOT_CAPTION, "-n", "10", "--no-group")
    assert all(c["takes"] == [] for c in cards)
    top_files = {c["path"] for c in cards[:4]}
    assert top_files == {str(p) for p in lib.takes}, [c["path"] for c in cards]


def test_human_output_counts_the_takes(takes_home: tuple[Path, TakesLibrary]) -> None:
    home, _lib = takes_home
    out = run_cli(home, "search", SHOT_CAPTION, "-n", "3").stdout
    first = next(line for line in out.splitlines() if line.strip().startswith("1."))
    assert first.endswith("+3 takes"), out
    plain = run_cli(home, "search", SHOT_CAPTION, "-n", "3", "--no-group").stdout
    assert not re.search(r"\+\d+ takes?$", plain, re.MULTILINE), plain


def test_thresholds_hold_on_this_library(takes_home: tuple[Path, TakesLibrary]) -> None:
    """The frame threshold sits in the measured gap: copies' frames well above, other shots' well below."""
    home, lib = takes_home
    same, different = frame_similarities(home, lib, TEST_MODEL)
    cfg = TakesConfig()
    assert len(same) >= 40 and len(different) >= 1000
    same_p5 = float(np.quantile(same, 0.05))
    assert same_p5 >= cfg.frame_cos + 0.05, same_p5
    assert max(different) <= cfg.frame_cos - 0.1, max(different)
