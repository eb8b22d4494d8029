"""`reelseek-cli models list-speech | download-speech | import-speech | check-speech`: Whisper models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMANDS = ("list-speech", "download-speech", "import-speech", "check-speech")


def add_parsers(models_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the speech model commands under `models`."""
    ls = models_sub.add_parser("list-speech", help="known speech (Whisper) models and whether they are here")
    ls.add_argument("--json", action="store_true")
    dl = models_sub.add_parser("download-speech", help="download a speech model (with progress and resume)")
    dl.add_argument("id")
    im = models_sub.add_parser("import-speech", help="import a speech model folder (air-gapped machines)")
    im.add_argument("dir", type=Path, help="folder with model.bin, config.json, tokenizer.json, vocabulary.*")
    im.add_argument("--as", dest="as_id", required=True, help="the speech model id it is (e.g. tiny.en)")
    ck = models_sub.add_parser("check-speech", help="check that a speech model here is complete and loads")
    ck.add_argument("id")


def run(args: argparse.Namespace) -> int:
    from .models import ModelError
    from .models.speech_registry import DEFAULT_SPEECH_MODEL, get_speech_spec, list_speech_models
    from .paths import data_paths
    from .words import speech_models as sm

    models_dir = data_paths(args.home).ensure().models
    cmd = args.models_command
    try:
        if cmd == "list-speech":
            rows = [
                {
                    "id": s.id,
                    "languages": "English" if s.english_only else "multilingual",
                    "size_mb": s.size_mb,
                    "available": sm.is_available(s, models_dir),
                    "default_for": [d for d, m in DEFAULT_SPEECH_MODEL.items() if m == s.id],
                    "description": s.description,
                    "repo": s.hf_repo,
                }
                for s in list_speech_models()
            ]
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for r in rows:
                    mark = "*" if r["available"] else " "
                    where = [d for d, m in DEFAULT_SPEECH_MODEL.items() if m == r["id"]]
                    tag = f" (default: {', '.join(where)})" if where else ""
                    print(f"{mark} {r['id']:<16} {r['languages']:<12} {r['size_mb']:>5} MB  {r['description']}{tag}")
            return 0
        spec = get_speech_spec(args.as_id if cmd == "import-speech" else args.id)
        if cmd == "download-speech":
            from .cli import _ByteBar

            bar = _ByteBar()
            path = sm.download(spec, models_dir, progress=bar)
            bar.done()
            print(f"{spec.id}: downloaded and checked, in {path}")
        elif cmd == "import-speech":
            path = sm.import_model(args.dir, spec, models_dir)
            print(f"{spec.id}: imported and checked, in {path}")
        else:
            folder = sm.model_folder(spec, models_dir)
            if not sm.is_available(spec, models_dir):
                raise sm.missing_model_error(spec)
            sm.check_model_dir(folder, spec)
            print(f"{spec.id}: complete and loads ({folder})")
        return 0
    except ModelError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2
