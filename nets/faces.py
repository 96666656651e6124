"""The CoGAN face nets: thesis Tables A.1/A.2 (128x128) and A.3/A.4 (256x256), size-generic.

Generator for S x S images (S a power of two >= 8), n = log2(S) - 2 upsampling blocks:
  1. Dense 4*4*(32 * 2^n), reshape to 4x4              (no norm, no activation, as the table)
  2..n+1. ConvTranspose 32 * 2^(n-i), k4, s2, BatchNorm, PReLU   4 -> 8 -> ... -> S
  n+2. ConvTranspose C, k3, s1, tanh                    (S x S x C)
S = 128 is Table A.1 (1024 -> 512, 256, 128, 64, 32), S = 256 is Table A.3 (2048 -> 1024
... 32): A.3 is A.1 with one more block at the wide end, so every size keeps the
32-channel block next to the image and doubles towards z; S = 64 is A.1 without its
widest block (512 -> 256, 128, 64, 32). Shared by default: all but the last two blocks
(A.1: through the 64-channel block; A.3: through 64 as well).

Discriminator: the six convolutions of Table A.2 (= A.4; their listed output shapes are
off by one layer, we follow the strides), each Conv, norm (``disc_norm``: BatchNorm as
the table, LayerNorm under WGAN-GP), PReLU, then dropout where the table has it:
  32 k5 | 64 k5 | 128 k5, Dropout 0.1 | 256 k3, Dropout 0.3 | 512 k3, Dropout 0.3 |
  1024 k3, Dropout 0.5   (all stride 2)
then Dense 2048, norm, PReLU, Dropout 0.5; then Dense 1 (a logit: the sigmoid lives in
the loss). Images below 128 use the first log2(S) - 1 convolutions, so the last one
still sees 4x4 (64x64: 32 ... 512). Shared by default: all but the first block.

Table quirks not copied: BatchNorm on the input and on the generator's tanh output
layer (it would fix each colour channel's batch mean and variance); the prototype's
PReLU initialised at 0 (``prelu_init``, 0.25 by default, is used).
"""

from __future__ import annotations

import math

import keras

from scogan.nets.coupled import Architecture
from scogan.nets.layers import NetOptions, conv, dense, dropout, norm, prelu, upconv

# (filters, kernel, dropout rate after the block) of Table A.2's convolutions.
DISCRIMINATOR_CONVS = ((32, 5, 0.0), (64, 5, 0.0), (128, 5, 0.1), (256, 3, 0.3), (512, 3, 0.3), (1024, 3, 0.5))


def _levels(image_shape: tuple[int, int, int], what: str) -> int:
    h, w, _ = image_shape
    if h != w or h < 8 or h & (h - 1):
        raise ValueError(f"the face {what} works on square images whose side is a power of two >= 8, "
                         f"not {h}x{w}")
    return int(math.log2(h))


def faces_generator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    ups = _levels(image_shape, "generator") - 2
    c = options.channels
    widest = c(32 * 2 ** ups)

    def project(name: str):
        return [dense(options, 4 * 4 * widest, f"{name}_dense"), keras.layers.Reshape((4, 4, widest), name=f"{name}_reshape")]

    def up(filters: int):
        def block(name: str):
            return [
                *upconv(options, c(filters), 4, 2, f"{name}_conv"),
                keras.layers.BatchNormalization(name=f"{name}_bn"),
                prelu(options, f"{name}_prelu"),
            ]
        return block

    def to_image(name: str):
        return [*upconv(options, image_shape[2], 3, 1, f"{name}_conv"), keras.layers.Activation("tanh", name=f"{name}_tanh")]

    blocks = (project, *(up(32 * 2 ** (ups - 1 - i)) for i in range(ups)), to_image)
    return Architecture(blocks=blocks, default_shared=len(blocks) - 2)


def faces_discriminator(image_shape: tuple[int, int, int], options: NetOptions) -> Architecture:
    convs = DISCRIMINATOR_CONVS[: min(len(DISCRIMINATOR_CONVS), _levels(image_shape, "discriminator") - 1)]
    c = options.channels

    def conv_block(filters: int, kernel: int, rate: float):
        def block(name: str):
            layers = [conv(options, c(filters), kernel, 2, f"{name}_conv"), *norm(options.disc_norm, f"{name}_norm"),
                      prelu(options, f"{name}_prelu")]
            if rate:
                layers.append(dropout(rate, f"{name}_dropout"))
            return layers
        return block

    def hidden(name: str):
        return [
            keras.layers.Flatten(name=f"{name}_flatten"),
            dense(options, c(2048), f"{name}_dense"),
            *norm(options.disc_norm, f"{name}_norm"),
            prelu(options, f"{name}_prelu", conv=False),
            dropout(0.5, f"{name}_dropout"),
        ]

    def logit(name: str):
        return [dense(options, 1, f"{name}_dense")]

    blocks = (*(conv_block(*spec) for spec in convs), hidden, logit)
    return Architecture(blocks=blocks, default_shared=len(blocks) - 1)
