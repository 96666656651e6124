"""Finding a dataset: prepared tfds, raw official files, the bundled subset, or a download.

``tfds.load`` of data that is not on disk retries the network for minutes before
failing; ``resolve_source`` therefore decides up front, from what is on disk and a
quick connectivity probe, and fails at once with the list of what it looked for.

An explicit data location (``DataOptions.data_dir``: ``--data_dir`` or
``$COGAN_DATA_DIR``) is a promise that the data is there: with ``--data_source auto`` it
must hold the task's prepared tfds data or raw files, and is never silently replaced by
the bundled MNIST subset or a download. Without one, auto falls back to the bundled
subset (MNIST) and then to a download.

Every problem with the input data is a :class:`DataError`, whose message (one line,
naming the file, folder or option) is meant for the user, without a traceback.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from scogan.utils.config import DATA_DIR_ENV

SOURCES = ("auto", "tfds", "raw", "bundled")


class DataError(Exception):
    """Bad or missing input data, reported to the user without a traceback."""


class DataNotFoundError(DataError, FileNotFoundError):
    """No usable copy of a dataset; the message says where it looked."""


class DataFormatError(DataError, ValueError):
    """A data file exists but its content is not what the loader expects; the message names it."""


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


def check_data_dir(data_dir: str | None, may_be_created: bool = False, looked_for: list[str] = (),
                   hint: str = "") -> None:
    """Raise DataNotFoundError if an explicit data location is a file, or (unless
    ``may_be_created``, as for a tfds download into it) does not exist; the message adds
    the files ``looked_for``, if any, and ``hint`` for a folder that does not exist."""
    if data_dir is None:
        return
    path = Path(data_dir)
    what = f"data folder {data_dir} (--data_dir / ${DATA_DIR_ENV})"
    files = f"; looked for: {', '.join(looked_for)}" if looked_for else ""
    if path.exists() and not path.is_dir():
        raise DataNotFoundError(f"{what} is a file, not a folder{files}")
    if not path.exists() and not may_be_created:
        raise DataNotFoundError(f"{what} does not exist{files}{hint}")


def resolve_source(
    tfds_name: str, raw_files: list[str], options: DataOptions, bundled: bool = False,
) -> str:
    """Pick ``tfds``, ``tfds-download``, ``raw`` or ``bundled`` for a dataset, or raise DataNotFoundError.

    ``raw_files`` are the paths (relative to ``data_dir``) a raw load needs;
    ``bundled`` says whether a subset ships with the code. Explicit sources are
    checked, never silently replaced; with source ``auto`` an explicit ``data_dir`` must
    hold prepared tfds data or every raw file (no bundled or download fallback).
    """
    missing = missing_files(options.data_dir, raw_files)
    if options.source != "bundled":  # the bundled subset does not read data_dir
        check_data_dir(options.data_dir, may_be_created=options.source == "tfds", looked_for=missing,
                       hint="; pass --data_source tfds to download into it" if options.source == "auto" else "")
    if options.source == "raw":
        if missing:
            raise DataNotFoundError(
                f"raw files for {tfds_name} not found; looked for: {', '.join(missing)}"
                + (" (pass --data_dir or set $COGAN_DATA_DIR)" if options.data_dir is None else "")
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
    if options.data_dir is not None:
        alternatives = ["--data_source tfds to download it into that folder"]
        if bundled:
            alternatives.append("--data_source bundled for the subset shipped with the code")
        raise DataNotFoundError(
            f"{tfds_name}: data folder {options.data_dir} holds neither the raw files (missing: "
            f"{', '.join(missing)}) nor prepared tfds data; fix the folder, or pass "
            f"{' or '.join(alternatives)}"
        )
    if bundled:
        return "bundled"
    if network_reachable():
        return "tfds-download"
    raise DataNotFoundError(
        f"{tfds_name}: not prepared for tfds under {options.data_dir or os.path.expanduser('~/tensorflow_datasets')}, "
        f"raw files missing ({', '.join(missing)}), and the tfds download server is unreachable"
    )
