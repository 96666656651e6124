"""Lipschitz constraints for (Wasserstein) critics.

``wgan-gp``: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", eq. 3.
``clip``: Arjovsky et al. 2017, "Wasserstein GAN", Algorithm 1 line 7.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import tensorflow as tf

from scogan.utils.registry import Registry

Critic = Callable[[tf.Tensor], tf.Tensor]


@dataclass(frozen=True)
class DiscriminatorPenalty:
    """A loss term added to the discriminator loss and/or a constraint applied after its update.

    ``loss(critic, real, fake, alpha)`` returns an unweighted scalar (the trainer
    multiplies by ``--penalty_weight_d``); ``constraint(variables, clip)`` is run
    after every discriminator update. ``layer_norm`` says the penalty is defined per
    sample, so batch-coupling normalisation in the critic should be replaced by
    layer normalisation (as WGAN-GP prescribes).
    """

    name: str
    loss: Callable[[Critic, tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor] | None = None
    constraint: Callable[[Iterable[tf.Variable], float], None] | None = None
    layer_norm: bool = False


DISCRIMINATOR_PENALTIES: Registry[DiscriminatorPenalty] = Registry("discriminator penalty")


def wasserstein_gradient_penalty(
    critic: Critic, real: tf.Tensor, fake: tf.Tensor, alpha: tf.Tensor
) -> tf.Tensor:
    """Two-sided gradient penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]``.

    Args:
        critic: maps images (N, H, W, C) to logits (N,) or (N, 1).
        real, fake: image batches of the same shape (N, H, W, C), values in [-1, 1].
        alpha: interpolation weights broadcastable to the images, e.g. (N, 1, 1, 1)
            drawn from U[0, 1]; ``x_hat = real + alpha * (fake - real)``.

    Returns:
        Scalar mean over the batch, unweighted (WGAN-GP uses lambda = 10).
    """
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        logits = critic(interpolated)
    gradients = tape.gradient(logits, interpolated)
    # The small constant keeps the sqrt differentiable at a zero gradient.
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=list(range(1, gradients.shape.rank))) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def clip_weights(variables: Iterable[tf.Variable], clip: float) -> None:
    """Clip every variable into ``[-clip, clip]`` in place (WGAN weight clipping)."""
    for variable in variables:
        variable.assign(tf.clip_by_value(variable, -clip, clip))


for _penalty in (
    DiscriminatorPenalty("none"),
    DiscriminatorPenalty("wgan-gp", loss=wasserstein_gradient_penalty, layer_norm=True),
    DiscriminatorPenalty("clip", constraint=clip_weights),
):
    DISCRIMINATOR_PENALTIES.register(_penalty.name)(_penalty)
