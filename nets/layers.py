"""Small layer factories shared by the architectures.

Every factory returns *new* layer objects; sharing is done by the coupled builders
(``nets.coupled``), which create a shared block once and call it from every domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras

from scogan.utils.precision import float32_layers

Block = Callable[[str], Sequence[keras.layers.Layer]]
"""Creates the layers of one network block; the argument is a unique name prefix.

The items are applied in order, each to the previous one's output. An item may also be
a composite of standard layers (``nets.resnet.ResidualBlock``: callable, with
``trainable_variables``) that wires a non-sequential graph; no item is a custom layer
class, so exported models load with plain Keras."""

WEIGHT_INITS = ("normal", "xavier", "he")
NORMS = ("batch", "layer", "none")


@dataclass(frozen=True)
class NetOptions:
    """Hyperparameters common to every architecture.

    width: channel multiplier (1.0 = the thesis tables; 0.125 for CPU-sized nets).
    weight_init: ``normal`` (N(0, 0.02), DCGAN/CoGAN), ``xavier`` (Glorot uniform) or ``he``.
    prelu_init: initial PReLU slope (0.25 as in the CoGAN Caffe nets).
    disc_norm: normalisation in discriminators that have any: ``batch``, ``layer``
        (for per-sample penalties such as WGAN-GP) or ``none``.
    upsample: ``transpose`` (fractionally strided convolutions, the thesis) or
        ``resize`` (nearest-neighbour resize then convolution, against checkerboard artefacts).
    """

    width: float = 1.0
    weight_init: str = "normal"
    prelu_init: float = 0.25
    disc_norm: str = "batch"
    upsample: str = "transpose"

    def __post_init__(self) -> None:
        if self.width <= 0:
            raise ValueError(f"width must be positive, got {self.width}")
        if self.weight_init not in WEIGHT_INITS:
            raise ValueError(f"unknown weight_init {self.weight_init!r}; valid choices: {', '.join(WEIGHT_INITS)}")
        if self.disc_norm not in NORMS:
            raise ValueError(f"unknown disc_norm {self.disc_norm!r}; valid choices: {', '.join(NORMS)}")
        if self.upsample not in ("transpose", "resize"):
            raise ValueError(f"unknown upsample {self.upsample!r}; valid choices: transpose, resize")

    def replace(self, **changes) -> NetOptions:
        return dataclasses.replace(self, **changes)

    def channels(self, n: int) -> int:
        """``n`` channels scaled by ``width``, at least 1."""
        return max(1, int(round(n * self.width)))

    def initializer(self) -> keras.initializers.Initializer:
        if self.weight_init == "normal":
            return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
        if self.weight_init == "xavier":
            return keras.initializers.GlorotUniform()
        return keras.initializers.HeNormal()


def prelu(options: NetOptions, name: str, conv: bool = True) -> keras.layers.PReLU:
    """PReLU with one slope per channel (Caffe's default), initialised at ``prelu_init``."""
    return keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(options.prelu_init),
        shared_axes=[1, 2] if conv else None,
        name=name,
    )


def norm(kind: str, name: str) -> list[keras.layers.Layer]:
    """A normalisation layer of the given kind, or nothing for ``none``."""
    if kind == "batch":
        return [keras.layers.BatchNormalization(name=name)]
    if kind == "layer":
        return [keras.layers.LayerNormalization(name=name)]
    return []


def dropout(rate: float, name: str) -> keras.layers.Dropout:
    """Dropout computing in float32 under any precision policy: Keras draws the mask in the
    layer's compute dtype, so a bfloat16 dropout would draw other masks from the same seed,
    and ``--precision`` would change the random stream, not only the rounding (measured: the
    first step's losses 5% apart instead of 0.2%)."""
    with float32_layers():
        return keras.layers.Dropout(rate, name=name)


def conv(options: NetOptions, filters: int, kernel: int, stride: int, name: str) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same",
        kernel_initializer=options.initializer(), name=name,
    )


def upconv(options: NetOptions, filters: int, kernel: int, stride: int, name: str) -> list[keras.layers.Layer]:
    """Upsampling by ``stride``: a transposed convolution, or resize-then-convolve."""
    if options.upsample == "resize" and stride > 1:
        return [
            keras.layers.UpSampling2D(stride, interpolation="nearest", name=f"{name}_resize"),
            conv(options, filters, kernel, 1, name),
        ]
    return [
        keras.layers.Conv2DTranspose(
            filters, kernel, strides=stride, padding="same",
            kernel_initializer=options.initializer(), name=name,
        )
    ]


def dense(options: NetOptions, units: int, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, kernel_initializer=options.initializer(), name=name)
