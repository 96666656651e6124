"""SVHN cropped digits (format 2) and the MNIST2SVHN tasks, plain and pruned as in the thesis.

Raw layout (the official download): ``DATA_DIR/svhn/train_32x32.mat`` and ``test_32x32.mat``,
MATLAB files with ``X`` uint8 (32, 32, 3, N) and ``y`` (N, 1) where label 10 means digit 0.
tfds: ``svhn_cropped``. Images uint8 (N, 32, 32, 3), labels int64 0..9.

Pruning (thesis Sec. 2.7): drop the SVHN training images on which a digit classifier's
highest class probability is at or below 40%. The kept indices are cached beside the
data (``DATA_DIR/svhn/``, or ``~/.cache/cogan`` when that is not writable), keyed by the
classifier file's SHA-256, so the classifier runs once per classifier.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from scogan.data.image_files import tfds_images
from scogan.data.mnist import mnist_source
from scogan.data.mnist32 import check_digit_size, mnist32
from scogan.data.sources import DataFormatError, DataOptions, resolve_source
from scogan.data.task import Domain, Task
from scogan.utils.config import ConfigurationError

RAW_FILES = {"train": "svhn/train_32x32.mat", "test": "svhn/test_32x32.mat"}
PRUNE_THRESHOLD = 0.4
SHAPE = (32, 32, 3)


def read_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """An official SVHN ``*_32x32.mat`` file -> uint8 (N, 32, 32, 3), int64 labels with 10 mapped to 0."""
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
        images = np.ascontiguousarray(np.transpose(mat["X"], (3, 0, 1, 2))).astype(np.uint8)
        labels = mat["y"].reshape(-1).astype(np.int64) % 10
    except (OSError, ValueError, KeyError, TypeError) as error:  # MatReadError is a ValueError
        raise DataFormatError(f"{path}: not an SVHN .mat file with X (32, 32, 3, N) and y ({error})") from None
    if images.shape[1:] != SHAPE or len(images) != len(labels):
        raise DataFormatError(f"{path}: expected X (32, 32, 3, N) and y (N, 1), got {mat['X'].shape} and {mat['y'].shape}")
    return images, labels


def svhn_source(options: DataOptions) -> str:
    """Where SVHN comes from (``tfds``, ``tfds-download`` or ``raw``, which needs both .mat files)."""
    return resolve_source("svhn_cropped", list(RAW_FILES.values()), options)


def load_svhn(split: str, options: DataOptions, source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """SVHN cropped ``split`` (``train`` or ``test``) from ``source`` (default: ``svhn_source(options)``)."""
    source = source or svhn_source(options)
    if source == "raw":
        return read_mat(Path(options.data_dir, RAW_FILES[split]))
    return tfds_images("svhn_cropped", split, 32, 3, options.data_dir, source == "tfds-download",
                       label=lambda ex: ex["label"])


def mnist2svhn_task(options: DataOptions, pruned: bool = False) -> Task:
    """MNIST (3-channel 32x32, all 60,000) vs SVHN (all 73,257, or pruned); test splits as test domains."""
    name = "mnist2svhn_pruned" if pruned else "mnist2svhn"
    check_digit_size(name, options)
    if pruned and not options.classifier_path:
        raise ConfigurationError("mnist2svhn_pruned needs a digit classifier: pass --classifier_path "
                                 "(train one with --gan_type classifier --cogan_data mnist2svhn)")
    sources = {"mnist": mnist_source(options), "svhn": svhn_source(options)}
    mnist, mnist_labels = mnist32("train", options, channels=3, source=sources["mnist"])
    mnist_test, mnist_test_labels = mnist32("test", options, channels=3, source=sources["mnist"])
    svhn, svhn_labels = load_svhn("train", options, sources["svhn"])
    svhn_test, svhn_test_labels = load_svhn("test", options, sources["svhn"])
    if pruned:
        keep = pruned_indices(svhn, options.classifier_path, cache_dir(options))
        svhn, svhn_labels = svhn[keep], svhn_labels[keep]
    return Task(
        name,
        (Domain("mnist", SHAPE, images=mnist, labels=mnist_labels),
         Domain("svhn", SHAPE, images=svhn, labels=svhn_labels)),
        test_domains=(Domain("mnist", SHAPE, images=mnist_test, labels=mnist_test_labels),
                      Domain("svhn", SHAPE, images=svhn_test, labels=svhn_test_labels)),
        num_classes=10, sources=sources,
    )


def cache_dir(options: DataOptions) -> Path:
    """Where pruning results live: beside the raw SVHN files if writable, else ``~/.cache/cogan``."""
    if options.data_dir:
        beside = Path(options.data_dir, "svhn")
        if beside.is_dir() and os.access(beside, os.W_OK):
            return beside
    return Path(os.path.expanduser("~/.cache/cogan"))


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def pruned_indices(images: np.ndarray, classifier_path: str, cache: Path,
                   threshold: float = PRUNE_THRESHOLD) -> np.ndarray:
    """Indices of ``images`` whose top class probability exceeds ``threshold`` (cached).

    The classifier (a ``.keras`` model) reads float32 NHWC images in [-1, 1] and outputs
    10 class probabilities (or logits: outputs that are not a distribution get a softmax).
    """
    if not Path(classifier_path).is_file():  # before hashing it for the cache name
        raise ConfigurationError(f"--classifier_path {classifier_path} does not exist")
    cache_file = cache / f"svhn_pruned_{file_digest(classifier_path)}_{len(images)}_{threshold:g}.npz"
    if cache_file.exists():
        with np.load(cache_file) as archive:
            return archive["keep"]
    from scogan.nets.classifier import load_classifier

    model = load_classifier(classifier_path, images.shape[1:], 10, "pruning SVHN")
    probabilities = np.asarray(model.predict(images.astype(np.float32) / 127.5 - 1.0, batch_size=512, verbose=0))
    if probabilities.min() < 0 or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        shifted = np.exp(probabilities - probabilities.max(axis=1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    keep = np.flatnonzero(probabilities.max(axis=1) > threshold)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, keep=keep)
    return keep
