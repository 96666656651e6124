"""Your own data: one folder of images per domain (``--cogan_data folders --domain_dirs A B ...``).

Any JPEG, PNG, BMP or GIF files directly in each folder (other files are ignored),
validated up front (``data.image_files``), centre-cropped to a square and resized to
``--image_size`` (default 128), always 3 channels (grayscale files are repeated).
"""

from __future__ import annotations

from pathlib import Path

from scogan.data.image_files import check_image_size, file_domain, list_images, wants_decode_check
from scogan.data.sources import DataOptions
from scogan.data.task import Task
from scogan.utils.config import ConfigurationError

DEFAULT_SIZE = 128


def folders_task(options: DataOptions) -> Task:
    """k >= 2 file-backed domains, named after their folders; no labels, no test split."""
    dirs = options.domain_dirs or ()
    if len(dirs) < 2:
        raise ConfigurationError("--cogan_data folders needs --domain_dirs DIR_A DIR_B [DIR_C ...] "
                                 f"(at least two folders, got {len(dirs)})")
    size = options.image_size or DEFAULT_SIZE
    check_image_size(size)
    names = [Path(d).name or f"domain{i + 1}" for i, d in enumerate(dirs)]
    if len(set(names)) < len(names):
        names = [f"{i + 1}_{n}" for i, n in enumerate(names)]
    listed = [list_images(d) for d in dirs]
    decode_check = wants_decode_check(sum(map(len, listed)))
    domains = tuple(file_domain(n, files, size, 3, f"domain folder {d}", decode_check=decode_check)
                    for n, files, d in zip(names, listed, dirs))
    return Task("folders", domains, sources={"folders": "files"})
