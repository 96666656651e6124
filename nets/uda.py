"""A softmax classifier on the coupled discriminators' shared last hidden layer (CoGAN Sec. 5).

For unsupervised domain adaptation the CoGAN paper "attached a softmax layer to the last
hidden layer of the discriminative models": one classifier head c, shared by the domains,
reads the output h_i(x) of D_i's last hidden block. With that block shared (the digit
discriminator shares blocks 2-4 by default), c(h_1(x)) and c(h_2(x)) differ only in D_i's
private first block, and the domain-2 classifier is trained by the domain-1 labels alone.

Nothing about the discriminators changes: the models built here call the *same* layer
objects as ``CoupledDiscriminator`` (no new weight but the head's), in the same order.
Per domain i, ``joint_models[i]`` maps images (N, H, W, C) in [-1, 1] to

    logits   (N, 1)  D_i's adversarial logit, as ``CoupledDiscriminator.domain_models[i]``
    features (N, F)  the last hidden layer before its trailing Dropout (what the feature
                     agreement loss of the official code compares: a dropout mask drawn
                     per domain would make two equal features differ)
    classes  (N, K)  the head's class logits, read from the hidden layer after its Dropout
                     (active only with ``training=True``)

and ``classifiers[i]`` maps images to class probabilities (N, K), softmax, in inference.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from scogan.nets.coupled import CoupledDiscriminator
from scogan.nets.layers import NetOptions, dense
from scogan.utils.config import ConfigurationError
from scogan.utils.precision import float32_layers


def _split_trailing_dropout(layers: list[keras.layers.Layer]) -> tuple[list, list]:
    """(layers up to the last non-Dropout layer, the trailing Dropout layers)."""
    cut = len(layers)
    while cut > 0 and isinstance(layers[cut - 1], keras.layers.Dropout):
        cut -= 1
    return layers[:cut], layers[cut:]


class ClassifyingDiscriminator:
    """``discriminator`` plus one ``num_classes``-way softmax head on its last hidden layer.

    The last hidden layer (the input of the logit block) must be shared, i.e.
    ``discriminator.shared_layers >= 2``: otherwise the domains' classifiers would share
    nothing below the head. ``trainable_variables`` are the discriminators' and the head's.
    """

    def __init__(self, discriminator: CoupledDiscriminator, num_classes: int, options: NetOptions,
                 name: str = "classifier") -> None:
        if discriminator.shared_layers < 2:
            raise ConfigurationError(
                f"--gan_type uda attaches its classifier to the discriminators' last hidden layer, "
                f"which must be shared: --d_shared_layers is {discriminator.shared_layers}, it needs "
                "at least 2 (the logit block and the hidden block before it)")
        if num_classes < 2:
            raise ConfigurationError(f"a classifier head needs at least 2 classes, got {num_classes}")
        self.discriminator = discriminator
        self.num_classes = num_classes
        with float32_layers():  # class logits and probabilities in float32 under a mixed policy
            self.head = dense(options, num_classes, f"{name}_head")
            self.softmax = keras.layers.Softmax(name=f"{name}_softmax")
        self.joint_models: list[keras.Model] = []
        self.classifiers: list[keras.Model] = []
        for d, domain_model in enumerate(discriminator.domain_models):
            x_in = keras.Input(domain_model.input_shape[1:], name=f"x{d + 1}")
            blocks = discriminator.private_blocks[d] + discriminator.shared_blocks
            h = x_in
            for layers in blocks[:-2]:
                h = _apply(layers, h)
            before, dropout = _split_trailing_dropout(list(blocks[-2]))
            features = _apply(before, h)
            hidden = _apply(dropout, features)
            logits = _apply(blocks[-1], hidden)
            classes = self.head(keras.layers.Flatten(name=f"{name}{d + 1}_flatten")(hidden)
                                if len(hidden.shape) > 2 else hidden)
            self.joint_models.append(keras.Model(x_in, [logits, features, classes], name=f"{name}{d + 1}_joint"))
            self.classifiers.append(keras.Model(x_in, self.softmax(classes), name=f"{name}{d + 1}"))

    @property
    def head_variables(self) -> list[tf.Variable]:
        return list(self.head.trainable_variables)

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        return self.discriminator.trainable_variables + self.head_variables

    def __call__(self, images: list[tf.Tensor], training: bool = False):
        """Per domain: (logits (N,), features (N, F), class logits (N, K))."""
        out = []
        for model, x in zip(self.joint_models, images):
            logits, features, classes = model(x, training=training)
            out.append((tf.reshape(logits, [-1]), features, classes))
        return out


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x
