"""Query power through the real CLI: "X then Y" finds X followed by Y (never Y then X); weights steer the ranking."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli, search_json
from tests.synth.sequences import V, W, X, Y, Z, caption, scene, sequence_video
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sequences(tmp_path_factory):
    """forward: Z X Y W; reverse: W Y X Z; far: X, 17 s of other scenes, then Y; lone: X and Z only."""
    root = tmp_path_factory.mktemp("then_footage")
    videos = {
        "forward": sequence_video(root / "forward.mp4", [(Z, 4), (X, 4), (Y, 4), (W, 4)], 1),
        "reverse": sequence_video(root / "reverse.mp4", [(W, 4), (Y, 4), (X, 4), (Z, 4)], 2),
        "far": sequence_video(root / "far.mp4", [(X, 4), (Z, 6), (W, 6), (V, 5), (Y, 4)], 3),
        "lone": sequence_video(root / "lone.mp4", [(V, 4), (X, 4), (Z, 4)], 4),
    }
    home = tmp_path_factory.mktemp("then_home")
    summary = json.loads(run_cli(home, "index", root, "--json", "--no-words").stdout)
    assert summary["indexed"] == len(videos), summary
    return home, videos


def _files(results) -> list[str]:
    return [Path(str(m["path"])).stem for m in results]


def test_x_then_y_finds_the_forward_order_and_covers_both(sequences):
    home, videos = sequences
    results = search_json(home, f"{caption(X)} then {caption(Y)}")
    print("\nX then Y:", [(Path(m["path"]).stem, m["start"], m["end"], m["confidence"]) for m in results])
    assert _files(results)[:1] == ["forward"], results
    assert "reverse" not in _files(results) and "far" not in _files(results) and "lone" not in _files(results)
    m = results[0]
    x, y = scene(videos["forward"], X), scene(videos["forward"], Y)
    # The range covers both scenes (most of each), and each step sits on its own scene.
    assert m["start"] <= x.start + 1.0 and m["end"] >= y.end - 1.0, m
    (a, b) = m["steps"]
    assert a["start"] < x.end and a["end"] > x.start and b["start"] < y.end and b["end"] > y.start, m
    assert a["start"] < b["start"]


def test_reverse_order_and_three_steps(sequences):
    home, _videos = sequences
    back = search_json(home, f"{caption(Y)} >> {caption(X)}")
    assert _files(back)[:1] == ["reverse"], back
    assert "forward" not in _files(back)
    three = search_json(home, f"{caption(Z)} then {caption(X)} then {caption(Y)}")
    assert _files(three) == ["forward"], three
    assert len(three[0]["steps"]) == 3
    wrong = search_json(home, f"{caption(Y)} then {caption(X)} then {caption(Z)} then {caption(W)}")
    assert "forward" not in _files(wrong)


def test_window_decides_how_far_apart_the_steps_may_be(sequences):
    home, _videos = sequences
    near = search_json(home, f"{caption(X)} then<5s> {caption(Y)}")
    assert "far" not in _files(near) and "forward" in _files(near)
    wide = search_json(home, f"{caption(X)} then<30s> {caption(Y)}")
    assert "far" in _files(wide) and "reverse" not in _files(wide)
    flag = search_json(home, f"{caption(X)} then {caption(Y)}", "--then-within", "30")
    assert "far" in _files(flag)
    # No file has Y then Z within 2 s: an empty answer that says so, not the closest noise.
    none = run_cli(home, "search", f"{caption(Y)} then<2s> {caption(Z)}")
    assert "follow each other within 2 s" in none.stdout and "1." not in none.stdout, none.stdout


def test_weights_move_the_ranking(sequences):
    home, videos = sequences

    def top_scene(query: str) -> tuple[str, str, str]:
        m = search_json(home, query, "--limit", "3")[0]
        v = videos[Path(str(m["path"])).stem]
        return v.scene_at(float(m["best_time"])).triple

    assert top_scene('3:"red circle" 1:"blue square"') == X
    assert top_scene('1:"red circle" 3:"blue square"') == Y
    assert top_scene('"red circle" -2:"red"') != X  # a weighted -term pushes away harder


def test_bad_syntax_is_a_clear_message_and_then_can_be_a_word(sequences):
    home, _videos = sequences
    for text, expected in [
        ("then red circle", "at the start"),
        ("red circle then", "at the end"),
        ("0:red circle", "more than 0"),
        ('red "circle', "unbalanced quote"),
        ("nan:red", "finite"),
    ]:
        proc = run_cli(home, "search", text, check=False)
        assert proc.returncode == 2, (text, proc.stdout, proc.stderr)
        assert expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    plain = search_json(home, '"then" red circle')  # quoted: the plain word, one step
    assert plain and all("steps" not in m for m in plain)
    # The words path reads a then-query as words and does not crash.
    proc = run_cli(home, "search", "said:red then blue", "--json")
    assert json.loads(proc.stdout) == []
    for bad in (["--text-weight", "0"], ["--image-weight", "nan"], ["--clip-weight", "-1"]):
        proc = run_cli(home, "search", "red", *bad, check=False)
        assert proc.returncode == 2 and "weight" in proc.stderr, proc.stderr


def test_every_scene_pair_of_a_generated_library(tmp_path):
    """Each pair of neighbouring scenes, asked as "A then B", finds its file first; asked as "B then A",
    rarely returns it. Measured (seed 33, 10 files, 26 pairs): 26/26 first, 3/26 reverse, all three
    near-miss scenes the test model confuses (a white circle on sand after the asked white star on
    sand); seed 21 gave 24/24 and 3/24. The thresholds leave room for a retrained test model."""
    videos = make_library(tmp_path / "footage", n_videos=10, codecs=("h264",), seed=33)
    home = tmp_path / "home"
    run_cli(home, "index", tmp_path / "footage", "--json", "--no-words")
    forward, reverse = [], []
    for v in videos:
        for a, b in itertools.pairwise(v.scenes):
            forward.append((f"{a.caption()} then {b.caption()}", str(v.path)))
            reverse.append((f"{b.caption()} then {a.caption()}", str(v.path)))
    queries = tmp_path / "pairs.txt"
    queries.write_text("\n".join(q for q, _ in forward + reverse), encoding="utf-8")
    out = json.loads(run_cli(home, "search", "--batch", queries, "--json", "--limit", "5").stdout)
    found = {item["query"]: [m["path"] for m in item["moments"]] for item in out}
    first = sum(found[q][:1] == [p] for q, p in forward)
    back = sum(p in found[q] for q, p in reverse)
    print(f"\nthen-pairs: {first}/{len(forward)} first, reverse returned {back}/{len(reverse)}")
    assert first >= 0.85 * len(forward)
    assert back <= 0.2 * len(reverse)
