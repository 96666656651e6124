"""CelebA split by one of its 40 binary attributes: domain 1 without it, domain 2 with it.

The thesis' CelebSmiling, CelebBlond (``Blond_Hair``) and CelebEyeglasses are
``--cogan_data celeba --attribute Smiling|Blond_Hair|Eyeglasses``. Aligned faces
(178x218) are centre-cropped to a square (178x178) and resized to ``--image_size``
(default 128, as the thesis; 64 for CPU runs).

Raw layout (the official download): ``DATA_DIR/celeba/img_align_celeba/*.jpg`` and
``DATA_DIR/celeba/list_attr_celeba.txt``; optional ``list_eval_partition.txt``. Raw
domains are file-backed (202,599 images do not fit in memory at 128x128) and validated
up front (``data.image_files``). With the partition file, partitions 0 and 1 (train,
validation) are the training domains and partition 2 the test domains; without it every
listed image trains. tfds (``celeb_a``): train+validation vs test, held in memory, which
needs N * size^2 * 3 bytes (about 9 GB for the full set at 128; use raw files there).
Every domain carries the 13 frequent attributes (``LABELS``) as multi-hot labels
(N, 13), for the multi-label classifier of thesis Table B.2.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from scogan.data.image_files import check_image_size, file_domain, tfds_images, wants_decode_check
from scogan.data.sources import DataFormatError, DataOptions, resolve_source
from scogan.data.task import Domain, Task
from scogan.utils.config import ConfigurationError

ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin",
    "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young",
)
# Images of the full CelebA (202,599) showing each attribute, counted in the official
# list_attr_celeba.txt (values 1; the next largest are Big_Lips 48,785 and Black_Hair
# 48,472). Thesis Sec. 5.3: the multi-label classifier (Table B.2) learns the attributes
# present in at least 50,000 images, these 13, which every CelebA domain carries as
# multi-hot labels (N, 13) in this order.
LABEL_COUNTS = {
    "Arched_Eyebrows": 54_090, "Attractive": 103_833, "Heavy_Makeup": 78_390,
    "High_Cheekbones": 92_189, "Male": 84_437, "Mouth_Slightly_Open": 97_942,
    "No_Beard": 169_158, "Oval_Face": 57_567, "Pointy_Nose": 56_210, "Smiling": 97_669,
    "Wavy_Hair": 64_744, "Wearing_Lipstick": 95_715, "Young": 156_734,
}
MIN_LABEL_COUNT = 50_000
LABELS = tuple(name for name in ATTRIBUTES if LABEL_COUNTS.get(name, 0) >= MIN_LABEL_COUNT)
ATTRIBUTE_FILE = "celeba/list_attr_celeba.txt"
PARTITION_FILE = "celeba/list_eval_partition.txt"
IMAGE_DIR = "celeba/img_align_celeba"
DEFAULT_SIZE = 128
TFDS_MEMORY_WARNING = 4 << 30


def check_attribute(attribute: str) -> None:
    if attribute not in ATTRIBUTES:
        raise ConfigurationError(f"CelebA has no attribute {attribute!r}; valid attributes: {', '.join(ATTRIBUTES)}")


def read_attributes(path: str | Path) -> tuple[list[str], np.ndarray]:
    """``list_attr_celeba.txt`` -> file names and int8 (N, 40) values in {-1, 1}, columns as ATTRIBUTES."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{path}: cannot be read ({error})") from None
    names = lines[1].split() if len(lines) > 1 else []
    if tuple(names) != ATTRIBUTES:
        raise DataFormatError(f"{path}: line 2 should list the 40 CelebA attributes, found {names[:3]}...")
    rows = [line.split() for line in lines[2:] if line.strip()]
    bad = next((i for i, row in enumerate(rows) if len(row) != 41 or not set(row[1:]) <= {"1", "-1"}), None)
    if bad is not None:
        raise DataFormatError(f"{path}: every row needs a file name and 40 values 1 or -1 "
                              f"(row {bad + 1}: {' '.join(rows[bad])[:60]})")
    return [row[0] for row in rows], np.array([row[1:] for row in rows], dtype=np.int8)


def multi_hot(present: np.ndarray) -> np.ndarray:
    """Bool (N, 40) attribute presence, columns as ATTRIBUTES -> int64 (N, 13) 0/1, columns as LABELS."""
    return present[:, [ATTRIBUTES.index(name) for name in LABELS]].astype(np.int64)


def read_partition(path: Path) -> dict[str, int]:
    """``list_eval_partition.txt`` -> file name -> partition (0 train, 1 validation, 2 test)."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    bad = next((row for row in rows if len(row) != 2 or row[1] not in ("0", "1", "2")), None)
    if bad is not None:
        raise DataFormatError(f"{path}: every row needs a file name and a partition 0, 1 or 2 "
                              f"(found {' '.join(bad)[:60]!r})")
    return {name: int(part) for name, part in rows}


def celeba_task(options: DataOptions) -> Task:
    check_attribute(options.attribute)
    size = options.image_size or DEFAULT_SIZE
    check_image_size(size)
    source = resolve_source("celeb_a", [ATTRIBUTE_FILE, IMAGE_DIR], options)
    if source == "raw":
        domains, test_domains = _raw_domains(options, size)
    else:
        domains, test_domains = _tfds_domains(options, size, download=source == "tfds-download")
    return Task(f"celeba_{options.attribute}", domains, test_domains=test_domains,
                num_classes=len(LABELS), label_names=LABELS, sources={"celeba": source})


def _names(attribute: str) -> tuple[str, str]:
    return f"not_{attribute}", attribute


def _raw_domains(options: DataOptions, size: int):
    root = Path(options.data_dir)
    files, values = read_attributes(root / ATTRIBUTE_FILE)
    column = values[:, ATTRIBUTES.index(options.attribute)]
    labels = multi_hot(values == 1)
    partition_file = root / PARTITION_FILE
    partition = read_partition(partition_file) if partition_file.exists() else {}
    is_test = np.array([partition.get(f, 0) == 2 for f in files])
    paths = np.array([str(root / IMAGE_DIR / f) for f in files])
    decode_check = wants_decode_check(len(paths))

    def split(test: bool) -> tuple[Domain, ...]:
        chosen = [(column == value) & (is_test == test) for value in (-1, 1)]
        return tuple(
            file_domain(name, paths[rows].tolist(), size, 3,
                        f"CelebA {'test' if test else 'train'} {name}", labels=labels[rows],
                        decode_check=decode_check)
            for name, rows in zip(_names(options.attribute), chosen)
        )

    return split(False), (split(True) if is_test.any() else None)


def _tfds_domains(options: DataOptions, size: int, download: bool):
    attribute = options.attribute

    def load(split: str) -> tuple[Domain, ...]:
        images, values = tfds_images("celeb_a", split, size, 3, options.data_dir, download,
                                     label=lambda ex: tf.stack([ex["attributes"][a] for a in ATTRIBUTES]))
        if images.nbytes > TFDS_MEMORY_WARNING:
            warnings.warn(f"CelebA from tfds holds {images.nbytes / 2**30:.1f} GiB in memory; the raw "
                          "files stream from disk", stacklevel=3)
        has, labels = values[:, ATTRIBUTES.index(attribute)], multi_hot(values == 1)
        return tuple(Domain(name, (size, size, 3), images=images[has == value], labels=labels[has == value])
                     for name, value in zip(_names(attribute), (0, 1)))

    return load("train+validation"), load("test")
