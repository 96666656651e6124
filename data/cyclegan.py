"""The CycleGAN unpaired datasets (Zhu et al. 2017): horse2zebra, apple2orange, ...

Raw layout (the official zip, unpacked): ``DATA_DIR/<name>/{trainA,trainB,testA,testB}/*.jpg``;
tfds: ``cycle_gan/<name>`` with the same four splits. Images are 256x256, resized to
``--image_size`` (default 128, the thesis' main experiments; 256 for its Tables 3.3/3.4).
A is domain 1, B domain 2; the test folders are the test domains. Raw domains are
file-backed and validated up front (``data.image_files``); tfds ones are held in memory
(at most a few thousand images).

``cityscapes`` is raw-only: its images cannot be redistributed, so tfds has no config.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

from scogan.data.image_files import (
    check_image_size,
    file_domain,
    list_images,
    tfds_images,
    wants_decode_check,
)
from scogan.data.sources import DataNotFoundError, DataOptions, resolve_source
from scogan.data.task import Domain, Task

CONFIGS = (
    "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
    "ukiyoe2photo", "vangogh2photo", "maps", "cityscapes", "facades", "iphone2dslr_flower",
)
RAW_ONLY = ("cityscapes",)
SPLITS = ("trainA", "trainB", "testA", "testB")
DEFAULT_SIZE = 128
# Files per folder of the official downloads, from the manifests in shared/datasets/cyclegan_manifest.
OFFICIAL_COUNTS = {
    "horse2zebra": {"trainA": 1067, "trainB": 1334, "testA": 120, "testB": 140},
    "apple2orange": {"trainA": 995, "trainB": 1019, "testA": 266, "testB": 248},
}


def domain_names(name: str) -> tuple[str, str]:
    """``horse2zebra`` -> (horse, zebra); names without a '2' -> (<name>_A, <name>_B)."""
    if "2" in name:
        a, b = name.split("2", 1)
        return a, b
    return f"{name}_A", f"{name}_B"


def check_layout(root: Path, name: str) -> dict[str, list[str]]:
    """The image files of each split folder; warns when a count differs from the official download."""
    missing = [str(root / s) for s in SPLITS if not (root / s).is_dir()]
    if missing:
        raise DataNotFoundError(f"{name}: missing folders {', '.join(missing)} (official layout: "
                                f"{name}/trainA, trainB, testA, testB)")
    files = {s: list_images(root / s) for s in SPLITS}
    expected = OFFICIAL_COUNTS.get(name)
    if expected:
        differ = [f"{s} {len(files[s])} (official {expected[s]})" for s in SPLITS if len(files[s]) != expected[s]]
        if differ:
            warnings.warn(f"{root} is not the official {name} download: {', '.join(differ)}", stacklevel=2)
    return files


def cyclegan_task(name: str, options: DataOptions) -> Task:
    if name not in CONFIGS:
        raise ValueError(f"unknown CycleGAN dataset {name!r}; valid: {', '.join(CONFIGS)}")
    size = options.image_size or DEFAULT_SIZE
    check_image_size(size)
    names = domain_names(name)
    if name in RAW_ONLY and options.source in ("auto", "tfds"):
        if options.source == "tfds":
            raise DataNotFoundError(f"{name} has no tfds copy; put the official folders under --data_dir/{name}")
        options = replace(options, source="raw")
    source = resolve_source(f"cycle_gan/{name}", [f"{name}/{s}" for s in SPLITS], options)
    if source == "raw":
        files = check_layout(Path(options.data_dir, name), name)
        decode_check = wants_decode_check(sum(len(f) for f in files.values()))
        domains = [file_domain(n, files[s], size, 3, f"{name}/{s}", decode_check=decode_check)
                   for n, s in zip(names * 2, SPLITS)]
    else:
        domains = [
            Domain(n, (size, size, 3), images=tfds_images(f"cycle_gan/{name}", s, size, 3, options.data_dir,
                                                          source == "tfds-download")[0])
            for n, s in zip(names * 2, SPLITS)
        ]
    return Task(name, tuple(domains[:2]), test_domains=tuple(domains[2:]),
                sources={name: source})

