"""A ResNet-block generator in the CycleGAN style (Johnson et al. 2016; Zhu et al. 2017), from z.

CycleGAN's generator is an image-to-image encoder, residual trunk and decoder; here the
encoder is replaced by a projection of z. For S x S images (S divisible by 16), width 1:
  1. Dense (S/16)^2 * 256, reshape, BatchNorm, ReLU               S/16
  2-3. ConvTranspose 256, k3, s2, BatchNorm, ReLU  (twice)        S/4
  4..  R residual blocks of 256 channels at S/4 (R = 6 up to 128x128, 9 above, as CycleGAN):
       x + BN(Conv3(ReLU(BN(Conv3(x)))))
  then ConvTranspose 128 and 64, k3, s2, BatchNorm, ReLU          S
  last: Conv 7x7 to C channels, tanh.
Upsampling follows ``options.upsample`` (``resize`` = nearest resize then convolution).
Shared by default: everything but the last three blocks (the two upsamplings to full
size and the output), i.e. the residual trunk is shared. Use with ``--d_arch faces``.
"""

from __future__ import annotations

import keras

from scogan.nets.coupled import Architecture
from scogan.nets.layers import NetOptions, conv, dense, upconv


class ResidualBlock:
    """x + BN(Conv3x3(ReLU(BN(Conv3x3(x))))), same number of channels in and out.

    Not a custom layer: calling the block wires standard Keras layers (Conv2D,
    BatchNormalization, ReLU, Add) into the functional graph, so every exported model
    loads with plain ``keras.models.load_model``, without this project on the path. The
    layers are created once, in the constructor; calling the same block again (a shared
    block, one call per domain) reuses them, so sharing stays sharing by object identity.
    """

    def __init__(self, filters: int, kernel_initializer="glorot_uniform", name: str = "residual") -> None:
        self.filters = filters
        self.name = name
        make = lambda i: keras.layers.Conv2D(  # noqa: E731
            filters, 3, padding="same", kernel_initializer=keras.initializers.get(kernel_initializer),
            name=f"{name}_conv{i}")
        self.conv1, self.conv2 = make(1), make(2)
        self.norm1 = keras.layers.BatchNormalization(name=f"{name}_bn1")
        self.norm2 = keras.layers.BatchNormalization(name=f"{name}_bn2")
        self.relu = keras.layers.ReLU(name=f"{name}_relu")
        self.add = keras.layers.Add(name=f"{name}_add")

    @property
    def layers(self) -> list[keras.layers.Layer]:
        return [self.conv1, self.norm1, self.relu, self.conv2, self.norm2, self.add]

    @property
    def trainable_variables(self) -> list:
        return [v for layer in self.layers for v in layer.trainable_variables]

    def __call__(self, x, training=None):
        if x.shape[-1] != self.filters:
            raise ValueError(f"{self.name}: {x.shape[-1]} input channels, expected {self.filters}")
        h = self.relu(self.norm1(self.conv1(x), training=training))
        return self.add([x, self.norm2(self.conv2(h), training=training)])


def resnet_generator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    size = image_shape[0]
    if image_shape[1] != size or size % 16:
        raise ValueError(f"the resnet generator makes square images with a side divisible by 16, not "
                         f"{image_shape[0]}x{image_shape[1]}")
    c = options.channels
    start = size // 16
    residual_blocks = 6 if size <= 128 else 9

    def project(name: str):
        return [dense(options, start * start * c(256), f"{name}_dense"),
                keras.layers.Reshape((start, start, c(256)), name=f"{name}_reshape"),
                keras.layers.BatchNormalization(name=f"{name}_bn"), keras.layers.ReLU(name=f"{name}_relu")]

    def up(filters: int):
        def block(name: str):
            return [*upconv(options, c(filters), 3, 2, f"{name}_conv"),
                    keras.layers.BatchNormalization(name=f"{name}_bn"), keras.layers.ReLU(name=f"{name}_relu")]
        return block

    def residual(name: str):
        return [ResidualBlock(c(256), options.initializer(), name=f"{name}_residual")]

    def to_image(name: str):
        return [conv(options, image_shape[2], 7, 1, f"{name}_conv"), keras.layers.Activation("tanh", name=f"{name}_tanh")]

    blocks = (project, up(256), up(256), *([residual] * residual_blocks), up(128), up(64), to_image)
    return Architecture(blocks=blocks, default_shared=len(blocks) - 3)
