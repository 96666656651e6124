"""Your own data: one folder of images per domain (``--cogan_data folders --domain_dirs A B ...``).

Any JPEG, PNG, BMP or GIF files directly in each folder (other files are ignored),
validated up front (``data.image_files``), centre-cropped to a square and resized to
``--image_size`` (default 128), always 3 channels (grayscale files are repeated).
"""

from __future__ import annotations

from pathlib import Path

from data.image_files import file_domain, list_images
from data.sources import DataOptions
from data.task import Task
from utils.config import ConfigurationError

DEFAULT_SIZE = 128


def folders_task(options: DataOptions) -> Task:
    """k >= 2 file-backed domains, named after their folders; no labels, no test split."""
    dirs = options.domain_dirs or ()
    if len(dirs) < 2:
        raise ConfigurationError("--cogan_data folders needs --domain_dirs DIR_A DIR_B [DIR_C ...] "
                                 f"(at least two folders, got {len(dirs)})")
    size = options.image_size or DEFAULT_SIZE
    names = [Path(d).name or f"domain{i + 1}" for i, d in enumerate(dirs)]
    if len(set(names)) < len(names):
        names = [f"{i + 1}_{n}" for i, n in enumerate(names)]
    domains = tuple(file_domain(n, list_images(d), size, 3, f"domain folder {d}") for n, d in zip(names, dirs))
    return Task("folders", domains)
