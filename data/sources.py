"""Finding a dataset: prepared tfds, raw official files, the bundled subset, or a download.

``tfds.load`` of data that is not on disk retries the network for minutes before
failing; ``resolve_source`` therefore decides up front, from what is on disk and a
quick connectivity probe, and fails at once with the list of what it looked for.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

SOURCES = ("auto", "tfds", "raw", "bundled")


class DataNotFoundError(FileNotFoundError):
    """No usable copy of a dataset; the message says where it looked."""


@dataclass(frozen=True)
class DataOptions:
    """Where and how to load data (taken from the Config by ``data.load_task``)."""

    data_dir: str | None = None
    source: str = "auto"
    seed: int = 0
    image_size: int | None = None  # None: the task's own size
    attribute: str = "Smiling"  # CelebA attribute splitting the domains
    domain_dirs: tuple[str, ...] | None = None  # --cogan_data folders
    background_dir: str | None = None  # MNIST-M backgrounds
    classifier_path: str | None = None  # mnist2svhn_pruned: the digit classifier (.keras)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown data source {self.source!r}; valid choices: {', '.join(SOURCES)}")


def network_reachable(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 3.0) -> bool:
    """True if a TCP connection to the tfds download host opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tfds_prepared(name: str, data_dir: str | None) -> bool:
    """True if tfds dataset ``name`` (e.g. ``mnist``, ``cycle_gan/horse2zebra``) is prepared on disk."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception:  # unknown builder or config: not prepared
        return False
    return Path(builder.data_dir, "dataset_info.json").exists()


def missing_files(root: str | None, relative: list[str]) -> list[str]:
    """The files among ``root/relative[i]`` that do not exist (all of them if root is None)."""
    if root is None:
        return [f"$COGAN_DATA_DIR/{r}" for r in relative]
    return [str(Path(root, r)) for r in relative if not Path(root, r).exists()]


def resolve_source(
    tfds_name: str, raw_files: list[str], options: DataOptions, bundled: bool = False,
) -> str:
    """Pick ``tfds``, ``tfds-download``, ``raw`` or ``bundled`` for a dataset, or raise DataNotFoundError.

    ``raw_files`` are the paths (relative to ``data_dir``) a raw load needs;
    ``bundled`` says whether a subset ships with the code. Explicit sources are
    checked, never silently replaced.
    """
    missing = missing_files(options.data_dir, raw_files)
    if options.source == "raw":
        if missing:
            raise DataNotFoundError(
                f"raw files for {tfds_name} not found; looked for: {', '.join(missing)} "
                "(pass --data_dir or set $COGAN_DATA_DIR)"
            )
        return "raw"
    if options.source == "bundled":
        if not bundled:
            raise DataNotFoundError(f"no bundled copy of {tfds_name}; only MNIST ships with the code")
        return "bundled"
    prepared = tfds_prepared(tfds_name, options.data_dir)
    if options.source == "tfds":
        if prepared:
            return "tfds"
        if network_reachable():
            return "tfds-download"
        raise DataNotFoundError(
            f"{tfds_name} is not prepared for tfds under {options.data_dir or '~/tensorflow_datasets'} "
            "and the tfds download server is unreachable; use raw files with --data_source raw"
        )
    if prepared:
        return "tfds"
    if not missing:
        return "raw"
    if bundled:
        return "bundled"
    if network_reachable():
        return "tfds-download"
    raise DataNotFoundError(
        f"{tfds_name}: not prepared for tfds under {options.data_dir or os.path.expanduser('~/tensorflow_datasets')}, "
        f"raw files missing ({', '.join(missing)}), and the tfds download server is unreachable"
    )
