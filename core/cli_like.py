"""`reelseek-cli search --like FILE@IN-OUT` (more like this) and --relevant/--irrelevant (feedback)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .errors import EXIT_USAGE

if TYPE_CHECKING:
    from .library import Library
    from .types import Filters, Query, SearchResult

MOMENT_HELP = "FILE@START-END (seconds or m:ss, as in --json's path/start/end), FILE@TIME, or FILE"


def add_arguments(se: argparse.ArgumentParser) -> None:
    se.add_argument(
        "--like",
        metavar="MOMENT",
        help=f"more like this: search by a library moment's own frames ({MOMENT_HELP}); the moment itself is left out",
    )
    se.add_argument("--at", metavar="TIME", help="with --like FILE: the shot around this time (seconds or m:ss)")
    se.add_argument(
        "--relevant",
        "--more-like",
        action="append",
        default=[],
        metavar="MOMENT",
        help="relevance feedback: a result you want more of (repeatable); re-ranks without re-embedding",
    )
    se.add_argument(
        "--irrelevant",
        action="append",
        default=[],
        metavar="MOMENT",
        help="relevance feedback: a result you want less of (repeatable)",
    )


def wanted(args: argparse.Namespace) -> bool:
    return bool(args.like or args.relevant or args.irrelevant or args.at)


def check(args: argparse.Namespace, query: Query) -> str | None:
    """Why these options cannot run together, or None."""
    if args.at and not args.like:
        return "--at needs --like FILE"
    if args.like and not query.is_empty():
        return "--like searches by a moment: leave out the text, --image and --clip (use --relevant to refine a query)"
    if (args.relevant or args.irrelevant) and query.is_empty() and not args.like:
        return "--relevant/--irrelevant refine a query: give text, --image, --clip or --like as well"
    if args.batch:
        return "--batch cannot be combined with --like, --relevant or --irrelevant"
    return None


def search(lib: Library, args: argparse.Namespace, query: Query, filters: Filters) -> SearchResult:
    """The more-like-this or feedback-refined answer (MomentNotFound, a LibraryError, when a
    named moment is not in the library: exit code 2)."""
    from .feedback import IRRELEVANT, RELEVANT, Mark
    from .similar import MomentNotFound, base_vector, parse_moment, parse_seconds, search_like, search_refined

    def mark(text: str, value: int) -> Mark:
        ref = parse_moment(text)
        if ref.start is None:
            # A whole file as feedback: its full range.
            row = lib.store.file_by_path(ref.path)
            if row is None:
                raise MomentNotFound(f"not in the library: {ref.path} (add its folder and index it first)")
            return Mark(ref.path, 0.0, row.duration, value)
        return Mark(ref.path, ref.start, ref.end if ref.end is not None else ref.start, value)

    marks = [mark(t, RELEVANT) for t in args.relevant] + [mark(t, IRRELEVANT) for t in args.irrelevant]
    if args.like:
        try:
            at = parse_seconds(args.at) if args.at else None
        except ValueError as e:
            raise MomentNotFound(f"--at: {e}") from None
        target, result = search_like(lib, parse_moment(args.like, at), marks, limit=args.limit, filters=filters)
        if not args.json:  # say which moment was read (a time names the shot around it), on stderr
            print(
                f"more like {target.path} {target.start:.1f}-{target.end:.1f} s (the moment itself is left out)",
                file=sys.stderr,
            )
        return result
    return search_refined(lib, base_vector(lib, query), marks, limit=args.limit, filters=filters)


def refuse(message: str) -> int:
    print(f"reelseek-cli: {message}", file=sys.stderr)
    return EXIT_USAGE
