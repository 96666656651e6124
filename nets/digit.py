"""The CoGAN digit nets for 32x32 images: thesis Tables 3.1 (generator) and 3.2 (discriminator).

Generator blocks (width 1):
  1. Dense 4*4*1024, reshape to 4x4x1024
  2. ConvTranspose 1024, k4, s1, BatchNorm, PReLU(0.25)     -> 4x4
  3. ConvTranspose 512,  k3, s2, BatchNorm, PReLU(0.25)     -> 8x8
  4. ConvTranspose 256,  k3, s2, BatchNorm, PReLU(0.25)     -> 16x16
  5. ConvTranspose 128,  k3, s2, BatchNorm, PReLU(0.25)     -> 32x32
  6. ConvTranspose C,    k6, s1, tanh                       -> 32x32xC (domain-specific)
CoGAN shares blocks 1-5 (default ``--shared_layers 5``).

Discriminator blocks:
  1. Conv 20, k5, MaxPool 2                                  (domain-specific)
  2. Conv 50, k5, MaxPool 2
  3. Dense 500, PReLU(0.25), Dropout 0.5
  4. Dense 1 (logit; the sigmoid lives in the loss)
CoGAN shares blocks 2-4 (default ``--d_shared_layers 3``).
"""

from __future__ import annotations

import keras

from scogan.nets.coupled import Architecture
from scogan.nets.layers import NetOptions, conv, dense, dropout, prelu, upconv


def digit_generator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    if image_shape[:2] != (32, 32):
        raise ValueError(f"the digit generator makes 32x32 images, the data is {image_shape[0]}x{image_shape[1]}")
    channels = image_shape[2]
    c = options.channels

    def project(name: str):
        return [dense(options, 4 * 4 * c(1024), f"{name}_dense"), keras.layers.Reshape((4, 4, c(1024)), name=f"{name}_reshape")]

    def up(filters: int, kernel: int, stride: int):
        def block(name: str):
            return [
                *upconv(options, c(filters), kernel, stride, f"{name}_conv"),
                keras.layers.BatchNormalization(name=f"{name}_bn"),
                prelu(options, f"{name}_prelu"),
            ]
        return block

    def to_image(name: str):
        return [
            keras.layers.Conv2DTranspose(
                channels, 6, strides=1, padding="same", activation="tanh",
                kernel_initializer=options.initializer(), name=f"{name}_conv",
            )
        ]

    blocks = (project, up(1024, 4, 1), up(512, 3, 2), up(256, 3, 2), up(128, 3, 2), to_image)
    return Architecture(blocks=blocks, default_shared=5)


def digit_discriminator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    if image_shape[:2] != (32, 32):
        raise ValueError(f"the digit discriminator reads 32x32 images, the data is {image_shape[0]}x{image_shape[1]}")
    c = options.channels

    def conv_pool(filters: int):
        def block(name: str):
            return [conv(options, c(filters), 5, 1, f"{name}_conv"), keras.layers.MaxPooling2D(2, name=f"{name}_pool")]
        return block

    def hidden(name: str):
        return [
            keras.layers.Flatten(name=f"{name}_flatten"),
            dense(options, c(500), f"{name}_dense"),
            prelu(options, f"{name}_prelu", conv=False),
            dropout(0.5, f"{name}_dropout"),
        ]

    def logit(name: str):
        return [dense(options, 1, f"{name}_dense")]

    return Architecture(blocks=(conv_pool(20), conv_pool(50), hidden, logit), default_shared=3)
