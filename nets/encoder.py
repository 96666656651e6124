"""The latent encoder F of SCoGAN's cycle consistency (thesis Sec. 4.2.2): image -> z.

The thesis does not tabulate F; we build it from the discriminator architecture of
the run (every block but the final logit), followed by a linear Dense(noise_dim), so
it reads images as well as the critics do and scales with ``--width`` like them. The
output is linear (z may be uniform or normal). It has its own weights: nothing is
shared with the discriminators or across domains (one F encodes every domain). Its z
layer computes in float32 under a mixed precision policy, as every output layer.
"""

from __future__ import annotations

import keras

from scogan.nets.coupled import Architecture
from scogan.nets.layers import NetOptions, dense
from scogan.utils.precision import float32_layers


def build_encoder(architecture: Architecture, image_shape: tuple[int, int, int], noise_dim: int,
                  options: NetOptions, name: str = "encoder") -> keras.Model:
    """A model (N, H, W, C) in [-1, 1] -> (N, noise_dim) from the discriminator ``architecture``."""
    images = keras.Input(image_shape, name="images")
    x = images
    for j, make in enumerate(architecture.blocks[:-1]):
        for layer in make(f"{name}{j}"):
            x = layer(x)
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    with float32_layers():
        z = dense(options, noise_dim, f"{name}_z")(x)
    return keras.Model(images, z, name=name)
