"""Switching models without losing search: which model serves, how far the new one is, pruning the old.

The library keeps every model's vectors side by side (segments are keyed by model). Picking a
new model only changes the settings; the next index run embeds the files again with it, one
file per transaction as always (so a kill loses nothing). Until the new model has vectors for
every file a model must cover, searches keep using the last model that covered the whole
library; a query is only ever scored against the vectors of the model that embedded it. The
old model's vectors stay until the user prunes them.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import store_models
from .errors import LibraryError

if TYPE_CHECKING:
    from .library import Library
    from .store import Store

COMPLETE_KEY = "complete_model"  # meta: the last model that covered the whole library


@dataclass(frozen=True)
class ModelSwitch:
    """Where the library stands between models."""

    target: str  # the chosen model (settings, $REELSEEK_MODEL or --model)
    serving: str  # the model searches use now
    covered: int  # files the target model has vectors for
    total: int  # files a model must cover (done, pending, indexing)
    vectors: dict[str, int] = field(default_factory=dict)  # segments per model in the library

    @property
    def switching(self) -> bool:
        return self.serving != self.target

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: 100 only when every file is covered."""
        return 100 if self.total == 0 else (100 * self.covered) // self.total

    @property
    def prunable(self) -> list[str]:
        """Models whose vectors could be removed now (neither chosen nor serving)."""
        return [m for m in self.vectors if m not in (self.target, self.serving)]

    def line(self) -> str:
        """One human line, e.g. "new model b 43% (12/28 files); searches use a until it covers the library"."""
        if not self.switching:
            return f"model {self.target}: {self.covered}/{self.total} files"
        return (
            f"new model {self.target} {self.percent}% ({self.covered}/{self.total} files); "
            f"searches use {self.serving} until it covers the library"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "serving": self.serving,
            "switching": self.switching,
            "covered": self.covered,
            "total": self.total,
            "percent": self.percent,
            "vectors": self.vectors,
            "prunable": self.prunable,
        }


def serving_model(store: Store, target: str) -> str:
    """The model searches use: the target once it covers the library (or nothing else did),
    else the last model that covered it while it still has vectors."""
    covered, total = store_models.coverage(store, target)
    if covered >= total:
        return target
    complete = store.get_meta(COMPLETE_KEY)
    if complete and complete != target and store.segment_count(complete):
        return complete
    return target


def switch_state(library: Library) -> ModelSwitch:
    target = library.model_id()
    covered, total = store_models.coverage(library.store, target)
    return ModelSwitch(
        target=target,
        serving=serving_model(library.store, target),
        covered=covered,
        total=total,
        vectors=store_models.vectors_per_model(library.store),
    )


def switch_note(library: Library) -> Callable[[int], str] | None:
    """For an index run during a switch: files embedded so far -> "new model X 43%"."""
    state = switch_state(library)
    if not state.switching or not state.total:
        return None

    def note(files_done: int) -> str:
        pct = min(100, (100 * (state.covered + files_done)) // state.total)
        return f"new model {state.target} {pct}%"

    return note


def check_model_readable(library: Library, model_id: str) -> None:
    """The model is known and its weights are here and readable (a cheap look, not a load).

    Raises:
        ModelError: unknown id, weights absent or unreadable; the message says what to do.
    """
    from .models import ModelError, get_spec
    from .models.weights import CONFIG_NAME, check_weights_file, missing_weights_error, weights_path

    spec = get_spec(model_id)
    path = weights_path(spec, library.paths.models)
    if path is None:
        raise missing_weights_error(spec)
    files = [path / CONFIG_NAME, path / (spec.weights_file or "")] if path.is_dir() else [path]
    for f in files:
        try:
            with open(f, "rb") as fh:
                fh.read(16)
        except OSError as e:
            raise ModelError(
                f"cannot read the weights of {model_id} at {f}: {e.strerror or e}; "
                f"fix the file's permissions or import it again (`reelseek-cli models import FILE --as {model_id}`)"
            ) from None
    if path.is_file():
        # Parsed and fitted to the architecture on torch's meta device (no memory for the model):
        # a corrupt file is refused now, not after the library started re-indexing with it.
        try:
            check_weights_file(path, spec)
        except ModelError as e:
            hint = f"import a good file with `reelseek-cli models import FILE --as {model_id}`"
            raise ModelError(f"{e}; {hint}") from None


def use_model(library: Library, model_id: str) -> ModelSwitch:
    """Choose a model for this library (saved in the settings). Nothing is deleted or embedded
    here: the next index run embeds with it while searches keep the model that covers everything.

    Raises:
        ModelError: the model is unknown or its weights are missing or unreadable; the settings
            are left as they were.
    """
    check_model_readable(library, model_id)
    library.settings.model_id = model_id
    library.save_settings()
    library.forget_model_caches()
    return switch_state(library)


def prune_model(library: Library, model_id: str) -> int:
    """Remove one model's vectors (segment rows and its index file); returns the segments removed.

    Refused for the chosen model and for the one searches use now, so search never goes dark.
    """
    state = switch_state(library)
    if model_id in (state.target, state.serving):
        role = "the chosen model" if model_id == state.target else "the model searches use until the switch ends"
        raise LibraryError(f"{model_id} is {role}: its vectors are still needed; nothing was removed")
    with library.writing():
        n = store_models.delete_model_vectors(library.store, model_id)
        library.forget_model_caches(model_id)
        removed_files = _remove_index_files(library, model_id)
    if not n and not removed_files:
        raise LibraryError(f"this library has no vectors of {model_id}; nothing to remove")
    return n


def index_file_name(model_id: str) -> str:
    """The stage-1 folder of a model's segments, beside the database."""
    return "segments-" + re.sub(r"[^A-Za-z0-9_.-]", "_", model_id) + ".stage1"


def _remove_index_files(library: Library, model_id: str) -> int:
    """Delete the model's stage-1 folder and any older version's ``.usearch`` files; returns how many."""
    import shutil

    base = library.paths.data / index_file_name(model_id)
    legacy = base.with_suffix(".usearch")
    n = 0
    if base.is_dir():
        shutil.rmtree(base, ignore_errors=True)
        n += 1
    for p in [legacy, *(library.paths.data.glob(glob.escape(legacy.name) + "*"))]:
        try:
            os.remove(p)
            n += 1
        except FileNotFoundError:
            pass
    return n
