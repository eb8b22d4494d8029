"""reelseek-cli export and reelseek-cli collections: selects to EDL/FCP7 XML/FCPXML/OTIO/CSV, and bins."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

# format -> extension (as core.export.FORMATS; not imported so `--help` stays light)
FORMATS = {"edl": ".edl", "fcp7": ".xml", "fcpxml": ".fcpxml", "otio": ".otio", "csv": ".csv"}
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def add_parser(sub: Any) -> None:
    """Register ``export`` and ``collections`` on the CLI's subparsers."""
    ex = sub.add_parser(
        "export",
        help="export search results or a collection as EDL, FCP7 XML, FCPXML, OTIO or CSV",
        description="Write moments with their source timecodes for an NLE: edl (CMX 3600), fcp7 (xmeml, "
        "Premiere Pro), fcpxml (Final Cut Pro, DaVinci Resolve), otio (OpenTimelineIO), csv.",
    )
    ex.add_argument("query", nargs="?", default="", help="export the best moments for this description")
    ex.add_argument("--collection", "-c", help="export this collection instead of a search")
    ex.add_argument("--format", "-f", choices=list(FORMATS), help="default: from the output file's extension")
    ex.add_argument("--handles", type=int, default=0, help="extra frames before and after each clip (clamped)")
    ex.add_argument("--limit", "-n", type=int, default=10, help="moments to export from a search (default 10)")
    ex.add_argument("--name", help="timeline name (default: the collection name or the query)")
    ex.add_argument("-o", "--output", type=Path, required=True, help="file to write")

    co = sub.add_parser("collections", help="named bins of selects: list, show, create, add, remove, ...")
    cs = co.add_subparsers(dest="collections_command", required=True)
    ls = cs.add_parser("list", help="every collection and its size")
    ls.add_argument("--json", action="store_true")
    sh = cs.add_parser("show", help="a collection's items with source timecodes")
    sh.add_argument("name")
    sh.add_argument("--json", action="store_true")
    sh.add_argument("--seconds", action="store_true", help="times as HH:MM:SS.mmm from the file start")
    cs.add_parser("create", help="a new, empty collection").add_argument("name")
    ad = cs.add_parser("add", help="add search results or a marked range of a file")
    ad.add_argument("name", help="the collection (created if missing)")
    ad.add_argument("--query", "-q", help="search and add results")
    ad.add_argument("--pick", default="1", help="which results to add: 1, or 1,3,4 (default 1)")
    ad.add_argument("--file", type=Path, help="add a range of this file")
    ad.add_argument("--in", dest="tc_in", help="in point: source timecode (01:00:10:00) or seconds")
    ad.add_argument("--out", dest="tc_out", help="out point: source timecode or seconds")
    ad.add_argument("--note", default="", help="a note kept with the item (exported too)")
    rm = cs.add_parser("remove", help="remove an item (its number from `show`)")
    rm.add_argument("name")
    rm.add_argument("item", type=int)
    rn = cs.add_parser("rename", help="rename a collection")
    rn.add_argument("name")
    rn.add_argument("new_name")
    cs.add_parser("delete", help="delete a collection (the footage is untouched)").add_argument("name")
    nt = cs.add_parser("note", help="set an item's note")
    nt.add_argument("name")
    nt.add_argument("item", type=int)
    nt.add_argument("text")
    tr = cs.add_parser("trim", help="change an item's in and out points")
    tr.add_argument("name")
    tr.add_argument("item", type=int)
    tr.add_argument("--in", dest="tc_in", required=True)
    tr.add_argument("--out", dest="tc_out", required=True)
    mv = cs.add_parser("move", help="move an item to another position")
    mv.add_argument("name")
    mv.add_argument("item", type=int)
    mv.add_argument("position", type=int)


def run(args: argparse.Namespace) -> int:
    """Entry point for both commands (``args.command`` is ``export`` or ``collections``)."""
    return run_export(args) if args.command == "export" else run_collections(args)


def _fail(message: str) -> int:
    print(f"reelseek-cli: {message}", file=sys.stderr)
    return 2


def _library(args: argparse.Namespace) -> Any:
    from .library import Library

    return Library(args.home, model_id=args.model, device=args.device)


def run_export(args: argparse.Namespace) -> int:
    from . import media
    from .export import ExportClip, ExportError, export, fill_sizes
    from .library import LibraryError
    from .models import ModelError
    from .selects import CollectionError

    fmt = args.format or {v: k for k, v in FORMATS.items()}.get(args.output.suffix.lower())
    if fmt is None:
        return _fail(f"cannot tell the format from {args.output.name!r}: give --format ({', '.join(FORMATS)})")
    if bool(args.query) == bool(args.collection):
        return _fail("export a search (QUERY) or a collection (--collection NAME), one of the two")
    lib = _library(args)
    try:
        if args.collection:
            clips = [ExportClip.from_item(i) for i in lib.collections.items(args.collection)]
            name = args.name or args.collection
        else:
            result = lib.search(args.query, limit=args.limit)
            clips = [ExportClip.from_moment(m, query=args.query) for m in result.moments]
            name = args.name or args.query
        planned = export(fill_sizes(clips, lib.store), fmt, args.output, handles=args.handles, name=name)
    except (ExportError, CollectionError, LibraryError, ModelError, media.MediaError, OSError) as e:
        return _fail(str(e))
    finally:
        lib.close()
    rates = sorted({p.rate.label for p in planned.clips})
    print(f"wrote {len(planned.clips)} clip(s) to {args.output} ({fmt}, timeline {planned.rate.label} fps)")
    if fmt == "edl" and len(rates) > 1:
        print(
            f"note: clips at {', '.join(rates)} in one EDL: each event's source timecode is in its own clip's "
            "rate; NLEs read an EDL at one rate, so prefer fcp7/fcpxml for mixed-rate selects",
            file=sys.stderr,
        )
    odd = sorted({p.rate.label for p in planned.clips if not p.rate.smpte})
    if fmt == "edl" and odd:
        print(
            f"note: {', '.join(odd)} fps has no SMPTE timecode: the EDL counts those clips' frames at their own "
            "rate (see its comments); NLE projects rarely run at it, so prefer fcp7/fcpxml for them",
            file=sys.stderr,
        )
    offline = sum(p.clip.offline for p in planned.clips)
    if offline:
        print(f"note: {offline} clip(s) are offline; exported with their last known path", file=sys.stderr)
    return 0


def _item_at(items: list[Any], number: int) -> Any:
    from .selects import CollectionError

    if not 1 <= number <= len(items):
        raise CollectionError(f"no item {number}: the collection has {len(items)} item(s)")
    return items[number - 1]


def _times(tc_in: str, tc_out: str) -> tuple[float, float] | tuple[str, str]:
    """Seconds when both are plain numbers, else timecodes for the file's clock."""
    if _NUMBER.match(tc_in) and _NUMBER.match(tc_out):
        return float(tc_in), float(tc_out)
    return tc_in, tc_out


def run_collections(args: argparse.Namespace) -> int:
    from .library import LibraryError
    from .models import ModelError
    from .selects import CollectionError

    lib = _library(args)
    try:
        return _collections(lib, args)
    except (CollectionError, LibraryError, ModelError, ValueError) as e:
        return _fail(str(e))
    finally:
        lib.close()


def _collections(lib: Any, args: argparse.Namespace) -> int:
    from .selects import CollectionError

    cols = lib.collections
    cmd = args.collections_command
    if cmd == "list":
        infos = cols.list()
        if args.json:
            print(json.dumps([{"name": c.name, "items": c.count, "created": c.created} for c in infos], indent=2))
        for c in [] if args.json else infos:
            print(f"{c.name}  ({c.count} item{'s' if c.count != 1 else ''})")
        if not infos and not args.json:
            print("no collections yet: `reelseek-cli collections add NAME --query ...`")
        return 0
    if cmd == "show":
        items = cols.items(args.name)
        if args.json:
            print(json.dumps([i.to_json() for i in items], indent=2, ensure_ascii=False))
            return 0
        from .timecode import timecode

        for n, i in enumerate(items, 1):
            span = (
                f"{timecode(i.in_s)} - {timecode(i.out_s)}" if args.seconds else f"{i.timecode_in} - {i.timecode_out}"
            )
            flags = "  [offline]" if i.offline else ""
            note = f"  # {i.note}" if i.note else ""
            print(f"{n:3d}. {span}  {i.rate.label:>10}  {i.display}{flags}{note}")
        if not items:
            print(f"{args.name} is empty")
        return 0
    if cmd == "create":
        print(f"created {cols.create(args.name).name}")
        return 0
    if cmd == "add":
        return _add(lib, args)
    if cmd == "remove":
        it = _item_at(cols.items(args.name), args.item)
        cols.remove(it.id)
        print(f"removed {it.name} {it.timecode_in} - {it.timecode_out} from {args.name}")
        return 0
    if cmd == "rename":
        print(f"renamed to {cols.rename(args.name, args.new_name).name}")
        return 0
    if cmd == "delete":
        cols.delete(args.name)
        print(f"deleted {args.name}")
        return 0
    if cmd == "note":
        cols.annotate(_item_at(cols.items(args.name), args.item).id, args.text)
        return 0
    if cmd == "trim":
        it = _item_at(cols.items(args.name), args.item)
        lo, hi = _times(args.tc_in, args.tc_out)
        if isinstance(lo, str):
            lo, hi = float(it.clock.seconds(lo)), float(it.clock.seconds(str(hi)))
        it = cols.trim(it.id, float(lo), float(hi))
        print(f"{it.name} {it.timecode_in} - {it.timecode_out}")
        return 0
    if cmd == "move":
        cols.move(_item_at(cols.items(args.name), args.item).id, args.position - 1)
        return 0
    raise CollectionError(f"unknown command {cmd}")


def _add(lib: Any, args: argparse.Namespace) -> int:
    from .selects import CollectionError

    cols = lib.collections
    if bool(args.query) == bool(args.file):
        raise CollectionError("add search results (--query) or a range of a file (--file --in --out)")
    added = []
    if args.query:
        picks = [int(p) for p in str(args.pick).replace(" ", "").split(",") if p]
        if not picks or min(picks) < 1:
            raise CollectionError("--pick takes result numbers from 1, e.g. 1 or 1,3")
        result = lib.search(args.query, limit=max(picks))
        for n in picks:
            if n > len(result.moments):
                raise CollectionError(f"the search gave {len(result.moments)} result(s), not {n}")
            added.append(cols.add_moment(args.name, result.moments[n - 1], query=args.query, note=args.note))
    else:
        if not (args.tc_in and args.tc_out):
            raise CollectionError("--file needs --in and --out (source timecode or seconds)")
        lo, hi = _times(args.tc_in, args.tc_out)
        if isinstance(lo, str):
            added.append(cols.add_timecodes(args.name, args.file, lo, str(hi), note=args.note))
        else:
            added.append(cols.add_range(args.name, args.file, float(lo), float(hi), note=args.note))
    for it in added:
        print(f"added {it.name} {it.timecode_in} - {it.timecode_out} ({it.rate.label}) to {args.name}")
    return 0
