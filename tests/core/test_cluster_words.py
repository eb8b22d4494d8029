"""Words on cluster workers without a cluster: where workers go (GPU or CPU), and a worker reading
speech and on-screen text from shipped models exactly like the local sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelseek.core.cluster import ClusterConfig, plan_actors
from reelseek.core.cluster_words_worker import (
    WordsRecipe,
    WordsWorker,
    folder_files,
    ocr_model_files,
    recipe_of,
)
from reelseek.core.cluster_worker import PathMap
from reelseek.core.words.ocr import ScreenTextSource
from reelseek.core.words.speech import SpeechSource
from reelseek.core.words.types import SAID, WRITTEN
from tests.core.speech_helpers import bundled_tiny_en
from tests.synth.screen_text import TextOverlay, write_text_clip
from tests.synth.speech import have_espeak, write_speech_clip


def _node(nid: str, cpus: float, gpus: float = 0, alive: bool = True) -> dict[str, object]:
    res = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
    return {"NodeID": nid, "Alive": alive, "Resources": res}


def test_plan_puts_one_worker_per_gpu_on_cuda_and_per_cpu_slot_elsewhere() -> None:
    nodes = [_node("gpu", 16, gpus=2), _node("cpu", 4), _node("dead", 64, alive=False)]
    plans = plan_actors(nodes, ClusterConfig(cpus_per_worker=2.0), n_files=100)
    by_node = [(p.node_id, p.device, p.num_gpus, p.num_cpus) for p in plans]
    # The GPU node: one worker per GPU, each asking Ray for a whole GPU, running on CUDA.
    # The CPU node: 4 CPUs / 2 per worker. The dead node: none.
    assert by_node == [("gpu", "cuda", 1, 2.0)] * 2 + [("cpu", "cpu", 0, 2.0)] * 2
    assert len(plan_actors(nodes, ClusterConfig(), n_files=3)) == 3  # never more workers than files
    assert len(plan_actors(nodes, ClusterConfig(workers=1), n_files=100)) == 1
    assert plan_actors([_node("dead", 8, alive=False)], ClusterConfig(), n_files=5) == []


def test_recipe_rebuilds_the_drivers_sources(tmp_path: Path) -> None:
    speech = SpeechSource(tmp_path / "tiny.en", language="en", model_id="tiny.en", beam_size=3)
    ocr = ScreenTextSource(min_gap=3.0, max_gap=20.0)
    recipe = recipe_of([speech, ocr, object()])
    assert recipe.speech is not None and recipe.ocr is not None
    assert recipe.speech["model_id"] == "tiny.en" and recipe.speech["beam_size"] == 3
    assert recipe.speech["language"] == "en" and recipe.ocr["min_gap"] == 3.0 and recipe.ocr["max_gap"] == 20.0
    assert recipe_of([ocr]).speech is None


@pytest.mark.slow
@pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")
def test_worker_reads_words_like_the_local_sources(tmp_path: Path) -> None:
    root = tmp_path / "footage"
    root.mkdir()
    talk = root / "talk.mp4"
    write_speech_clip(talk, [(1.0, "the delivery truck arrives at noon")], duration=5.0)
    slate = root / "slate.mp4"
    write_text_clip(slate, [TextOverlay("SC 12 TK 3", 1.0, 4.0, font="sans-bold", size=72)], duration=6.0)
    speech_files = folder_files(bundled_tiny_en())
    ocr_files = ocr_model_files()
    if not ocr_files:
        pytest.skip("rapidocr's models are not on this machine (OCR never ran here)")
    local_speech = SpeechSource(bundled_tiny_en(), model_id="tiny.en", cpu_threads=1)
    local_ocr = ScreenTextSource(threads=1)
    recipe = recipe_of([local_speech, local_ocr])
    worker = WordsWorker(recipe, speech_files, ocr_files, "cpu", [PathMap("/driver/footage", str(root))], threads=1)
    try:
        # The worker reads the copies the driver shipped, not the node's own packages.
        speech = worker.sources[SAID]
        assert speech.model_dir.parent.parent == worker._dir and (speech.model_dir / "model.bin").is_file()
        assert Path(worker.sources[WRITTEN].model_root_dir).parent == worker._dir
        got = worker.words(3, "/driver/footage/talk.mp4", [SAID, WRITTEN])
        assert got.file_id == 3 and got.errors == {}, got.errors
        assert got.lines[SAID] == local_speech.extract(str(talk))
        assert "truck" in " ".join(ln.text for ln in got.lines[SAID]).lower()
        assert got.lines[WRITTEN] == []  # a plain moving picture: no text
        read = worker.words(4, "/driver/footage/slate.mp4", [WRITTEN])
        want = local_ocr.extract(str(slate))
        spans = [(ln.text, ln.start, ln.end) for ln in read.lines[WRITTEN]]
        assert spans == [(ln.text, ln.start, ln.end) for ln in want]
        assert any("SC 12" in ln.text for ln in want)
        # A path the node cannot see says so (per source), and the worker carries on.
        gone = worker.words(5, "/driver/footage/missing.mp4", [SAID])
        assert "not found on node" in gone.errors[SAID] and "--path-map" in gone.errors[SAID]
    finally:
        worker.close()
    assert not worker._dir.exists()


def test_worker_without_a_shipped_speech_model_says_how_to_get_it(tmp_path: Path) -> None:
    if not have_espeak():
        pytest.skip("espeak-ng is not installed")
    talk = tmp_path / "talk.mp4"
    write_speech_clip(talk, [(0.5, "turn left at the old church")], duration=3.0)
    recipe = WordsRecipe(speech={"model_id": "tiny.en"})
    worker = WordsWorker(recipe, {}, {}, "cpu", [], threads=1)
    try:
        got = worker.words(1, str(talk), [SAID, WRITTEN])
        assert "tiny.en is not on this machine" in got.errors[SAID]  # the local run's words status
        assert "not set up" in got.errors[WRITTEN]
    finally:
        worker.close()


def test_words_benchmark_writer_and_table() -> None:
    from tests.bench.cluster_words import table, words_writer_ceiling

    w = words_writer_ceiling(n_files=3, lines=2)
    assert w["results_per_s"] > 0 and w["lines_per_s"] > w["results_per_s"]
    run = {"s_per_file": 3.0, "steady_s_per_file": 2.0, "run_s": 12.0, "workers_start_s": 4.0, "words_lines": 5}
    fake = {"files": 4, "footage_s": 32.0, "local": run, "ray_1_worker": run, "writer": w}
    text = table({**fake, "workers_until_writer_bound": 250.0})
    assert "| Ray, 1 worker | 3.00 | 2.00 | 12.0 | 4.0 | 5 |" in text and "binds at ~250 workers" in text
