"""`reelseek-cli doctor [--repair] [--json]`: check a library end to end, and repair it."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import EXIT_DAMAGED, EXIT_OK, LibraryError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "doctor",
        help="check the library's database, backups and vector index; --repair fixes what it finds",
        description=(
            "Full integrity check of the library database, the vector index against the database, and "
            "the backups. --repair restores the newest good backup over a damaged or lost database "
            "(the damaged file is kept aside), rebuilds the vector index, and re-queues files whose "
            "rows were lost for the next `reelseek-cli index`."
        ),
    )
    p.add_argument("--repair", action="store_true", help="fix what the check finds")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    parser: argparse.ArgumentParser = p
    return parser


def run(args: argparse.Namespace) -> int:
    from .cli import _wait_seconds
    from .doctor import diagnose, repair

    try:
        report = repair(args.home, wait=_wait_seconds(args)) if args.repair else diagnose(args.home)
    except LibraryError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return e.exit_code
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for action in report.actions:
            print(f"repair: {action}")
        print(f"database: {report.database}: {report.problem or 'ok'}")
        for ix in report.indexes:
            counts = f"{ix.vectors} vectors, {ix.segments} segments in the database"
            print(f"index: {ix.model_id}: {counts}: {ix.problem or 'ok'}")
        print(f"backups: {report.backups}" + (f" (newest good: {report.good_backup})" if report.good_backup else ""))
        if report.requeued:
            print(f"{report.requeued} file(s) wait for `reelseek-cli index`")
        if not report.healthy and not args.repair:
            print("run `reelseek-cli doctor --repair` to fix this")
    return EXIT_OK if report.healthy else EXIT_DAMAGED
