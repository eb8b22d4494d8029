"""False "good match" / false "no good match" rates of the calibrated confidence on a generated library.

Run: ``python -m tests.synth.confidence_rates [n_videos seed codecs]`` (builds a library in a
temporary folder, indexes it with the test model through the real CLI, prints the rates as JSON).
tests/e2e/test_confidence.py asserts the same figures against fixed thresholds; docs/search.md records them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.synth.scenes import BACKGROUNDS, COLOURS, SHAPES, article, canonical_caption
from tests.synth.videos import VideoSpec, make_library

# Words the test model never saw, and everyday subjects no generated scene shows.
OUT_OF_VOCABULARY = (
    "a giraffe eating pizza",
    "stock market crash",
    "a wedding dress",
    "the bride kisses the groom",
    "an old man playing chess",
    "traffic jam in tokyo",
    "a cat sleeping on a sofa",
    "fireworks over the harbour",
    "a surgeon in an operating room",
    "snow on mountains",
    "a politician giving a speech",
    "close-up of a violin",
)
# Not in the calibration's own null list (core/calibration.py NULL_QUERIES): a fair test.
GIBBERISH = (
    "zxqv blorft quantum tax invoice",
    "plorkin snevvy",
    "mwah dfrgl tusk",
    "hjkl yxcv bnm",
    "frobnicate the widgets",
    "ooglybooglyboo",
    "kweep zarf",
    "tralfamadore vonnegut",
    "ipsum factorum",
    "wqrt zzzp",
    "glorp",
    "ypqx mmmn",
)
SETS = ("in_domain", "near_miss", "out_of_vocabulary", "gibberish")


def queries(videos: Sequence[VideoSpec]) -> dict[str, list[str]]:
    """The four query sets for a library: only in_domain ones have a right answer in it."""
    scenes = [s for v in videos for s in v.scenes]
    pairs = {(s.colour, s.shape) for s in scenes}
    in_domain = [s.caption() for s in scenes] + sorted({article(f"{c} {s}") for c, s in pairs})
    # Near misses: a colour-shape pair no scene shows (held-out pairs and wrong colours),
    # with words the model knows; partial answers (the shape in another colour) exist.
    near = [canonical_caption(c, s, b) for c in COLOURS for s in SHAPES for b in BACKGROUNDS if (c, s) not in pairs]
    return {
        "in_domain": in_domain,
        "near_miss": near,
        "out_of_vocabulary": list(OUT_OF_VOCABULARY),
        "gibberish": list(GIBBERISH),
    }


def rates(batch: Sequence[dict[str, object]], sets: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Per set: the share flagged "no good match" (false for in_domain, right for the others)."""
    flagged = {str(item["query"]): bool(item["no_good_match"]) for item in batch}
    out = {}
    for name, qs in sets.items():
        n_flag = sum(flagged[q] for q in qs)
        if name == "in_domain":
            out[name] = {"queries": len(qs), "false_no_good_match": round(n_flag / len(qs), 4)}
        else:
            out[name] = {"queries": len(qs), "false_good_match": round(1 - n_flag / len(qs), 4)}
    return out


def run_batch(cli: Sequence[str], env: dict[str, str], sets: dict[str, list[str]], workdir: Path) -> list[dict]:
    qfile = workdir / "queries.txt"
    qfile.write_text("\n".join(q for qs in sets.values() for q in qs), encoding="utf-8")
    proc = subprocess.run(
        [*cli, "search", "--batch", str(qfile), "--json", "-n", "5"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=1200,
    )
    return json.loads(proc.stdout)


def main(argv: Sequence[str] = ()) -> int:
    """``[n_videos seed codecs]``: default 20 11 h264,hevc,vp9,prores (the e2e `indexed` library)."""
    from tests.e2e.conftest import cli_env, cli_path

    n, seed, codecs = (list(argv) + ["20", "11", "h264,hevc,vp9,prores"][len(argv) :])[:3]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        videos = make_library(root / "footage", n_videos=int(n), codecs=tuple(codecs.split(",")), seed=int(seed))
        env = cli_env(root / "home")
        subprocess.run([cli_path(), "index", str(root / "footage"), "--quiet", "--no-words"], env=env, check=True)
        sets = queries(videos)
        batch = run_batch([cli_path()], env, sets, root)
        status = json.loads(
            subprocess.run([cli_path(), "status", "--json"], env=env, capture_output=True, text=True).stdout
        )
        library = {"videos": int(n), "seed": int(seed), "codecs": codecs}
        out = {"library": library, "rates": rates(batch, sets), "calibration": status["calibration"]}
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
