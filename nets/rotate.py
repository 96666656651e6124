"""Nets for the rotation task (CoGAN paper, Appendix A / its Table 2).

The two domains (digits and the same digits rotated by 90 degrees) have no spatial
correspondence, so the generators are fully connected and share everything but
their output layer, and the convolutional discriminators share only their last
layer. The paper's table did not survive in our copy of the text; the generator
follows the CoGAN reference code for this task (four hidden layers of 1024 units
with BatchNorm and PReLU), the discriminator is the digit discriminator.

Generator blocks: 4 x [Dense 1024, BatchNorm, PReLU], then Dense H*W*C, tanh, reshape.
"""

from __future__ import annotations

import math

import keras

from scogan.nets.coupled import Architecture
from scogan.nets.digit import digit_discriminator
from scogan.nets.layers import NetOptions, dense, prelu


def rotate_generator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    c = options.channels

    def hidden(name: str):
        return [
            dense(options, c(1024), f"{name}_dense"),
            keras.layers.BatchNormalization(name=f"{name}_bn"),
            prelu(options, f"{name}_prelu", conv=False),
        ]

    def to_image(name: str):
        return [
            keras.layers.Dense(
                math.prod(image_shape), activation="tanh",
                kernel_initializer=options.initializer(), name=f"{name}_dense",
            ),
            keras.layers.Reshape(image_shape, name=f"{name}_reshape"),
        ]

    return Architecture(blocks=(hidden, hidden, hidden, hidden, to_image), default_shared=4)


def rotate_discriminator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    digit = digit_discriminator(image_shape, options)
    return Architecture(blocks=digit.blocks, default_shared=1)
