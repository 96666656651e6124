"""USPS digits, the MNIST2USPS and USPS2MNIST tasks, and the paper's UDA training sample.

Raw layout: ``DATA_DIR/usps/usps.h5`` (the common Kaggle layout): HDF5 groups ``train``
(7,291) and ``test`` (2,007), each with ``data`` (N, 256) float in [0, 1] (16x16,
row-major) and ``target`` (N,) 0..9. tfds has no USPS builder, so this is raw only.
Images are framed like MNIST's digits (``frame``): USPS digits fill their 16x16 frame,
while MNIST's sit in a 20x20 box centred in 28x28 (about 23 px tall once resized to the
digit tasks' 32x32), so each USPS image is resized bilinearly to ``DIGIT_SIZE`` (24) and
padded with ``(32 - 24) / 2`` = 4 black pixels a side. Resizing the whole frame to 32x32
instead made USPS digits about 31 px tall: a LeNet-sized classifier trained on MNIST alone
read 0.686 of the USPS test set that way, 0.838 framed (cpu-scale source-only preset, seed
0; docs/results/uda_study.md), the domain gap being partly the scale of the digits.

``usps2mnist`` is ``mnist2usps`` with the domains swapped (USPS is domain 1, the source
of ``--gan_type uda``). ``paper_sample`` draws the training images of the CoGAN paper's
domain adaptation protocol (Sec. 5): 2,000 MNIST and 1,800 USPS images at random.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scogan.data.digit_tasks import IMAGE_SIZE, resize
from scogan.data.mnist import mnist_source
from scogan.data.mnist32 import check_digit_size, mnist32
from scogan.data.sources import (
    DataFormatError,
    DataNotFoundError,
    DataOptions,
    check_data_dir,
    missing_files,
)
from scogan.data.task import Domain, Task
from scogan.utils.config import ConfigurationError

RAW_FILE = "usps/usps.h5"
DIGIT_SIZE = 24  # px of the 32x32 frame a USPS digit fills, as MNIST's 20 of 28 resized to 32


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
    return frame(images), labels


def frame(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 16, 16) USPS digits -> uint8 (N, 32, 32, 1) framed like MNIST's: resized
    (bilinear) to ``DIGIT_SIZE`` and centred on black."""
    margin = (IMAGE_SIZE - DIGIT_SIZE) // 2
    digits = resize(images, DIGIT_SIZE)
    return np.pad(digits, ((0, 0), (margin, IMAGE_SIZE - DIGIT_SIZE - margin),
                           (margin, IMAGE_SIZE - DIGIT_SIZE - margin), (0, 0)))


def mnist2usps_task(options: DataOptions) -> Task:
    """MNIST (all 60,000) vs USPS (7,291), 32x32 grayscale, labelled; test splits as test domains."""
    return _digit_pair("mnist2usps", options, usps_first=False)


def usps2mnist_task(options: DataOptions) -> Task:
    """USPS (7,291) vs MNIST (all 60,000): ``mnist2usps`` with the domains swapped."""
    return _digit_pair("usps2mnist", options, usps_first=True)


def _digit_pair(name: str, options: DataOptions, usps_first: bool) -> Task:
    check_digit_size(name, options)
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    usps, usps_labels = load_usps("train", options)  # first: USPS has the fewest sources
    usps_test, usps_test_labels = load_usps("test", options)
    source = mnist_source(options)
    mnist, mnist_labels = mnist32("train", options, source=source)
    mnist_test, mnist_test_labels = mnist32("test", options, source=source)
    domains = [Domain("mnist", shape, images=mnist, labels=mnist_labels),
               Domain("usps", shape, images=usps, labels=usps_labels)]
    test_domains = [Domain("mnist", shape, images=mnist_test, labels=mnist_test_labels),
                    Domain("usps", shape, images=usps_test, labels=usps_test_labels)]
    if usps_first:
        domains.reverse()
        test_domains.reverse()
    return Task(name, tuple(domains), test_domains=tuple(test_domains), num_classes=10,
                sources={"mnist": source, "usps": "raw"})


# CoGAN Sec. 5 (the protocol it follows): "randomly samples 2000 images from the MNIST
# dataset [...] and 1800 images from the USPS dataset"; in both directions; evaluated here
# on the full test sets.
PAPER_SAMPLE_SIZES = {"mnist": 2000, "usps": 1800}
# One random stream per dataset (keyed by name, not by domain position), so a sample seed
# draws the same MNIST and USPS images for mnist2usps and for usps2mnist.
_SAMPLE_STREAMS = {"mnist": 0, "usps": 1}


def paper_sample(domain: Domain, seed: int) -> Domain:
    """The paper protocol's random training sample of ``domain`` (``mnist``: 2,000 images,
    ``usps``: 1,800), drawn without replacement by ``seed``, in the domain's order.

    The draw reads image counts only (never labels). ConfigurationError for another domain.
    """
    if domain.name not in PAPER_SAMPLE_SIZES:
        raise ConfigurationError(f"the paper's domain adaptation protocol samples MNIST and USPS "
                                 f"({', '.join(f'{k}: {v}' for k, v in PAPER_SAMPLE_SIZES.items())} "
                                 f"images); domain {domain.name!r} has no sample size: use "
                                 "--uda_protocol full")
    size = PAPER_SAMPLE_SIZES[domain.name]
    if len(domain) < size:
        raise ConfigurationError(f"domain {domain.name!r} has {len(domain)} images, fewer than the "
                                 f"paper protocol's {size}")
    rng = np.random.default_rng([seed, _SAMPLE_STREAMS[domain.name]])
    return domain.take(np.sort(rng.choice(len(domain), size=size, replace=False)))
