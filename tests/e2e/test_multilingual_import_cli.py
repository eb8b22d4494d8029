"""`reelseek-cli models import` of a multilingual model: a partial bundle is refused with the missing file named."""

from __future__ import annotations

import json
import zipfile

from tests.e2e.conftest import run_cli

MODEL = "xlm-roberta-base-vit-b-32"


def test_partial_bundle_names_the_missing_tokenizer_file(tmp_path):
    home = tmp_path / "home"
    bundle = tmp_path / "xlmr"
    bundle.mkdir()
    (bundle / "open_clip_pytorch_model.bin").write_bytes(b"\x80" + b"\0" * 64)  # never reached
    (bundle / "tokenizer.json").write_text("{}")
    for src in (bundle, tmp_path / "xlmr.zip"):
        if src.suffix == ".zip":
            with zipfile.ZipFile(src, "w") as z:
                for p in bundle.iterdir():
                    z.write(p, f"xlmr/{p.name}")
        proc = run_cli(home, "models", "import", src, "--as", MODEL, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "config.json" in proc.stderr and "tokenizer" in proc.stderr and "Traceback" not in proc.stderr
    listed = json.loads(run_cli(home, "models", "list", "--json").stdout)
    assert next(r for r in listed if r["id"] == MODEL)["available"] is False
    assert not (home / "models" / MODEL / "tokenizer").exists()


def test_lone_weights_file_for_a_multilingual_model_asks_for_the_tokenizer(tmp_path):
    home = tmp_path / "home"
    weights = tmp_path / "open_clip_pytorch_model.bin"
    weights.write_bytes(b"\x80" + b"\0" * 64)
    proc = run_cli(home, "models", "import", weights, "--as", MODEL, check=False)
    assert proc.returncode == 2
    assert "tokenizer.json" in proc.stderr and "import a folder or archive" in proc.stderr
