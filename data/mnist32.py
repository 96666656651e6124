"""MNIST at 32x32 with a chosen channel count, for pairing with other digit datasets."""

from __future__ import annotations

import numpy as np

from scogan.data.digit_tasks import IMAGE_SIZE, resize
from scogan.data.mnist import load_mnist
from scogan.data.sources import DataOptions
from scogan.utils.config import ConfigurationError


def mnist32(split: str, options: DataOptions, channels: int = 1,
            source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` as uint8 (N, 32, 32, channels) (bilinear resize, gray repeated) and int64 labels,
    from ``source`` (default: ``data.mnist.mnist_source(options)``)."""
    images, labels = load_mnist(split, options, source)
    images = resize(images, IMAGE_SIZE)
    if channels == 3:
        images = np.repeat(images, 3, axis=-1)
    return images, labels


def check_digit_size(task: str, options: DataOptions) -> None:
    """ConfigurationError (a ValueError) unless ``--image_size`` is unset or 32."""
    if options.image_size not in (None, IMAGE_SIZE):
        raise ConfigurationError(f"{task} is {IMAGE_SIZE}x{IMAGE_SIZE}; --image_size {options.image_size} is not supported")
