"""The CLI's side of calibrated confidence: --closest, --all, --json-full, and the calibration in `status`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .types import Moment, SearchResult


def add_arguments(se: argparse.ArgumentParser) -> None:
    """Options of `search` that decide how much of the ranked list is printed."""
    se.add_argument(
        "--closest",
        action="store_true",
        help="when nothing is a good match, list the closest moments anyway (with their low confidence)",
    )
    se.add_argument(
        "--all",
        action="store_true",
        help="list up to --limit moments, the weak tail too (default: stop where confidence drops)",
    )
    se.add_argument(
        "--json-full",
        action="store_true",
        help="print one JSON object: no_good_match, moments, the tail's count, and the calibration",
    )


def shown(result: SearchResult, args: argparse.Namespace) -> list[Moment]:
    """What a human sees: the head of the list, with the tail under --all, nothing for a
    no-good-match query unless --closest (or --all) asks for the closest."""
    if result.no_good_match and not (args.closest or args.all):
        return []
    return listed(result, args)


def listed(result: SearchResult, args: argparse.Namespace) -> list[Moment]:
    """What JSON lists: the head (the closest ones too, flagged), the tail only under --all."""
    moments = list(result.moments) + (list(result.more) if args.all else [])
    return moments[: args.limit]


def moment_json(m: Moment) -> dict[str, object]:
    from .calibration import GOOD

    return {**m.to_json(), "good_match": m.confidence >= GOOD}


def result_json(
    query: str, result: SearchResult, args: argparse.Namespace, calibration: dict[str, object] | None
) -> dict[str, object]:
    moments = listed(result, args)
    return {
        "query": query,
        "no_good_match": result.no_good_match,
        "moments": [moment_json(m) for m in moments],
        "more": max(0, min(len(result.moments) + len(result.more), args.limit) - len(moments)),
        "calibration": calibration,
    }


def print_human(result: SearchResult, args: argparse.Namespace, line: object) -> None:
    """The ranked lines (``line(index, moment)`` prints one), or why there are none."""
    moments = shown(result, args)
    if result.no_good_match and not moments:
        n = min(len(result.moments) + len(result.more), args.limit)
        # Two lines that fit an 80-column terminal (the first was 98 columns).
        print("no good match: nothing scores above what unrelated queries")
        print(f"  reach in this library ({n} weak moments; add --closest to list them)")
        return
    if result.no_good_match:
        print("no good match: the closest moments below score like unrelated queries")
    for i, m in enumerate(moments, 1):
        line(i, m)  # type: ignore[operator]
    hidden = min(len(result.moments) + len(result.more), args.limit) - len(moments)
    if hidden > 0 and not args.all:
        print(f"  … {hidden} weaker moments not shown (--all lists up to --limit)")


def status_lines(cal: dict[str, object] | None) -> Sequence[str]:
    if not cal:
        return ["calibration: none yet (nothing indexed, or the model is missing)"]
    return [
        f"calibration: null-query ceiling {cal['null_ceiling']} above the query's own background "
        f"(null median {cal['null_gap_median']}, max {cal['null_gap_max']}, {cal['null_queries']} null queries)",
        f"calibration: background {cal['background']} over {cal['sample_frames']} sampled frames, "
        f"generation {cal['generation']}, {cal['segments']} segments",
    ]
