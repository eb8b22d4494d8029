"""A further query in a long-lived process: query embedding plus search at 100 k segments.

One process opens the library read-only (as the CLI does; the app holds the same objects),
answers a first query (loads the text tower, the index, the calibration and the background
sample) and then times distinct queries (the query-vector cache never hits). ``embed``,
``stage1`` and ``stage2`` are the searcher's own timings; ``wall`` is all of
``Library.search`` (words fusion, take grouping, source timecodes). Text engines run in turn
in the same process, query by query, so machine load hits them alike: the product's text
tower (int8 when its export check passed) and the fp32 export it replaced (#11), built from
the same weights file in a separate models folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tests.bench.common import median

QUERIES = (
    "a person walking a dog on a beach at sunset",
    "two people talking in a kitchen",
    "a red car parked on a street at night",
    "aerial view of a city skyline",
    "children playing football in a park",
    "close-up of hands typing on a keyboard",
    "a crowded market in the rain",
    "snow falling on a mountain village",
    "a man riding a bicycle through traffic",
    "waves crashing against rocks",
    "an empty office with fluorescent lights",
    "a woman reading a book by a window",
    "fireworks over a river",
    "a train arriving at a station",
    "a cat sleeping on a sofa",
    "a drone shot of a forest road",
    "people dancing at a wedding",
    "a chef chopping vegetables",
    "a lighthouse at dusk",
    "a dog running through tall grass",
)
TARGET_MS = 60.0


def further_queries(home: Path, model_id: str, n: int) -> dict[str, Any]:
    """Per-query figures for ``n`` distinct queries after a first one, per text engine."""
    from reelseek.core.library import Library
    from reelseek.core.models.text_encoder import ENGINE_ENV

    texts = QUERIES[: max(1, min(n, len(QUERIES)))]
    engines = {"onnxruntime text tower (product)": "", "onnxruntime fp32 text tower (before)": "fp32"}
    libs: dict[str, Any] = {}
    rows: dict[str, list[dict[str, float]]] = {}
    old = os.environ.get(ENGINE_ENV)
    try:
        for name, env in engines.items():
            os.environ[ENGINE_ENV] = "" if env == "fp32" else env
            lib = Library(home, model_id=model_id, readonly=True)
            if env == "fp32":
                lib._text_encoders[model_id] = fp32_text_encoder(home, model_id)
            lib.search("warm up: the first query", limit=20)
            libs[name], rows[name] = lib, []
        for text in texts:
            for name, lib in libs.items():
                t0 = time.perf_counter()
                r = lib.search(text, limit=20)
                wall = time.perf_counter() - t0
                tm = r.timings
                rows[name].append(
                    {
                        "embed_ms": 1000 * tm.get("embed", 0.0),
                        "stage1_ms": 1000 * tm.get("stage1", 0.0),
                        "stage2_ms": 1000 * tm.get("stage2", 0.0),
                        "words_ms": 1000 * tm.get("words", 0.0),
                        "takes_ms": 1000 * tm.get("takes", 0.0),
                        "wall_ms": 1000 * wall,
                    }
                )
    finally:
        for lib in libs.values():
            lib.close()
        if old is None:
            os.environ.pop(ENGINE_ENV, None)
        else:
            os.environ[ENGINE_ENV] = old
    out: dict[str, Any] = {"queries": len(texts), "segments": _segments(home), "target_ms": TARGET_MS}
    for name, rs in rows.items():
        summary = {k: median([r[k] for r in rs]) for k in rs[0]}
        summary["embed_plus_search_ms"] = median([r["embed_ms"] + r["stage1_ms"] + r["stage2_ms"] for r in rs])
        summary["best_embed_plus_search_ms"] = min(r["embed_ms"] + r["stage1_ms"] + r["stage2_ms"] for r in rs)
        out[name] = {"median": summary, "runs": rs}
    out["loadavg"] = list(os.getloadavg())
    return out


def fp32_text_encoder(home: Path, model_id: str) -> Any:
    """The fp32 text-tower export of the home's weights (what searches used before int8),
    built once in a child into ``<home>/../fp32-text-models`` over a hard link to the weights."""
    import subprocess
    import sys

    from reelseek.core.models import get_spec
    from reelseek.core.models.text_encoder import load_text_encoder
    from reelseek.core.models.weights import weights_path
    from reelseek.core.paths import data_paths

    spec = get_spec(model_id)
    src = weights_path(spec, data_paths(home).models)
    assert src is not None and src.is_file(), "the further-query benchmark needs an imported weights file"
    models = home.parent / "fp32-text-models"
    dst = models / spec.id / src.name
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dst)  # same file: same size and mtime, so the same fingerprint
    try:
        return load_text_encoder(spec, models, build=False)
    except Exception:
        code = (
            "import sys; from pathlib import Path; from reelseek.core.models import get_spec; "
            "from reelseek.core.models.text_encoder import build_text_cache; "
            "build_text_cache(get_spec(sys.argv[1]), Path(sys.argv[2]), int8_min_cosine=2.0)"
        )
        subprocess.run([sys.executable, "-c", code, model_id, str(models)], check=True, timeout=3600)
        enc = load_text_encoder(spec, models, build=False)
        assert enc.dtype == "float32"
        return enc


def _segments(home: Path) -> int:
    import sqlite3

    from reelseek.core.paths import data_paths

    conn = sqlite3.connect(f"file:{data_paths(home).database}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0])
    finally:
        conn.close()


def markdown(fq: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"A further query in one process ({fq['segments']:,} segments, {fq['queries']} distinct queries after a "
        f"first one, medians; load average {fq['loadavg'][0]:.1f}; "
        f"target {fq['target_ms']:.0f} ms embedding + search):",
        "",
        "| text engine | embed ms | stage 1 ms | stage 2 ms | embed + search ms (best) | takes grouping ms "
        "| whole `Library.search` ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, v in fq.items():
        if isinstance(v, dict) and "median" in v:
            m = v["median"]
            out.append(
                f"| {name} | {m['embed_ms']:.1f} | {m['stage1_ms']:.1f} | {m['stage2_ms']:.1f} | "
                f"{m['embed_plus_search_ms']:.1f} ({m['best_embed_plus_search_ms']:.1f}) | {m['takes_ms']:.1f} | "
                f"{m['wall_ms']:.1f} |"
            )
    return out


if __name__ == "__main__":
    import json
    import sys

    from tests.bench.embedders import default_spec

    home = Path(sys.argv[1])
    res = further_queries(home, default_spec().id, int(sys.argv[2]) if len(sys.argv) > 2 else 10)
    out = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("bench-out") / "further.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))  # every query's timings; the summary goes to stdout
    brief = {k: (v["median"] if isinstance(v, dict) and "median" in v else v) for k, v in res.items()}
    print(json.dumps(brief, indent=1))
