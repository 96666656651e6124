"""The digit domains as the thesis prototype makes them, and pixel agreement on real pairs.

The prototype (mushkanT/P10Project, ``Code/Data.py``, ``mnist_cogan``) makes MNISTedge from
each 28x28 digit, ``cv2.dilate(i, np.ones((3, 3), np.uint8)) - i`` on float32 pixels, then
scales to [-1, 1] and resizes with ``tf.image.resize(image, (32, 32))`` (bilinear). The
expected images here are computed independently: the dilation as a NumPy maximum over the
3x3 neighbourhood, the resize by TensorFlow in floats, as the prototype does. The framework
stores uint8 images resized by OpenCV (the same bilinear weights), hence the tolerance of
one grey level.
"""

import numpy as np
import pytest
import tensorflow as tf

from scogan.data import DataOptions, load_task
from scogan.data.digit_tasks import digit_edges, disjoint_parts, edges, resize, unresize
from scogan.data.mnist import load_mnist
from scogan.metrics.pixel_agreement import pixel_agreement, stroke_agreement

BUNDLED = DataOptions(source="bundled")


def _dilate_by_hand(digits: np.ndarray) -> np.ndarray:
    """(N, 28, 28) float: the maximum over each pixel's 3x3 neighbourhood (zero outside)."""
    padded = np.pad(digits, ((0, 0), (1, 1), (1, 1)))
    h, w = digits.shape[1:]
    return np.max([padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)


def _prototype_resize(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) 0-255 -> (N, 32, 32, 1) 0-255 float: the prototype's format_example_to32_2."""
    scaled = (images[..., None].astype(np.float32) - 127.5) / 127.5
    return tf.image.resize(scaled, (32, 32)).numpy() * 127.5 + 127.5


def _prototype_edges(digits: np.ndarray) -> np.ndarray:
    digits = digits.astype(np.float32)
    return _prototype_resize(_dilate_by_hand(digits) - digits)


def _hand_digits() -> np.ndarray:
    digits = np.zeros((3, 28, 28), np.uint8)
    digits[0, 8:20, 12:16] = 255  # a "1"
    yy, xx = np.mgrid[:28, :28]
    ring = (np.hypot(yy - 14, xx - 14) > 5) & (np.hypot(yy - 14, xx - 14) < 8)
    digits[1][ring] = 255  # a "0"
    digits[2][ring] = 180  # a grey "0" crossed by a bar of another grey
    digits[2, 4:24, 13:15] = 240
    return digits


def _unit(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 127.5 - 1


def test_edges_of_a_hand_made_bar_by_hand():
    bar = np.zeros((1, 28, 28), np.uint8)
    bar[0, 8:20, 12:16] = 255
    expected = np.zeros((28, 28), np.uint8)
    expected[7:21, 11:17] = 255  # the bar grown by one pixel all round ...
    expected[8:20, 12:16] = 0  # ... minus the bar: its one-pixel outline
    np.testing.assert_array_equal(digit_edges(bar)[0], expected)


def test_edge_images_are_made_at_28x28_then_resized_as_the_prototype():
    digits = _hand_digits()
    made = edges.of_digits(digits)
    assert made.shape == (3, 32, 32, 1) and made.dtype == np.uint8
    assert np.abs(made - _prototype_edges(digits)).max() < 1.0
    # Dilating the 32x32 resized digit instead (the construction before) draws other outlines.
    at_32 = digit_edges(resize(digits, 32)).astype(np.float32)
    assert np.abs(at_32 - _prototype_edges(digits)).max() > 50


def test_mnist2edge_domains_are_the_prototypes_on_real_digits(edge_task):
    train, _ = load_mnist("train", BUNDLED)
    test, _ = load_mnist("test", BUNDLED)
    part = disjoint_parts(len(train), 2)[1][:200]
    assert np.abs(edge_task.domains[1].images[:200] - _prototype_edges(train[part])).max() < 1.0
    assert np.abs(edge_task.test_domains[1].images[:200] - _prototype_edges(test[:200])).max() < 1.0
    assert np.abs(edge_task.domains[0].images[:200] - _prototype_resize(train[disjoint_parts(len(train), 2)[0][:200]])).max() < 1.0


@pytest.mark.parametrize("task, prototype", [
    ("mnist2negative", lambda x: 255.0 - _prototype_resize(x)),  # format_example_negative: resize, negate
    ("mnist2rotate", lambda x: _prototype_resize(np.rot90(x, 1, axes=(1, 2)))),  # rotate, then resize
])
def test_negative_and_rotated_domains_match_the_prototype_at_32x32(task, prototype):
    # Made from the resized digit here; both commute with the resize, so the prototype's
    # order gives the same images to within uint8 rounding.
    train, _ = load_mnist("train", BUNDLED)
    loaded = load_task(task, BUNDLED)
    part = disjoint_parts(len(train), 2)[1][:200]
    assert np.abs(loaded.domains[1].images[:200] - prototype(train[part])).max() < 1.0


def test_pixel_and_stroke_agreement_of_real_pairs_under_the_28x28_construction(edge_task):
    digits = _hand_digits()
    mnist, edge = _unit(resize(digits, 32)), _unit(edges.of_digits(digits))
    np.testing.assert_array_equal(pixel_agreement(mnist, edge, edges), 1.0)
    np.testing.assert_array_equal(stroke_agreement(mnist, edge, edges), 1.0)
    # Real MNIST digits and their own edge images (the training construction): 0.9996 and
    # 0.997 on the bundled subset; see test_no_reduction_to_28x28_recovers_every_digit.
    train, _ = load_mnist("train", BUNDLED)
    part = disjoint_parts(len(train), 2)[1]
    mnist, edge = _unit(resize(train[part], 32)), _unit(edge_task.domains[1].images)
    assert np.mean(pixel_agreement(mnist, edge, edges)) > 0.999
    assert np.mean(stroke_agreement(mnist, edge, edges)) > 0.99
    assert np.mean(pixel_agreement(mnist, edge, edges) == 1.0) > 0.6
    # Shuffled pairs stay well below.
    assert np.mean(pixel_agreement(mnist, np.roll(edge, 1, axis=0), edges)) < 0.85


def test_no_reduction_to_28x28_recovers_every_digit():
    """Why real pairs score 0.9996, not 1: the rounded 28 -> 32 resize is not one-to-one."""
    blank = np.zeros((1, 28, 28), np.uint8)
    speck = blank.copy()
    speck[0, 3, 3] = 1
    np.testing.assert_array_equal(resize(speck, 32), resize(blank, 32))
    # unresize takes a resized digit back to within a grey level or so of itself.
    digits = _hand_digits()
    assert np.abs(unresize(resize(digits, 32), 28).astype(int) - digits[..., None]).max() <= 1
