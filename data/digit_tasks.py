"""The CoGAN paper's digit tasks: MNIST against a transformed copy of MNIST.

The training set is split into k disjoint parts, one per domain; domain i's images
are the transform of its own part, so no training pair ever corresponds. Images
are resized to 32x32 (bilinear) before transforming, and the same transform of a
generated domain-1 image is what pixel agreement compares with G_i(z).
"""

from __future__ import annotations

import cv2
import numpy as np

from data.mnist import load_mnist, mnist_source
from data.sources import DataOptions
from data.task import Domain, Task, Transform
from utils.config import ConfigurationError

IMAGE_SIZE = 32
# A fixed permutation for the disjoint split, independent of --seed, so every run of a
# task trains and evaluates on the same halves.
SPLIT_SEED = 2016


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W[, C]) -> uint8 (N, size, size, C), bilinear."""
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:3] == (size, size):
        return images
    out = np.stack([cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR) for img in images])
    return out.reshape(len(images), size, size, images.shape[-1])


def edges(images: np.ndarray) -> np.ndarray:
    """Edge images as in the thesis: the digit dilated by a 3x3 square, minus the digit."""
    kernel = np.ones((3, 3), np.uint8)
    dilated = np.stack([cv2.dilate(img, kernel).reshape(img.shape) for img in images])
    return dilated - images  # dilation never decreases a pixel, so no underflow


def negative(images: np.ndarray) -> np.ndarray:
    return 255 - images


def rotate90(images: np.ndarray) -> np.ndarray:
    """Rotation by 90 degrees counter-clockwise."""
    return np.ascontiguousarray(np.rot90(images, k=1, axes=(1, 2)))


def identity(images: np.ndarray) -> np.ndarray:
    return images


def disjoint_parts(n: int, k: int, seed: int = SPLIT_SEED) -> list[np.ndarray]:
    """k disjoint index sets of (almost) equal size covering range(n)."""
    return np.array_split(np.random.default_rng(seed).permutation(n), k)


def digit_task(name: str, transforms: dict[str, Transform], options: DataOptions) -> Task:
    """MNIST split into one disjoint part per named transform (the first is usually identity)."""
    if options.image_size not in (None, IMAGE_SIZE):
        raise ConfigurationError(f"the digit tasks are {IMAGE_SIZE}x{IMAGE_SIZE}; --image_size "
                                 f"{options.image_size} is not supported")
    source = mnist_source(options)
    train, train_labels = load_mnist("train", options, source)
    test, test_labels = load_mnist("test", options, source)
    train, test = resize(train, IMAGE_SIZE), resize(test, IMAGE_SIZE)
    parts = disjoint_parts(len(train), len(transforms))
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    domains, test_domains = [], []
    for (domain_name, transform), part in zip(transforms.items(), parts):
        domains.append(Domain(domain_name, shape, images=transform(train[part]), labels=train_labels[part]))
        test_domains.append(Domain(domain_name, shape, images=transform(test), labels=test_labels))
    return Task(name, tuple(domains), transforms=tuple(transforms.values()),
                test_domains=tuple(test_domains), num_classes=10, sources={"mnist": source})
