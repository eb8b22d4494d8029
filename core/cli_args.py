"""Argument checks for reelseek-cli: value types with clear errors, and queries that start with -term."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence


def positive_int(text: str) -> int:
    """An int >= 1 (``--limit 0`` or ``-5`` would silently mean something else)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def positive_seconds(text: str) -> float:
    """A finite number of seconds > 0 (nan, inf, 0 and negatives are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def positive_weight(text: str) -> float:
    """A finite weight > 0 (``--text-weight 0`` would drop the part: leave it out instead)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a weight: {text!r} (use a number such as 0.5 or 2)") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"a weight must be a finite number above 0, got {text!r}")
    return value


def window_seconds(text: str) -> float:
    """A finite number of seconds >= 0 (``then`` steps may follow each other directly)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def checked_duration(value: float, text: str) -> float:
    """A parsed duration must be finite and not negative."""
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use a length like 90, 1:30, 2m or 1h)")
    return value


def _options(parser: argparse.ArgumentParser) -> dict[str, bool]:
    """Option string -> whether it takes a value."""
    out: dict[str, bool] = {}
    for action in parser._actions:  # argparse has no public way to list its options
        for opt in action.option_strings:
            out[opt] = action.nargs != 0
    return out


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def query_words_first(parser: argparse.ArgumentParser, argv: Sequence[str], command: str = "search") -> list[str]:
    """Rewrite ``search -car red`` so argparse reads ``-car`` as part of the query, not an option.

    Tokens after the command that start with one dash and are not one of its options (or the
    value of one) are query words; every query word is joined into one text after ``--``.
    ``--`` typed by the user keeps working; long ``--options`` are left to argparse.
    """
    argv = list(argv)
    top = _options(parser)
    i = 0
    while i < len(argv) and argv[i] != command:
        tok = argv[i]
        if tok == "--" or not tok.startswith("-"):
            return argv  # another command, or a positional before it
        i += 2 if top.get(tok) and "=" not in tok else 1
    sub = _subparsers(parser).get(command)
    if sub is None or i >= len(argv):
        return argv
    opts = _options(sub)
    head, rest = argv[: i + 1], argv[i + 1 :]
    kept: list[str] = []
    words: list[str] = []
    j = 0
    while j < len(rest):
        tok = rest[j]
        if tok == "--":
            words.extend(rest[j + 1 :])
            break
        if tok in opts:
            if opts[tok] and j + 1 < len(rest):
                # "--opt=value": argparse would take a value like "-inf" for an option.
                value = rest[j + 1]
                kept.extend([f"{tok}={value}"] if tok.startswith("--") else [tok, value])
                j += 1
            else:
                kept.append(tok)
        elif tok.startswith("--") or _short_with_value(tok, opts):
            kept.append(tok)  # --opt=value, an abbreviation, or -n5: argparse judges it
        else:
            words.append(tok)
        j += 1
    return [*head, *kept, "--", " ".join(words)] if words else [*head, *kept]


def _short_with_value(tok: str, opts: dict[str, bool]) -> bool:
    """``-n5``: a short option taking a value with the value attached (only digits, so that
    a query word like ``-night`` is not read as ``-n ight``)."""
    return len(tok) > 2 and opts.get(tok[:2], False) and tok[2:].isdigit()
