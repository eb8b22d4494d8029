"""The benchmark machinery runs end to end on toy sizes and writes sane results (it times nothing)."""

from __future__ import annotations

import json
import math

import pytest

from tests.bench.embedders import bundled_model_available

pytestmark = pytest.mark.skipif(not bundled_model_available(), reason="the bundled test model is not in the repository")


def _finite_positive(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_toy_benchmark_writes_json_tables_and_charts(tmp_path, monkeypatch):
    from tests.bench.__main__ import main

    monkeypatch.setenv("REELSEEK_BENCH_MODEL", "reelseek-test-tiny")
    out = tmp_path / "out"
    main(["--toy", "--out", str(out), "--work", str(tmp_path / "work")])

    results = json.loads((out / "results.json").read_text())
    assert {"command", "machine", "indexing", "search", "quality", "targets", "charts"} <= results.keys()

    idx = results["indexing"]
    assert idx["files"], "no file was benchmarked"
    assert {f["mode"] for f in idx["files"]} == {"strict", "keyframes"}, "both samplings are measured"
    row = idx["files"][0]
    assert row["mode"] == "strict" and row["every_s"] == 1.0
    for key in (
        "reelseek_vps",
        "naive_vps",
        "ceiling_vps",
        "encoder_alone_vps",
        "decoder_alone_vps",
        "fraction_of_ceiling",
        "multiple_of_naive",
    ):
        assert _finite_positive(row[key]), (key, row[key])
    assert row["frames"] >= 2
    assert set(row["split_alone_s_per_video_s"]) == {"decode", "preprocess", "encode", "write"}
    agree = row["agreement"]
    assert 0.9 < agree["min_cos"] <= agree["mean_cos"] <= 1.0001
    assert idx["all_files_keyframes"]["vps"] > 0
    assert idx["all_files"]["disk_bytes"] > 0 and idx["all_files"]["segments"] >= 1
    assert idx["indexer_rss"]["peak_bytes"] >= idx["indexer_rss"]["after_model_bytes"] > 0

    st = results["startup"]
    assert st["segments"] == 200 and len(st["after"]["runs"]) == 1
    for path in ("before", "after"):
        assert st[path]["wall_s_median"] > 0 and st[path]["peak_rss_bytes"] > 0
    assert st["same_top_result"], "the torch-free text path changed the top result"
    # The chosen text tower is int8 when its export check passed (text_export.MIN_COSINE_INT8).
    assert st["embedding"]["onnxruntime text tower (chosen)"]["min_cosine_to_fp32"] >= 0.999
    assert "Time to first answer" in (out / "results.md").read_text()

    size = results["search"]["sizes"][0]
    assert size["segments"] == 2000
    assert size["queries"] == 20 and size["total"]["n"] == 20
    for key in ("stage1", "stage2", "total", "exact"):
        assert size[key]["p50_ms"] <= size[key]["p99_ms"]
    assert 0.5 <= size["recall_at_100"] <= 1.0  # a working ANN index finds most of the exact top 100
    assert size["rss"]["search_bytes"] > 0
    assert size["embed"]["n"] == 3

    variants = results["quality"]["variants"]
    assert set(variants) == {"single_stage", "two_stage", "fixed_windows"}
    for v in variants.values():
        assert 0.0 <= v["R@1"] <= v["R@5"] <= v["R@10"] <= 1.0
        assert v["median_rank"] >= 1.0 and v["mean_rank"] >= 1.0
        assert 0.0 <= v["R1@IoU0.7"] <= v["R1@IoU0.5"] <= 1.0
    # The test model reads these scenes: the product finds the right video for most queries.
    assert variants["two_stage"]["R@5"] >= 0.5
    # The default sampling is judged against strict on the same queries, counting frames.
    sampling = results["quality"]["sampling"]
    assert set(sampling) == {"strict", "edges+pin-bare"} and results["quality"]["headline_sampling"] == "edges+pin-bare"
    assert 0 < sampling["edges+pin-bare"]["frames"] < sampling["strict"]["frames"]
    assert all(v["decoded_frames"] >= v["frames"] for v in sampling.values())
    assert set(results["quality"]["sampling_delta_ci95"]["edges+pin-bare"]) == {"R@1", "R1@IoU0.5", "mean_IoU"}

    md = (out / "results.md").read_text()
    for heading in ("Targets", "Indexing throughput", "Search latency", "Memory and disk", "Retrieval quality"):
        assert heading in md
    assert all((out / name).stat().st_size > 0 for name in results["charts"])
    assert len(results["charts"]) >= 4
