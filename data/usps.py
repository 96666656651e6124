"""USPS digits and the MNIST2USPS task (for domain adaptation).

Raw layout: ``DATA_DIR/usps/usps.h5`` (the common Kaggle layout): HDF5 groups ``train``
(7,291) and ``test`` (2,007), each with ``data`` (N, 256) float in [0, 1] (16x16,
row-major) and ``target`` (N,) 0..9. tfds has no USPS builder, so this is raw only.
Images are resized to 32x32 (bilinear), like MNIST in the digit tasks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data.digit_tasks import IMAGE_SIZE, resize
from data.mnist import mnist_source
from data.mnist32 import check_digit_size, mnist32
from data.sources import (
    DataFormatError,
    DataNotFoundError,
    DataOptions,
    check_data_dir,
    missing_files,
)
from data.task import Domain, Task

RAW_FILE = "usps/usps.h5"


def load_usps(split: str, options: DataOptions) -> tuple[np.ndarray, np.ndarray]:
    """USPS ``split`` as uint8 (N, 32, 32, 1) and int64 labels."""
    if options.source in ("tfds", "bundled"):
        raise DataNotFoundError(f"USPS has no {options.source} copy; put {RAW_FILE} under --data_dir")
    missing = missing_files(options.data_dir, [RAW_FILE])
    check_data_dir(options.data_dir, looked_for=missing)
    if missing:
        raise DataNotFoundError(f"USPS raw file not found; looked for: {', '.join(missing)}")
    import h5py

    path = Path(options.data_dir, RAW_FILE)
    try:
        with h5py.File(path, "r") as handle:
            data = np.asarray(handle[split]["data"], dtype=np.float32)
            labels = np.asarray(handle[split]["target"]).reshape(-1).astype(np.int64)
    except (OSError, KeyError) as error:  # not HDF5 / damaged, or no such group or dataset
        raise DataFormatError(f"{path}: not a USPS file with {split}/data and {split}/target ({error})") from None
    if data.ndim != 2 or data.shape[1] != 256 or len(data) != len(labels):
        raise DataFormatError(f"{path} {split}: expected data (N, 256) and target (N,), got {data.shape}, {labels.shape}")
    images = np.round(np.clip(data, 0.0, 1.0) * 255.0).astype(np.uint8).reshape(-1, 16, 16)
    return resize(images, IMAGE_SIZE), labels


def mnist2usps_task(options: DataOptions) -> Task:
    """MNIST (all 60,000) vs USPS (7,291), 32x32 grayscale, labelled; test splits as test domains."""
    check_digit_size("mnist2usps", options)
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    usps, usps_labels = load_usps("train", options)  # first: USPS has the fewest sources
    usps_test, usps_test_labels = load_usps("test", options)
    source = mnist_source(options)
    mnist, mnist_labels = mnist32("train", options, source=source)
    mnist_test, mnist_test_labels = mnist32("test", options, source=source)
    return Task(
        "mnist2usps",
        (Domain("mnist", shape, images=mnist, labels=mnist_labels),
         Domain("usps", shape, images=usps, labels=usps_labels)),
        test_domains=(Domain("mnist", shape, images=mnist_test, labels=mnist_test_labels),
                      Domain("usps", shape, images=usps_test, labels=usps_test_labels)),
        num_classes=10, sources={"mnist": source, "usps": "raw"},
    )
