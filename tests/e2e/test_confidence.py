"""Calibrated confidence end to end: rates of false "good match" / "no good match", the CLI's
no-good-match and tail, the calibration in `status`, and its refresh as the library grows."""

from __future__ import annotations

import json

import pytest

from reelseek.core.calibration import GOOD, NULL_QUERIES, sidecar_path
from tests.e2e.conftest import TEST_MODEL, cli_env, cli_path, run_cli
from tests.synth.confidence_rates import GIBBERISH, queries, rates, run_batch
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The docs' first library (12 videos, seed 5, H.264), indexed without the words pass: the
    rates measure the visual confidence, and a words pass would only slow this down."""
    root = tmp_path_factory.mktemp("footage")
    videos = make_library(root, n_videos=12, codecs=("h264",), seed=5)
    home = tmp_path_factory.mktemp("home")
    run_cli(home, "index", root, "--quiet", "--no-words")
    return home, root, videos


# Thresholds (docs/search.md "Confidence"): measured on three generated libraries with the
# test model, every set scored 0 false answers except near misses; each bound below allows a
# few queries of slack (4 of the 70 in_domain queries, 2 of each 12-query set) so another
# seed's unlucky scene cannot fail CI, and each still fails if calibration broke: without the
# null-query ceiling (the old z-score) gibberish and out-of-vocabulary queries were "good"
# 30-100% of the time.
MAX_FALSE_NO_GOOD_MATCH = {"in_domain": 0.06}
MAX_FALSE_GOOD_MATCH = {"out_of_vocabulary": 0.17, "gibberish": 0.17}


def test_false_match_rates_stay_under_their_thresholds(library, tmp_path):
    home, _root, videos = library
    sets = queries(videos)
    assert not set(GIBBERISH) & set(NULL_QUERIES), "the test queries must not be the calibration's own"
    batch = run_batch([cli_path()], cli_env(home), sets, tmp_path)
    got = rates(batch, sets)
    print("\nconfidence rates:", json.dumps(got))
    for name, bound in MAX_FALSE_NO_GOOD_MATCH.items():
        assert got[name]["false_no_good_match"] <= bound, got
    for name, bound in MAX_FALSE_GOOD_MATCH.items():
        assert got[name]["false_good_match"] <= bound, got
    # One number everywhere: within every answer, confidence falls as the list goes down, and
    # "good_match" agrees with it.
    for item in batch:
        confs = [m["confidence"] for m in item["moments"]]
        assert confs == sorted(confs, reverse=True), item["query"]
        assert all(m["good_match"] == (m["confidence"] >= GOOD - 1e-4) for m in item["moments"]), item["query"]
        assert item["no_good_match"] == (not confs or confs[0] < GOOD), item["query"]


def test_cli_no_good_match_closest_and_tail(library):
    home, _root, videos = library
    gib = "zxqv blorft quantum tax invoice"
    plain = run_cli(home, "search", gib).stdout
    assert plain.startswith("no good match") and "--closest" in plain
    assert ".mp4" not in plain and ".mkv" not in plain  # no noise listed as if it were an answer
    closest = run_cli(home, "search", gib, "--closest").stdout.splitlines()
    rows = [ln for ln in closest if ln.strip()[:1].isdigit()]
    assert closest[0].startswith("no good match") and rows
    assert all(int(ln.split("%")[0].split()[-1]) < GOOD * 100 for ln in rows), closest
    full = json.loads(run_cli(home, "search", gib, "--json-full").stdout)
    assert full["no_good_match"] is True and full["moments"] and not any(m["good_match"] for m in full["moments"])
    assert full["calibration"]["model"] == TEST_MODEL

    caption = videos[0].scenes[0].caption()
    good = json.loads(run_cli(home, "search", caption, "--json-full", "-n", "20").stdout)
    assert good["no_good_match"] is False and good["moments"][0]["good_match"]
    assert good["moments"][0]["path"].endswith(videos[0].path.name)
    # The tail is cut where confidence drops, not padded to the limit; --all lists it.
    assert len(good["moments"]) < 20 and good["more"] > 0
    assert all(m["good_match"] for m in good["moments"])
    every = json.loads(run_cli(home, "search", caption, "--json", "--all", "-n", "20").stdout)
    assert len(every) == 20 and every[: len(good["moments"])] == good["moments"]
    assert any(not m["good_match"] for m in every)
    text = run_cli(home, "search", caption, "-n", "20").stdout
    assert f"{good['more']} weaker moments not shown" in text


def test_status_shows_the_calibration_and_it_follows_the_library(tmp_path):
    root = tmp_path / "footage"
    make_library(root / "a", n_videos=2, codecs=("h264",), seed=31)
    home = tmp_path / "home"
    run_cli(home, "index", root / "a", "--quiet", "--no-words")
    sidecar = sidecar_path(home, TEST_MODEL)
    assert sidecar.exists(), "the index run saves the calibration for read-only searches"
    first = json.loads(run_cli(home, "status", "--json").stdout)["calibration"]
    assert first["null_queries"] == len(NULL_QUERIES) and first["null_ceiling"] > 0
    assert first["sample_frames"] > 0 and first["segments"] > 0
    text = run_cli(home, "status").stdout
    assert f"null-query ceiling {first['null_ceiling']}" in text and f"generation {first['generation']}" in text
    # A search in another process reads it, it does not recompute it (same computed_at).
    run_cli(home, "search", "a red circle", "--json")
    assert json.loads(run_cli(home, "status", "--json").stdout)["calibration"] == first
    # The library grows: the next index run refreshes it.
    videos_b = make_library(root / "b", n_videos=3, codecs=("h264",), seed=32)
    run_cli(home, "index", root / "b", "--quiet", "--no-words")
    second = json.loads(run_cli(home, "status", "--json").stdout)["calibration"]
    assert second["generation"] > first["generation"] and second["segments"] > first["segments"]
    assert second["computed_at"] >= first["computed_at"]
    # Without a saved one (a library from before calibration), a search computes it and saves it
    # as a cache, so the next search does not run the null queries again.
    sidecar.unlink()
    found = json.loads(run_cli(home, "search", "--json-full", videos_b[0].scenes[0].caption()).stdout)
    assert found["calibration"]["generation"] == second["generation"] and sidecar.exists()
    assert json.loads(run_cli(home, "status", "--json").stdout)["calibration"]["generation"] == second["generation"]
    # A damaged sidecar is recomputed, never fatal.
    sidecar.write_text("{not json", encoding="utf-8")
    again = json.loads(run_cli(home, "status", "--json").stdout)["calibration"]
    assert again["generation"] == second["generation"] and again["null_ceiling"] == pytest.approx(
        second["null_ceiling"], abs=1e-4
    )
