"""More like this and relevance feedback through the real CLI, on a library where one scene has three takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli, search_json
from tests.synth.takes import write_takes_library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    root = tmp_path_factory.mktemp("takes")
    videos = write_takes_library(root)
    home = tmp_path_factory.mktemp("home")
    summary = json.loads(run_cli(home, "index", root, "--json").stdout)
    assert summary["indexed"] == len(videos), summary
    return home, root


def _files(hits) -> list[str]:
    """File names in rank order, each once."""
    return list(dict.fromkeys(Path(h["path"]).name for h in hits))


def _rank(hits, name: str, t: float) -> int:
    """Rank of the moment of `name` that covers time t (the marked card)."""
    for i, h in enumerate(hits):
        if Path(h["path"]).name == name and h["start"] - 0.5 <= t <= h["end"] + 0.5:
            return i
    raise AssertionError(f"{name} at {t} s is not in {[(Path(h['path']).name, h['start']) for h in hits]}")


def test_more_like_this_finds_the_other_takes_first(takes):
    home, root = takes
    hits = search_json(home, "--like", f"{root / 'take1.mp4'}@0-4", "--limit", "8")
    files = _files(hits)
    # The same scene re-encoded at another length first; the take over another background
    # next to it, ahead of everything except the red square (same colour, near miss).
    assert files[0] == "take2.mkv", files
    assert "take3.webm" in files[:3], files
    top = hits[0]
    assert top["start"] <= 4.0 and top["end"] >= 6.5, top  # take2's scene runs 3-7.5 s
    # The query moment itself is left out; the rest of its own file may still show.
    for h in hits:
        if Path(h["path"]).name == "take1.mp4":
            assert h["start"] >= 4.0 - 0.5, h


def test_more_like_this_by_a_time_picks_the_shot_around_it(takes):
    home, root = takes
    hits = search_json(home, "--like", root / "take2.mkv", "--at", "5", "--limit", "5")
    assert _files(hits)[0] == "take1.mp4", hits
    assert all(not (Path(h["path"]).name == "take2.mkv" and h["start"] <= 5 <= h["end"]) for h in hits)


def test_marking_a_result_relevant_moves_it_and_its_kind_up(takes):
    home, root = takes
    before = search_json(home, "a circle", "--limit", "10", "--all", "--no-group")
    # The red square is not a circle: the text query ranks it below the circles.
    r0 = _rank(before, "other_3.mp4", 1.0)
    assert r0 > 0, before
    after = search_json(
        home, "a circle", "--limit", "10", "--all", "--no-group", "--relevant", f"{root / 'other_3.mp4'}@0-2.5"
    )
    assert _rank(after, "other_3.mp4", 1.0) < r0, (before, after)
    assert _rank(after, "other_3.mp4", 1.0) == 0, after
    # One take marked relevant lifts the other takes of its scene above what the query liked best.
    base = search_json(
        home, "a circle", "--limit", "10", "--all", "--no-group", "--relevant", f"{root / 'take3.webm'}@1"
    )
    assert _files(base)[:2] == ["take3.webm", "take2.mkv"], base


def test_marking_a_result_irrelevant_moves_it_and_its_kind_down(takes):
    home, root = takes
    before = search_json(home, "a circle", "--limit", "10", "--all", "--no-group")
    after = search_json(
        home, "a circle", "--limit", "10", "--all", "--no-group", "--irrelevant", f"{root / 'take1.mp4'}@0-3.5"
    )
    assert _rank(after, "take1.mp4", 1.0) > _rank(before, "take1.mp4", 1.0), (before, after)
    assert _rank(after, "take2.mkv", 5.0) > _rank(before, "take2.mkv", 5.0), (before, after)
    # Undo in the CLI is leaving the flag out: the same query without it is the original order.
    again = search_json(home, "a circle", "--limit", "10", "--all", "--no-group")
    assert [(h["path"], h["start"]) for h in again] == [(h["path"], h["start"]) for h in before]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--like", "{root}/nope.mp4@0-2"], "not in the library"),
        (["--like", "{root}/take1.mp4@9-12"], "outside take1.mp4"),
        (["--like", "{root}/take1.mp4", "--at", "30"], "outside take1.mp4"),
        (["--like", "{root}/take1.mp4", "--at", "soon"], "not a time"),
        (["--like", "{root}/take1.mp4@3-1"], "ends"),
        (["--at", "3"], "--at needs --like"),
        (["red", "--like", "{root}/take1.mp4@0-2"], "leave out the text"),
        (["--relevant", "{root}/take1.mp4@0-2"], "refine a query"),
        (["a circle", "--irrelevant", "{root}/gone.mov@1"], "not in the library"),
    ],
)
def test_bad_moments_say_why_and_exit_2(takes, args, says):
    home, root = takes
    proc = run_cli(home, "search", *[a.format(root=root) for a in args], check=False)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
