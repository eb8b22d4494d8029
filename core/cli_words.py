"""reelseek-cli transcript (what reelseek heard and read in a file) and `folders words on|off`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .library import Library
    from .store_words import LineHit

FORMATS = ("txt", "srt", "vtt", "json")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tr = sub.add_parser("transcript", help="what reelseek heard, read and found in subtitles in a file, with times")
    tr.add_argument("file", type=Path, help="an indexed video")
    tr.add_argument("--format", "-f", choices=FORMATS, help="default: from -o's extension, else txt")
    tr.add_argument("--source", help="only these sources: said,written,subtitle")
    tr.add_argument("-o", "--output", type=Path, help="write here instead of printing")


def run(args: argparse.Namespace) -> int:
    from .library import Library
    from .store_words import WordsStore
    from .words.sources import parse_sources

    fmt = args.format or (args.output.suffix.lstrip(".").lower() if args.output else "txt")
    if fmt not in FORMATS:
        print(f"reelseek-cli: unknown transcript format {fmt!r} (use {', '.join(FORMATS)})", file=sys.stderr)
        return 2
    try:
        sources = [s for s in parse_sources(args.source) if s != "seen"] if args.source else None
    except ValueError as e:
        print(f"reelseek-cli: {e}", file=sys.stderr)
        return 2
    lib = Library(args.home, model_id=args.model, device=args.device)
    try:
        row = lib.store.file_by_path(args.file.expanduser().resolve()) or lib.store.file_by_path(args.file.absolute())
        if row is None:
            print(f"reelseek-cli: not in the library: {args.file} (index its folder first)", file=sys.stderr)
            return 2
        lines = WordsStore(lib.store).lines_of_file(row.id, sources)
        text = render(lines, fmt)
    finally:
        lib.close()
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as e:
            print(f"reelseek-cli: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    if not lines:
        print(f"reelseek-cli: no words in {args.file} (not read yet, or nothing said or written)", file=sys.stderr)
    return 0


def render(lines: list[LineHit], fmt: str) -> str:
    """The lines as plain text, SRT, WebVTT (written by pysubs2) or JSON."""
    from .timecode import timecode

    if fmt == "json":
        return (
            json.dumps(
                [
                    {
                        "start": round(ln.start, 3),
                        "end": round(ln.end, 3),
                        "source": ln.source,
                        "language": ln.language,
                        "text": ln.text,
                        "words": [{"start": a, "end": b, "word": w} for a, b, w in ln.words],
                    }
                    for ln in lines
                ],
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    if fmt == "txt":
        return "".join(f"{timecode(ln.start)} - {timecode(ln.end)}  [{ln.source}]  {ln.text}\n" for ln in lines)
    import pysubs2

    subs = pysubs2.SSAFile()
    for ln in lines:
        label = "" if ln.source == "subtitle" else f"[{ln.source}] "
        subs.append(pysubs2.SSAEvent(start=round(ln.start * 1000), end=round(ln.end * 1000), text=label + ln.text))
    return subs.to_string(fmt)


def folders_words(lib: Library, words: list[str]) -> int:
    """`reelseek-cli folders words on|off PATH...` (no PATH: show every folder's switch)."""
    from .library import LibraryError
    from .words.library_hooks import folder_words, set_folder_words

    if words:
        state, paths = words[0].lower(), words[1:]
        if state not in ("on", "off") or not paths:
            print("reelseek-cli: use `folders words on|off FOLDER...`", file=sys.stderr)
            return 2
        try:
            for p in paths:
                set_folder_words(lib, p, state == "on")
        except LibraryError as e:
            print(f"reelseek-cli: {e}", file=sys.stderr)
            return 2
    for path, on in folder_words(lib):
        print(f"{path}  words {'on' if on else 'off'}")
    return 0
