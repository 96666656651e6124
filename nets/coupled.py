"""Coupled networks for k >= 1 domains, with weight sharing by reusing layer objects.

A generator architecture is a sequence of blocks applied to z; the first
``shared_layers`` blocks are created once and applied once to z, and their output
feeds k domain-specific branches (CoGAN: "the first layers decode high-level
semantics"). A discriminator architecture is a sequence of blocks applied to an
image; the *last* ``shared_layers`` blocks are created once and called on each
domain's features (CoGAN: "the last layers extract high-level features").

A shared weight therefore exists exactly once, receives the sum of the gradients of
all domains that use it, and one optimizer update per step.

BatchNorm in shared layers: the generator's shared trunk runs once on the common z
batch, so all domains see the same normalisation. A shared discriminator layer is
called once per domain; the trainers give it that domain's real and generated images
as one batch, so in training each call normalises with the statistics of that joint
batch, and the single set of moving statistics (used only at inference) is updated by
every call, i.e. it averages over the domains.

Precision: every block is created under the dtype policy in force (``utils.precision``)
except each network's output block (the generator's image layer, the discriminator's
logit layer), created in float32, so images and logits are float32 under a mixed policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import tensorflow as tf

from scogan.nets.layers import Block
from scogan.utils.config import ConfigurationError
from scogan.utils.precision import float32_layers


@dataclass(frozen=True)
class Architecture:
    """Blocks of one network, input to output, and its default number of shared blocks."""

    blocks: tuple[Block, ...]
    default_shared: int

    @property
    def max_shared(self) -> int:
        """Sharing may cover every block but the domain-specific end (or start)."""
        return len(self.blocks) - 1


def resolve_shared(architecture: Architecture, shared_layers: int | None, what: str) -> int:
    """``shared_layers`` checked against the allowed range; ``None`` means the architecture's default."""
    if shared_layers is None:
        return architecture.default_shared
    if not 0 <= shared_layers <= architecture.max_shared:
        raise ConfigurationError(
            f"{what}: {shared_layers} shared layers is impossible for this architecture; "
            f"allowed range is 0..{architecture.max_shared} (it has {len(architecture.blocks)} "
            "blocks and the domain-specific one cannot be shared)"
        )
    return shared_layers


def _make(make: Block, name: str, output: bool) -> list[keras.layers.Layer]:
    """The layers of one block; an ``output`` block computes in float32 whatever the policy."""
    if not output:
        return list(make(name))
    with float32_layers():
        return list(make(name))


def _apply(layers: Sequence[keras.layers.Layer], x):
    for layer in layers:
        x = layer(x)
    return x


def _variables_of(layer_groups: Sequence[Sequence[keras.layers.Layer]]) -> list[tf.Variable]:
    return [v for group in layer_groups for layer in group for v in layer.trainable_variables]


class CoupledGenerator:
    """k generators G_i(z), the first ``shared_layers`` blocks shared.

    ``model`` maps z (N, noise_dim) to a list of k images (N, H, W, C) in [-1, 1];
    ``feature_model`` maps z to, per domain, the output of every block (the last
    being the image), flattened domain-major; ``domain_models[i]`` is G_i alone.
    """

    def __init__(
        self, architecture: Architecture, num_domains: int, shared_layers: int | None,
        noise_dim: int, name: str = "generator", arch: str | None = None,
    ) -> None:
        if num_domains < 1:
            raise ValueError(f"need at least one domain, got {num_domains}")
        self.arch = arch  # the registered architecture name, when built by name
        self.num_domains = num_domains
        self.shared_layers = resolve_shared(architecture, shared_layers, "generator")
        self.num_blocks = len(architecture.blocks)
        z = keras.Input((noise_dim,), name="z")
        self.shared_blocks = [
            list(make(f"shared{j}")) for j, make in enumerate(architecture.blocks[: self.shared_layers])
        ]
        x, trunk = z, []
        for layers in self.shared_blocks:
            x = _apply(layers, x)
            trunk.append(x)
        self.private_blocks: list[list[list[keras.layers.Layer]]] = []
        images, features = [], []
        for d in range(num_domains):
            blocks = [
                _make(make, f"g{d + 1}_{j}", output=j == self.num_blocks - 1)
                for j, make in enumerate(architecture.blocks[self.shared_layers:], start=self.shared_layers)
            ]
            self.private_blocks.append(blocks)
            h, feats = x, list(trunk)
            for layers in blocks:
                h = _apply(layers, h)
                feats.append(h)
            images.append(h)
            features.extend(feats)
        self.model = keras.Model(z, images, name=name)
        self.feature_model = keras.Model(z, features, name=f"{name}_features")
        self.domain_models = [keras.Model(z, img, name=f"{name}{d + 1}") for d, img in enumerate(images)]
        self.shared_variables = _variables_of(self.shared_blocks)

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        return self.model.trainable_variables

    def __call__(self, z: tf.Tensor, training: bool = False) -> list[tf.Tensor]:
        out = self.model(z, training=training)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def features(self, z: tf.Tensor, training: bool = False) -> list[list[tf.Tensor]]:
        """Per domain, the outputs of blocks 1..n (the last is the image)."""
        flat = self.feature_model(z, training=training)
        flat = list(flat) if isinstance(flat, (list, tuple)) else [flat]
        n = self.num_blocks
        return [flat[d * n:(d + 1) * n] for d in range(self.num_domains)]


class CoupledDiscriminator:
    """k discriminators D_i(x) -> logits, the last ``shared_layers`` blocks shared.

    Calling the object returns logits of shape (N,); ``domain_models[i]`` is D_i
    (output (N, 1)); ``model`` takes the list of k image batches and
    returns the list of k logit vectors (used for saving and counting variables).
    ``feature_models[i]`` returns D_i's input to its final block (its last hidden
    layer), for attaching classifiers.
    """

    def __init__(
        self, architecture: Architecture, num_domains: int, shared_layers: int | None,
        image_shapes: Sequence[tuple[int, int, int]], name: str = "discriminator",
        arch: str | None = None,
    ) -> None:
        if len(image_shapes) != num_domains:
            raise ValueError(f"{num_domains} domains but {len(image_shapes)} image shapes")
        self.arch = arch  # the registered architecture name, when built by name
        self.num_domains = num_domains
        self.shared_layers = resolve_shared(architecture, shared_layers, "discriminator")
        n = len(architecture.blocks)
        first_shared = n - self.shared_layers
        self.shared_blocks = [
            _make(make, f"shared{j}", output=j == n - 1)
            for j, make in enumerate(architecture.blocks[first_shared:], start=first_shared)
        ]
        inputs, logits, hidden = [], [], []
        self.private_blocks: list[list[list[keras.layers.Layer]]] = []
        for d in range(num_domains):
            x_in = keras.Input(image_shapes[d], name=f"x{d + 1}")
            blocks = [_make(make, f"d{d + 1}_{j}", output=j == n - 1)
                      for j, make in enumerate(architecture.blocks[:first_shared])]
            self.private_blocks.append(blocks)
            h = x_in
            all_blocks = blocks + self.shared_blocks
            for layers in all_blocks[:-1]:
                h = _apply(layers, h)
            hidden.append(h)
            out = _apply(all_blocks[-1], h)  # (N, 1)
            inputs.append(x_in)
            logits.append(out)
        self.model = keras.Model(inputs, logits, name=name)
        self.domain_models = [
            keras.Model(i, o, name=f"{name}{d + 1}") for d, (i, o) in enumerate(zip(inputs, logits))
        ]
        self.feature_models = [
            keras.Model(i, h, name=f"{name}{d + 1}_features") for d, (i, h) in enumerate(zip(inputs, hidden))
        ]
        self.shared_variables = _variables_of(self.shared_blocks)

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        return self.model.trainable_variables

    def __call__(self, images: Sequence[tf.Tensor], training: bool = False) -> list[tf.Tensor]:
        return [tf.reshape(m(x, training=training), [-1]) for m, x in zip(self.domain_models, images)]
