"""`reelseek-cli models use ID` and `models prune ID`: switch models without losing search."""

from __future__ import annotations

import argparse
import json
import os
import sys

COMMANDS = ("use", "prune")


def add_parsers(models_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the switching commands under `models`."""
    us = models_sub.add_parser(
        "use",
        help="search and index with this model from now on; the old one keeps answering until the new one "
        "covers the library (run `reelseek-cli index`)",
    )
    us.add_argument("id")
    us.add_argument("--json", action="store_true")
    pr = models_sub.add_parser("prune", help="remove a model's vectors from the library (never the one in use)")
    pr.add_argument("id")
    pr.add_argument("--json", action="store_true")
    for p in (us, pr):
        p.add_argument("--wait", action="store_true", help="wait for another process changing the library")
        p.add_argument("--wait-max", type=float, metavar="SECONDS", help="like --wait, for at most SECONDS")


def run(args: argparse.Namespace) -> int:
    from .errors import EXIT_USAGE
    from .library import Library, LibraryError
    from .model_switch import prune_model, use_model
    from .models import ModelError
    from .models.registry import MODEL_ENV

    wait = max(0.0, args.wait_max) if args.wait_max is not None else (None if args.wait else 0.0)
    try:
        lib = Library(args.home, device=args.device, wait=wait)
    except LibraryError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return e.exit_code
    try:
        if args.models_command == "use":
            before = lib.search_model()
            state = use_model(lib, args.id)
            out: dict[str, object] = state.to_json()
            if not args.json:
                if state.switching:
                    print(
                        f"now using {state.target}: {state.percent}% of the library has its vectors; searches keep "
                        f"using {state.serving} until `reelseek-cli index` covers the rest"
                    )
                else:
                    print(f"now using {state.target} (it covers the library)")
                env_model = os.environ.get(MODEL_ENV)
                if env_model and env_model != args.id:
                    note = f"note: ${MODEL_ENV}={env_model} is set and overrides this choice while it is"
                    print(note, file=sys.stderr)
                if before not in (state.target, state.serving):
                    print(f"the vectors of {before} stay until `reelseek-cli models prune {before}`")
        else:
            n = prune_model(lib, args.id)
            out = {"pruned": args.id, "segments": n}
            if not args.json:
                print(f"removed {n} segment(s) of {args.id} and its index file")
        if args.json:
            print(json.dumps(out, indent=2))
        return 0
    except ModelError as e:
        serving = lib.search_model()
        print(f"reelseek-cli: {e}", file=sys.stderr)
        print(f"reelseek-cli: nothing changed; searches keep using {serving}", file=sys.stderr)
        return EXIT_USAGE
    except LibraryError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return e.exit_code
    finally:
        lib.close()
