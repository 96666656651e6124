"""MNIST from tfds, from the official idx files, or from the subset bundled with the code.

Raw layout (the official download, gzipped): ``DATA_DIR/mnist/train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``.
All loaders return images uint8 (N, 28, 28) and labels int64 (N,). A task resolves the
source once (``mnist_source``, which needs all four raw files for ``raw``) and loads both
splits from it.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np

from scogan.data.sources import DataFormatError, DataOptions, resolve_source

RAW_FILES = {
    "train": ("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz"),
    "test": ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"),
}
BUNDLED = Path(__file__).parent / "bundled" / "mnist_subset.npz"
_IDX_MAGIC = {0x803: 3, 0x801: 1}


def read_idx(path: str | Path) -> np.ndarray:
    """An idx file (optionally gzipped) as a numpy array: magic 0x803 images, 0x801 labels."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(f"{path}: cannot be read ({error})") from None
    magic = int.from_bytes(data[:4], "big")
    if magic not in _IDX_MAGIC:
        raise DataFormatError(f"{path}: not an idx image/label file (magic {magic:#x})")
    ndim = _IDX_MAGIC[magic]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape))
    if len(data) - offset != expected:
        raise DataFormatError(f"{path}: header says {shape} ({expected} bytes) but {len(data) - offset} bytes follow")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def load_raw(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    images_file, labels_file = RAW_FILES[split]
    images = read_idx(Path(data_dir, images_file))
    labels = read_idx(Path(data_dir, labels_file)).astype(np.int64)
    if len(images) != len(labels):
        raise DataFormatError(f"MNIST {split}: {len(images)} images in {images_file} but {len(labels)} "
                              f"labels in {labels_file}")
    return images, labels


def load_tfds(data_dir: str | None, split: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    import tensorflow_datasets as tfds

    dataset = tfds.load("mnist", split=split, data_dir=data_dir, as_supervised=True, download=download)
    return dataset_to_numpy(dataset.batch(4096))


def dataset_to_numpy(batches) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) batches of a supervised tfds dataset -> uint8 (N, H, W) or (N, H, W, C), int64."""
    images, labels = [], []
    for x, y in batches.as_numpy_iterator():
        images.append(x)
        labels.append(y)
    images_np = np.concatenate(images).astype(np.uint8)
    if images_np.shape[-1] == 1:
        images_np = images_np[..., 0]
    return images_np, np.concatenate(labels).astype(np.int64)


def load_bundled(split: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(BUNDLED) as archive:
        return archive[f"{split}_images"], archive[f"{split}_labels"].astype(np.int64)


def mnist_source(options: DataOptions) -> str:
    """Where MNIST comes from (``tfds``, ``tfds-download``, ``raw`` or ``bundled``), or DataNotFoundError.

    ``raw`` needs all four idx files, so a missing one is named before anything is read.
    """
    raw_files = [f for split in RAW_FILES.values() for f in split]
    source = resolve_source("mnist", raw_files, options, bundled=BUNDLED.exists())
    if source == "bundled":
        warnings.warn(f"using the MNIST subset bundled with the code ({BUNDLED.name}); "
                      "pass --data_dir for the full dataset", stacklevel=2)
    return source


def load_mnist(split: str, options: DataOptions, source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` (``train`` or ``test``) from ``source`` (default: ``mnist_source(options)``)."""
    if split not in RAW_FILES:
        raise ValueError(f"unknown MNIST split {split!r}; valid: train, test")
    source = source or mnist_source(options)
    if source == "raw":
        return load_raw(options.data_dir, split)
    if source == "bundled":
        return load_bundled(split)
    return load_tfds(options.data_dir, split, download=source == "tfds-download")
