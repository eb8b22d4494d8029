"""reelseek-cli: index footage folders, search moments, show status, manage model weights."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import cli_confidence, cli_doctor, cli_like
from .cli_args import (
    checked_duration,
    positive_int,
    positive_seconds,
    positive_weight,
    query_words_first,
    window_seconds,
)
from .cli_progress import ProgressBar, cells, terminal_columns
from .errors import EXIT_CODES_HELP, EXIT_USAGE, as_library_error
from .models.device import DEVICE_CHOICES
from .timecode import timecode
from .types import Filters, Query

if TYPE_CHECKING:
    from .library import Library


def _duration(text: str) -> float:
    """Seconds from '90', '1:30', '01:02:03' or '2m'/'1h'."""
    text = text.strip().lower()
    try:
        if text.endswith("h"):
            return checked_duration(float(text[:-1]) * 3600, text)
        if text.endswith("m"):
            return checked_duration(float(text[:-1]) * 60, text)
        if text.endswith("s"):
            return checked_duration(float(text[:-1]), text)
        parts = [checked_duration(float(p), text) for p in text.split(":")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use 90, 1:30, 2m or 1h)") from None
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return checked_duration(total, text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="reelseek-cli",
        description="Find moments in your own footage by describing them, or by a still or a clip.",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("--home", help="data folder (default: platform data dirs, or $REELSEEK_HOME)")
    p.add_argument("--model", help="model id (default: $REELSEEK_MODEL, settings, or the CPU default)")
    p.add_argument("--device", choices=DEVICE_CHOICES, help="where the model runs (default auto)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    ix = sub.add_parser("index", help="index (or update) every video under the given folders")
    ix.add_argument("paths", nargs="*", help="folders to add and index (default: all watched folders)")
    ix.add_argument("--every", type=positive_seconds, help="seconds between sampled frames (default 1)")
    sampling = ix.add_mutually_exclusive_group()
    sampling.add_argument(
        "--max-every",
        type=positive_seconds,
        help="take one frame per keyframe when keyframes are at most this far apart, picture changes "
        "between them still at --every (default: the settings', 2)",
    )
    sampling.add_argument(
        "--strict",
        action="store_true",
        help="strict sampling this run: exactly one frame per --every seconds on every file (slower on "
        "long-GOP footage; the app's settings can make it the default)",
    )
    ix.add_argument(
        "--no-words", action="store_true", help="skip the words pass (subtitles, speech, on-screen text) this run"
    )
    ix.add_argument(
        "--words-sources",
        help="words sources for this run: subtitle,said,written (default: settings, all three)",
    )
    ix.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    ix.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="decode and embed on a Ray cluster (an address, or 'auto' to start one here); needs reelseek[cluster]",
    )
    ix.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="[NODE:]FROM=TO",
        help="with --cluster: where a node mounts the footage (repeatable)",
    )
    ix.add_argument("--workers", type=int, help="with --cluster: at most this many workers")
    ix.add_argument("--json", action="store_true", help="print the summary as JSON")
    _wait_options(ix)

    se = sub.add_parser(
        "search",
        help="search moments by text, still image or clip",
        epilog='query syntax: -word pushes away; 2:"red car" weights a term; "A then B" finds A followed by B '
        "(then<5s> sets the gap); said: written: sub: seen: restrict the source. See docs/query-syntax.md.",
    )
    se.add_argument("text", nargs="?", default="", help='what to find; "-word" pushes results away from it')
    se.add_argument("--image", action="append", default=[], type=Path, help="a still image to search by")
    se.add_argument("--clip", action="append", default=[], type=Path, help="a short video to search by")
    for part in ("text", "image", "clip"):
        se.add_argument(
            f"--{part}-weight",
            type=positive_weight,
            default=1.0,
            metavar="W",
            help=f"weight of the {part} in the query (default 1)",
        )
    se.add_argument(
        "--then-within",
        type=window_seconds,
        default=10.0,
        metavar="SECONDS",
        help='"A then B": most seconds between the end of A and the start of B (default 10; then<5s> per gap)',
    )
    se.add_argument("--limit", "-n", type=positive_int, default=10, help="how many moments (default 10)")
    se.add_argument("--folder", action="append", default=[], help="only files under this folder")
    se.add_argument("--min-duration", type=_duration, help="only files at least this long (e.g. 30, 1:30, 2m)")
    se.add_argument("--max-duration", type=_duration, help="only files at most this long")
    se.add_argument("--ext", action="append", default=[], help="only this file type (e.g. mov)")
    se.add_argument("--online-only", action="store_true", help="leave out files on unplugged drives")
    se.add_argument("--single-stage", action="store_true", help=argparse.SUPPRESS)
    se.add_argument(
        "--source",
        help="only these sources answer: seen,said,written,subtitle (or start the text with said: written: sub: seen:)",
    )
    se.add_argument("--json", action="store_true", help="print a JSON list of moments")
    cli_confidence.add_arguments(se)  # --closest, --all, --json-full
    se.add_argument(
        "--no-group", action="store_true", help="list every copy, re-encode, trim and proxy of a shot on its own"
    )
    se.add_argument("--seconds", action="store_true", help="show HH:MM:SS.mmm from the file start, not source timecode")
    se.add_argument(
        "--batch",
        type=Path,
        help="a text file of queries, one per line (a shot list); prints each query's moments",
    )
    cli_like.add_arguments(se)  # --like, --at, --relevant, --irrelevant

    st = sub.add_parser("status", help="counts per file status and every failed file")
    st.add_argument("--json", action="store_true")

    mo = sub.add_parser("models", help="list, download or import model weights")
    msub = mo.add_subparsers(dest="models_command", required=True)
    ml = msub.add_parser("list", help="known models and whether their weights are here")
    ml.add_argument("--json", action="store_true")
    md = msub.add_parser("download", help="download a model's weights (with progress)")
    md.add_argument("id")
    mi = msub.add_parser("import", help="import a weights file (air-gapped machines)")
    mi.add_argument("file", type=Path)
    mi.add_argument("--as", dest="as_id", required=True, help="the model id the file is for")
    mi.add_argument(
        "--like", metavar="BASE_ID", help="a new model of BASE_ID's architecture, named by --as (e.g. a fine-tune)"
    )
    from . import cli_models, cli_speech

    cli_speech.add_parsers(msub)
    cli_models.add_parsers(msub)  # use, prune: switching models (core/model_switch.py)

    from . import cli_export

    cli_export.add_parser(sub)  # export, collections

    fo = sub.add_parser("folders", help="list, add or remove watched folders")
    fo.add_argument("action", choices=["list", "add", "remove", "words"], nargs="?", default="list")
    fo.add_argument("paths", nargs="*", help="folders; for `words`: on|off then folders")
    _wait_options(fo)
    cli_doctor.add_parser(sub)
    _wait_options(sub.choices["doctor"])
    from . import cli_words

    cli_words.add_parser(sub)
    return p


def _wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait", action="store_true", help="if another process is changing the library, wait until it is done"
    )
    parser.add_argument("--wait-max", type=float, metavar="SECONDS", help="like --wait, for at most SECONDS")


def _wait_seconds(args: argparse.Namespace) -> float | None:
    """How long a writer waits for the writer lock: 0 (say who holds it and exit 3) by default."""
    if getattr(args, "wait_max", None) is not None:
        return max(0.0, float(args.wait_max))
    return None if getattr(args, "wait", False) else 0.0


def _library(args: argparse.Namespace, *, readonly: bool = False):  # type: ignore[no-untyped-def]
    from .library import Library

    # Searches and status open the library read-only: they never write and never wait.
    return Library(
        args.home,
        model_id=args.model,
        device=args.device,
        readonly=readonly,
        wait=_wait_seconds(args),
        on_wait=lambda msg: print(f"reelseek-cli: {msg}", file=sys.stderr, flush=True),
    )


def cmd_index(args: argparse.Namespace) -> int:
    from .models import ModelError

    lib = _library(args)
    if args.every:
        lib.settings.sample_every = args.every
    if args.max_every:
        lib.settings.max_sample_every = max(args.max_every, lib.settings.sample_every)
    if args.strict:
        lib.settings.max_sample_every = None
    words_sources = None
    if args.words_sources:
        from .words.sources import parse_sources

        try:
            words_sources = [s for s in parse_sources(args.words_sources) if s != "seen"]
        except ValueError as e:
            print(f"reelseek-cli: {e}", file=sys.stderr)
            return 2
    cancel = threading.Event()

    def on_sigint(signum, frame):  # type: ignore[no-untyped-def]
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nstopping after the current batch (Ctrl-C again to abort now)...", file=sys.stderr)

    cluster = None
    if args.cluster:
        from .cluster import ClusterConfig
        from .cluster_worker import PathMap

        try:
            maps = tuple(PathMap.parse(m) for m in args.path_map)
        except ValueError as e:
            print(f"reelseek-cli: {e}", file=sys.stderr)
            return 2
        if args.workers is not None and args.workers < 1:
            print("reelseek-cli: --workers must be at least 1", file=sys.stderr)
            return 2
        cluster = ClusterConfig(address=args.cluster, path_map=maps, workers=args.workers)
    bar = None if args.quiet else ProgressBar()
    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        report = lib.index(
            args.paths or None,
            progress=bar,
            cancel=cancel,
            cluster=cluster,
            words=False if args.no_words else None,
            words_sources=words_sources,
        )
    except ModelError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        from .cluster import ClusterError

        if not isinstance(e, ClusterError):
            raise
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()  # an error or the summary starts on its own line
        signal.signal(signal.SIGINT, old)
        switch_line = _switch_line(lib)
        lib.close()
    summary = {
        "indexed": report.indexed,
        "unchanged": report.skipped,
        "moved": report.moved,
        "removed": report.removed,
        "offline": report.offline,
        "errors": [{"path": p, "error": e} for p, e in report.errors],
        "cancelled": report.cancelled,
        "video_seconds": round(report.video_seconds, 3),
        "elapsed": round(report.elapsed, 3),
        "words": {
            "files": report.words_files,
            "lines": report.words_lines,
            "errors": [{"path": p, "error": e} for p, e in report.words_errors],
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        rate = report.video_seconds / report.elapsed if report.elapsed else 0.0
        print(
            f"indexed {report.indexed} file(s), {report.skipped} unchanged, {report.moved} moved, "
            f"{report.removed} removed, {report.offline} offline, {len(report.errors)} error(s)"
            + (
                f"; {report.video_seconds:.0f} video-s in {report.elapsed:.1f} s ({rate:.1f} video-s/s)"
                if report.indexed
                else ""
            )
        )
        for p, err in report.errors:
            print(f"  error: {p}: {err}")
        if report.words_files or report.words_errors:
            print(f"words: read {report.words_files} file(s), {report.words_lines} line(s)")
            for path, reason in report.words_errors:
                print(f"  words error: {path}: {reason}")
        if report.cancelled:
            print("stopped early: run the same command again to continue")
        if switch_line:
            print(switch_line)
    return 0


def _switch_line(lib) -> str:  # type: ignore[no-untyped-def]
    """After an index run: how far a model switch has come ("" when none is under way)."""
    from .model_switch import switch_state

    try:
        st = switch_state(lib)
    except Exception:  # a summary line must never turn a finished run into a failure
        return ""
    return st.line() if st.switching else ""


def cmd_search(args: argparse.Namespace) -> int:
    from . import media
    from .library import LibraryError
    from .models import ModelError

    if args.min_duration is not None and args.max_duration is not None and args.min_duration > args.max_duration:
        print(
            f"reelseek-cli: --min-duration ({args.min_duration:g} s) is longer than --max-duration "
            f"({args.max_duration:g} s): nothing could match",
            file=sys.stderr,
        )
        return 2
    for p in [*args.image, *args.clip]:
        if not p.exists():
            print(f"reelseek-cli: file not found: {p}", file=sys.stderr)
            return 2
    from .words.sources import parse_sources

    try:
        sources = parse_sources(args.source) if args.source else ()
    except ValueError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2
    query = Query(
        text=args.text,
        images=tuple(args.image),
        clips=tuple(args.clip),
        sources=sources,
        text_weight=args.text_weight,
        image_weight=args.image_weight,
        clip_weight=args.clip_weight,
        then_window=args.then_within,
    )
    if cli_like.wanted(args) and (why := cli_like.check(args, query)):
        return cli_like.refuse(why)
    filters = Filters(
        folders=tuple(str(Path(f).expanduser().resolve()) for f in args.folder),
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        extensions=tuple("." + e.lower().lstrip(".") for e in args.ext),
        include_offline=not args.online_only,
    )
    lib = _library(args, readonly=True)
    # --seconds, or settings.timecode_display = "seconds", keeps the HH:MM:SS.mmm form
    args.seconds = args.seconds or lib.settings.timecode_display == "seconds"
    from .search_lang import library_notice

    try:
        if args.batch:
            return _search_batch(lib, args, filters)
        notice = library_notice(lib, args.text)  # warns, never blocks: the search still runs
        if notice:
            print(f"reelseek-cli: note: {notice}", file=sys.stderr)
        if cli_like.wanted(args):
            result = cli_like.search(lib, args, query, filters)
        else:
            result = lib.search(
                query, limit=args.limit, filters=filters, two_stage=not args.single_stage, group=not args.no_group
            )
        calibration = lib.saved_calibration() if args.json_full else None
    except (LibraryError, ModelError, media.MediaError, ValueError, OSError) as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return getattr(e, "exit_code", EXIT_USAGE)
    finally:
        lib.close()
    if args.json_full:
        full = cli_confidence.result_json(args.text, result, args, calibration)
        print(json.dumps({**full, "language_notice": notice} if notice else full, indent=2))
        return 0
    if args.json:
        extra = {"language_notice": notice} if notice else {}
        print(
            json.dumps(
                [{**cli_confidence.moment_json(m), **extra} for m in cli_confidence.listed(result, args)], indent=2
            )
        )
        return 0
    if not result.moments:
        from .query_syntax import no_sequence_message

        print(
            no_sequence_message(query.text, query.then_window)
            or "no moments found (is anything indexed? see `reelseek-cli status`)"
        )
        return 0

    width = _tty_width(sys.stdout)

    def line(i: int, m) -> None:  # type: ignore[no-untyped-def]
        off = "  [offline]" if m.offline else ""
        takes = f"  +{len(m.takes)} take{'s' if len(m.takes) > 1 else ''}" if m.takes else ""
        pct = f"{m.confidence * 100:3.0f}%"
        head = f"{i:3d}. {_span(m, args.seconds)}  {pct}  [{'+'.join(m.sources)}]"
        one = f"{head}  {m.path}{off}{takes}"
        if width is not None and cells(one) > width:
            # A terminal too narrow for the line: the path on a line of its own, whole (an editor
            # copies it), instead of the terminal wrapping it into the next result's columns.
            print(f"{head}{off}{takes}")
            print(f"       {m.path}")
        else:
            print(one)  # piped output keeps one line per moment
        for a, _b, text, src in m.words:
            print(f"       {timecode(a) if args.seconds else m.clock.tc(a)}  {src}: {text}")

    cli_confidence.print_human(result, args, line)
    return 0


def _tty_width(stream) -> int | None:  # type: ignore[no-untyped-def]
    """Columns of the terminal ``stream`` is, or None when it is not one (a pipe, a file)."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return terminal_columns(stream)


def _span(m, seconds: bool) -> str:  # type: ignore[no-untyped-def]
    """A moment's range: source SMPTE timecode (default) or HH:MM:SS.mmm from the file start."""
    if seconds:
        return f"{timecode(m.start)} - {timecode(m.end)}"
    return f"{m.timecode_in} - {m.timecode_out}"


def _search_batch(lib, args: argparse.Namespace, filters: Filters) -> int:  # type: ignore[no-untyped-def]
    from .search_lang import library_notice

    lines = [ln.strip() for ln in args.batch.read_text(encoding="utf-8").splitlines()]
    out = []
    for text in (ln for ln in lines if ln and not ln.startswith("#")):
        q = Query(text=text, text_weight=args.text_weight, then_window=args.then_within)
        two_stage, group = not args.single_stage, not args.no_group
        r = lib.search(q, limit=args.limit, filters=filters, two_stage=two_stage, group=group)
        notice = library_notice(lib, text)
        if notice and not args.json:
            print(f"reelseek-cli: note: {notice}", file=sys.stderr)
        row = cli_confidence.result_json(text, r, args, None)
        out.append({**row, "language_notice": notice} if notice else row)
        if not args.json:
            shown = cli_confidence.shown(r, args)
            best = shown[0] if shown else None
            where = f"{_span(best, args.seconds)}  {best.path}" if best else "nothing found"
            if r.no_good_match:
                where = f"no good match{'; closest: ' + where if best else ''}"
            print(f"{text}\n    {where}")
    if args.json or args.json_full:
        print(json.dumps(out, indent=2))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    lib = _library(args, readonly=True)
    try:
        st = lib.status()
        st.calibration = _calibration(lib)
    finally:
        lib.close()
    if args.json:
        print(json.dumps(st.to_json(), indent=2))
        return 0
    print(f"model: {st.model_id}   segments: {st.segments}")
    sw = st.models or {}
    if sw.get("switching"):
        print(
            f"new model {sw['target']} {sw['percent']}% ({sw['covered']}/{sw['total']} files); "
            f"searches use {sw['serving']} until it covers the library (run `reelseek-cli index`)"
        )
    for m in sw.get("prunable", []):
        print(f"old vectors: {m} ({sw['vectors'][m]} segments; `reelseek-cli models prune {m}` removes them)")
    print("files: " + ", ".join(f"{k} {v}" for k, v in st.counts.items()))
    words = st.words or {}
    for source, counts in sorted(words.get("counts", {}).items()):
        print(f"words {source}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for w in words.get("errors", []):
        print(f"words error: {w['path']}: {w['source']}: {w['error']}")
    for text in cli_confidence.status_lines(st.calibration):
        print(text)
    for f in st.folders:
        print(f"folder: {f}{'' if os.path.isdir(f) else '  (offline)'}")
    for p, e in st.errors:
        print(f"error: {p}: {e}")
    return 0


def _calibration(lib: Library) -> dict[str, object] | None:
    """The search model's calibration, computed now if none is saved (status must not fail on it)."""
    from .models import ModelError

    try:
        return lib.calibration()
    except (ModelError, OSError, ValueError) as e:
        print(f"reelseek-cli: calibration unavailable: {e}", file=sys.stderr)
        return None


def cmd_models(args: argparse.Namespace) -> int:
    from . import cli_speech
    from .models import ModelError, get_spec, list_models
    from .models.weights import download, import_weights, is_available
    from .paths import data_paths

    if args.models_command in cli_speech.COMMANDS:
        return cli_speech.run(args)
    from . import cli_models
    from .models.custom import import_custom, register_custom_models

    if args.models_command in cli_models.COMMANDS:
        return cli_models.run(args)
    models_dir = data_paths(args.home).ensure().models
    register_custom_models(models_dir)
    try:
        if args.models_command == "list":
            rows = [
                {
                    "id": s.id,
                    "arch": s.arch,
                    "dim": s.dim,
                    "available": is_available(s, models_dir),
                    "gpu_recommended": s.gpu_recommended,
                    "description": s.description,
                }
                for s in list_models()
            ]
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for r in rows:
                    mark = "*" if r["available"] else " "
                    gpu = " (GPU)" if r["gpu_recommended"] else ""
                    print(f"{mark} {r['id']:<24} {r['description']}{gpu}")
                print("* = weights on this machine")
            return 0
        if args.models_command == "import" and args.like:
            if not args.file.exists():
                print(f"reelseek-cli: file not found: {args.file}", file=sys.stderr)
                return 2
            path = import_custom(args.file, args.as_id, args.like, models_dir)
            spec = get_spec(args.as_id)
            print(
                f"{spec.id}: weights at {path} (architecture of {args.like}); "
                f"use it with `reelseek-cli models use {spec.id}`"
            )
            _prepare_text_search(spec, models_dir)
            return 0
        spec = get_spec(args.id if args.models_command == "download" else args.as_id)
        if args.models_command == "download":
            bar = _ByteBar()
            path = download(spec, models_dir, progress=bar)
            bar.done()
        else:
            if not args.file.exists():
                print(f"reelseek-cli: file not found: {args.file}", file=sys.stderr)
                return 2
            path = import_weights(args.file, spec, models_dir)
        print(f"{spec.id}: weights at {path}")
        _prepare_text_search(spec, models_dir)
        return 0
    except ModelError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2


def _prepare_text_search(spec, models_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # Export the text tower now, so the first search does not (models/text_encoder.py); a
    # failure only means searches use the full model, so it is a note, not an error.
    from .models.text_encoder import load_text_encoder, onnx_disabled

    if onnx_disabled():
        return
    try:
        load_text_encoder(spec, models_dir).close()
    except Exception as e:
        print(f"note: text searches will load the full model ({e})", file=sys.stderr)


class _ByteBar:
    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        mb = done / 1e6
        if total:
            sys.stderr.write(f"\r{mb:8.1f} / {total / 1e6:.1f} MB  {100 * done / total:5.1f}%")
        else:
            sys.stderr.write(f"\r{mb:8.1f} MB")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\n")


def cmd_folders(args: argparse.Namespace) -> int:
    from .library import LibraryError

    lib = _library(args, readonly=args.action == "list")
    try:
        if args.action == "add":
            for p in args.paths:
                lib.add_folder(p)
        elif args.action == "remove":
            for p in args.paths:
                lib.remove_folder(p)
        elif args.action == "words":
            from .cli_words import folders_words

            return folders_words(lib, args.paths)
        for f in lib.folders():
            state = "online" if f.online else "offline"
            print(f"{f.path}  [{state}]  {f.done}/{f.files} indexed, {f.errors} error(s)")
    except LibraryError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return e.exit_code
    finally:
        lib.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(query_words_first(parser, sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from . import cli_words
    from .lock import set_owner_label
    from .store import StoreError

    set_owner_label(f"reelseek-cli {args.command}")

    handlers = {
        "index": cmd_index,
        "search": cmd_search,
        "status": cmd_status,
        "models": cmd_models,
        "folders": cmd_folders,
        "doctor": cli_doctor.run,
        "transcript": cli_words.run,
    }
    if args.command in ("export", "collections"):
        from . import cli_export

        handlers[args.command] = cli_export.run
    try:
        code = handlers[args.command](args)
        sys.stdout.flush()  # a closed pipe shows up here, not at exit where it cannot be caught
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except StoreError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        # Full disk, read-only folder, damaged database, busy library: one readable line and
        # a distinct exit code instead of a traceback (see EXIT_CODES_HELP).
        from .paths import data_paths

        err = as_library_error(e, data_paths(args.home).data)
        if err is None:
            raise
        print(f"reelseek-cli: {err}", file=sys.stderr)
        return err.exit_code


def _closed_pipe() -> int:
    """`reelseek-cli status | head -2`: the reader left; end quietly like other Unix tools.

    Python's own flush at exit would raise again, so stdout points at devnull from here on.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1


if __name__ == "__main__":
    sys.exit(main())
