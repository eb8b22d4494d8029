"""Where reelseek keeps its data: platformdirs locations, all movable with REELSEEK_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "reelseek"
HOME_ENV = "REELSEEK_HOME"


@dataclass(frozen=True)
class DataPaths:
    """Every location reelseek writes to.

    With ``REELSEEK_HOME`` set (or ``root`` given) everything lives under that one folder,
    which is what the end-to-end tests and portable installs use. Otherwise data, cache
    and config follow the platform's conventions.
    """

    data: Path  # database and vector index
    cache: Path  # thumbnails
    config: Path  # settings.json
    models: Path  # downloaded and imported weights

    @property
    def database(self) -> Path:
        return self.data / "library.sqlite3"

    @property
    def vector_index(self) -> Path:
        return self.data / "segments.stage1"

    @property
    def thumbnails(self) -> Path:
        return self.cache / "thumbnails"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def ensure(self) -> DataPaths:
        for p in (self.data, self.cache, self.config, self.models):
            p.mkdir(parents=True, exist_ok=True)
        return self


def data_paths(root: str | os.PathLike[str] | None = None) -> DataPaths:
    """Resolve the data locations: ``root`` argument, then ``$REELSEEK_HOME``, then platformdirs."""
    root = root if root is not None else os.environ.get(HOME_ENV) or None
    if root:
        base = Path(root).expanduser().absolute()
        return DataPaths(data=base, cache=base / "cache", config=base, models=base / "models")
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return DataPaths(
        data=Path(dirs.user_data_dir),
        cache=Path(dirs.user_cache_dir),
        config=Path(dirs.user_config_dir),
        models=Path(dirs.user_cache_dir) / "models",
    )
