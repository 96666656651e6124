"""The run directory: the unit of work (config, checkpoints, samples, logs, metrics)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from utils.config import Config

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"


class RunDirectoryError(FileExistsError):
    """A run directory that would be overwritten, or one that is not a run."""


def default_run_dir(config: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{stamp}_{config.gan_type}_{config.cogan_data}"


def claim_run_dir(config: Config) -> Path:
    """The run directory for a new run; refuses an existing non-empty one (never overwrites)."""
    path = Path(config.dir) if config.dir else default_run_dir(config)
    if path.exists() and any(path.iterdir()):
        raise RunDirectoryError(
            f"run directory {path} already exists and is not empty; pass --resume to continue "
            "it, or choose another --dir"
        )
    return path


def write_config(path: Path, config: Config) -> Config:
    """Create the run directory and save the configuration (with its ``dir``) as config.json."""
    path.mkdir(parents=True, exist_ok=True)
    config = config.replace(dir=str(path))
    (path / CONFIG_FILE).write_text(config.to_json())
    return config


def load_run_config(path: str | Path) -> Config:
    path = Path(path)
    if not (path / CONFIG_FILE).exists():
        raise RunDirectoryError(f"{path} is not a run directory: it has no {CONFIG_FILE}")
    return Config.load(path / CONFIG_FILE).replace(dir=str(path))


def update_metrics(path: str | Path, results: dict[str, Any]) -> dict[str, Any]:
    """Merge ``results`` into ``RUN/metrics.json`` (keeping earlier keys) and return the whole file."""
    file = Path(path) / METRICS_FILE
    merged = json.loads(file.read_text()) if file.exists() else {}
    merged.update(results)
    file.write_text(json.dumps(merged, indent=2, sort_keys=True))
    return merged
