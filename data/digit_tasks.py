"""The CoGAN paper's digit tasks: MNIST against a transformed copy of MNIST.

The training set is split into k disjoint parts, one per domain; domain i's images
are the transform of its own part, so no training pair ever corresponds. The same
transform of a generated domain-1 image is what pixel agreement compares with G_i(z).

Where each transform is applied follows the thesis prototype (mushkanT/P10Project,
``Code/Data.py``, ``mnist_cogan``): the edge image is made from the 28x28 digit and then
resized to 32x32 (``edges``, a ``NativeSizeTransform``); negatives and rotations are
made at 32x32 from the resized digit, which equals the prototype's order (it negates
after resizing and rotates before) to within the 1 grey level of uint8 rounding, since
both commute with a bilinear resize of a square image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from scogan.data.mnist import load_mnist, mnist_source
from scogan.data.sources import DataOptions
from scogan.data.task import Domain, Task, Transform
from scogan.utils.config import ConfigurationError

IMAGE_SIZE = 32
MNIST_SIZE = 28  # the digits' own size, at which the edge images are made
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


def bilinear_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) float64 weights of a 1-D bilinear enlargement with half-pixel
    centres and clamped borders: the sampling of cv2.INTER_LINEAR and of
    tf.image.resize(method="bilinear"), so ``W @ x @ W.T`` is ``resize`` without rounding."""
    weights = np.zeros((size_out, size_in))
    for j in range(size_out):
        source = max((j + 0.5) * size_in / size_out - 0.5, 0.0)
        i = min(int(source), size_in - 1)
        weights[j, i] += 1.0 - (source - i)
        weights[j, min(i + 1, size_in - 1)] += source - i
    return weights


def unresize(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, S, S, C) -> uint8 (N, size, size, C): the least-squares inverse of a
    bilinear enlargement from size x size (the pseudo-inverse of ``bilinear_matrix`` on
    each axis), rounded. It takes a resized digit back to its original to within a few
    grey levels (not exactly: the rounded 28 -> 32 resize maps some distinct digits to
    the same image); a plain bilinear or area reduction would blur it instead."""
    if images.shape[1:3] == (size, size):
        return images
    inverse = np.linalg.pinv(bilinear_matrix(size, images.shape[1]))  # (size, S)
    planes = np.moveaxis(images.astype(np.float64), -1, 1)  # (N, C, S, S)
    small = np.moveaxis(inverse @ planes @ inverse.T, 1, -1)
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def digit_edges(digits: np.ndarray) -> np.ndarray:
    """Edge images at the digits' own size: the digit dilated by a 3x3 square, minus the
    digit, with no threshold; uint8 (N, H, W[, 1]) -> the same shape.

    As the thesis prototype makes MNISTedge (mushkanT/P10Project, ``Code/Data.py`` and
    ``Data.py``, ``mnist_cogan``, branch ``d2 == 'edge'``): on each 28x28 training digit
    (float32 0-255, which dilates as uint8 does) ``cv2.dilate(i, np.ones((3, 3),
    np.uint8), iterations=1)`` minus ``i``, then ``format_example_to32_2``: scaling to
    [-1, 1] and ``tf.image.resize(image, (32, 32))``, bilinear (see ``edges``).
    """
    kernel = np.ones((3, 3), np.uint8)
    dilated = np.stack([cv2.dilate(img, kernel).reshape(img.shape) for img in digits])
    return dilated - digits  # dilation never decreases a pixel, so no underflow


@dataclass(frozen=True)
class NativeSizeTransform:
    """A digit transform made at the digits' 28x28 and then resized to 32x32.

    ``of_digits`` builds a domain from the original digits, as the prototype does.
    Called on 32x32 images (G_1(z) in pixel agreement), it takes them back to 28x28
    with ``unresize`` first, so a generated digit goes through the construction that
    made the training images. Real pairs (a resized digit and its own edge image) then
    score 0.9996 pixel agreement, not exactly 1 (``unresize`` is within a few grey
    levels of the digit, and pixels near mid-grey can flip); a bilinear or area
    reduction to 28x28 instead would give them 0.95 (measured on 5,000 MNIST digits).
    """

    transform: Transform
    native_size: int = MNIST_SIZE

    def of_digits(self, digits: np.ndarray) -> np.ndarray:
        """uint8 (N, 28, 28[, 1]) digits -> uint8 (N, 32, 32, 1) transformed images."""
        return resize(self.transform(digits), IMAGE_SIZE)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, 32, 32, 1) resized digits -> uint8 (N, 32, 32, 1)."""
        return self.of_digits(unresize(images, self.native_size))


# The edge domain: made from the 28x28 digit, then resized bilinearly to 32x32 (the
# prototype's order). cv2.INTER_LINEAR on uint8 samples as tf.image.resize does; the
# prototype kept floats, so its images differ from these by less than 1 grey level.
edges = NativeSizeTransform(digit_edges)


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


def _transformed(transform: Transform, digits: np.ndarray, resized: np.ndarray) -> np.ndarray:
    """A domain's images: a ``NativeSizeTransform`` of the original digits, any other
    transform of the 32x32 resized ones."""
    if isinstance(transform, NativeSizeTransform):
        return transform.of_digits(digits)
    return transform(resized)


def digit_task(name: str, transforms: dict[str, Transform], options: DataOptions) -> Task:
    """MNIST split into one disjoint part per named transform (the first is usually identity)."""
    if options.image_size not in (None, IMAGE_SIZE):
        raise ConfigurationError(f"the digit tasks are {IMAGE_SIZE}x{IMAGE_SIZE}; --image_size "
                                 f"{options.image_size} is not supported")
    source = mnist_source(options)
    train_digits, train_labels = load_mnist("train", options, source)
    test_digits, test_labels = load_mnist("test", options, source)
    train, test = resize(train_digits, IMAGE_SIZE), resize(test_digits, IMAGE_SIZE)
    parts = disjoint_parts(len(train), len(transforms))
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    domains, test_domains = [], []
    for (domain_name, transform), part in zip(transforms.items(), parts):
        images = _transformed(transform, train_digits[part], train[part])
        domains.append(Domain(domain_name, shape, images=images, labels=train_labels[part]))
        test_domains.append(Domain(domain_name, shape, images=_transformed(transform, test_digits, test),
                                   labels=test_labels))
    return Task(name, tuple(domains), transforms=tuple(transforms.values()),
                test_domains=tuple(test_domains), num_classes=10, sources={"mnist": source})
