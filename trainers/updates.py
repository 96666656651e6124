"""Optimizer updates shared by the trainers: the optimizers by name, one checked update.

Keras 3 optimizers each take one variable set, so every trainer builds one per network
(``make_optimizer``, then ``optimizer.build(variables)``). ``apply_update`` is the one way a
trainer applies a gradient: it takes the gradient from the tape (loss-scaled for
``--precision mixed_float16``, ``trainers.loss_scaling``), applies per-variable factors
(CoGAN's ``--shared_gradient mean``), updates, and returns the flag the divergence guard of
``trainers.base`` reads.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from scogan.trainers import loss_scaling


def make_optimizer(name: str, learning_rate: float, b1: float, b2: float,
                   precision: str = "float32") -> keras.optimizers.Optimizer:
    """The named optimizer; under ``mixed_float16`` wrapped for loss scaling (``trainers.loss_scaling``)."""
    if name == "adam":
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=b1, beta_2=b2)
    elif name == "rmsprop":
        optimizer = keras.optimizers.RMSprop(learning_rate)
    elif name == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate, momentum=b1)
    else:
        raise ValueError(f"unknown optimizer {name!r}; valid choices: adam, rmsprop, sgd")
    return loss_scaling.wrap(optimizer, precision)


def learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The optimizer's current learning rate (``float()`` of a mirrored variable fails)."""
    return float(np.asarray(optimizer.learning_rate))


def all_finite(tensors: list[tf.Tensor | None]) -> tf.Tensor:
    """True when every element of every (non-None) tensor is finite: a scalar bool tensor."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(t)) for t in tensors if t is not None]
                                  or [tf.constant(True)]))


def apply_update(optimizer: keras.optimizers.Optimizer, tape: tf.GradientTape, loss: tf.Tensor, variables,
                 scales: list[float] | None = None) -> tf.Tensor:
    """One optimizer update of ``variables`` on the gradient of ``loss`` (each multiplied by its
    entry of ``scales``, if given; loss-scaled under ``mixed_float16``). Returns whether the
    update is healthy: every gradient finite, or a loss-scale overflow the optimizer skipped."""
    gradients = loss_scaling.gradients(tape, loss, variables, optimizer)
    if scales is not None:
        gradients = [g if s == 1.0 else g * s for g, s in zip(gradients, scales)]
    optimizer.apply_gradients(zip(gradients, variables))
    return loss_scaling.update_is_healthy(optimizer, all_finite(gradients))

