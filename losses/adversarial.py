"""GAN losses on logits (Goodfellow et al. 2014; Arjovsky et al. 2017).

Logits ``l = D(x)`` are unbounded reals; ``sigmoid(l)`` is the probability the
discriminator assigns to "real". Logs of sigmoids are written with softplus for
numerical stability: ``-log(sigmoid(l)) = softplus(-l)`` and
``-log(1 - sigmoid(l)) = softplus(l)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

from scogan.utils.registry import Registry

LossFn = Callable[..., tf.Tensor]


@dataclass(frozen=True)
class AdversarialLoss:
    """The two halves of one GAN objective.

    ``discriminator(real_logits, fake_logits)`` and ``generator(fake_logits)``
    each return a scalar to minimise.
    """

    name: str
    discriminator: LossFn
    generator: LossFn


LOSSES: Registry[AdversarialLoss] = Registry("loss")


def cross_entropy_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Binary cross-entropy of the discriminator (Goodfellow et al. 2014, eq. 1).

    ``L_D = E_x[-log D(x)] + E_z[-log(1 - D(G(z)))]``
          ``= mean(softplus(-real_logits)) + mean(softplus(fake_logits))``.
    """
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(
        tf.nn.softplus(fake_logits)
    )


def non_saturating_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Non-saturating generator loss: ``L_G = E_z[-log D(G(z))] = mean(softplus(-fake_logits))``."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


def minimax_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Original minimax generator loss: ``L_G = E_z[log(1 - D(G(z)))] = -mean(softplus(fake_logits))``.

    Saturates (vanishing gradient) when the discriminator rejects the fakes
    confidently; kept for completeness and comparison.
    """
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def wasserstein_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Critic loss of WGAN (Arjovsky et al. 2017): ``L_D = E_z[D(G(z))] - E_x[D(x)]``.

    Needs a Lipschitz constraint on the critic (``--penalty wgan-gp`` or ``clip``).
    """
    return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


def wasserstein_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Generator loss of WGAN: ``L_G = -E_z[D(G(z))]``."""
    return -tf.reduce_mean(fake_logits)


for _loss in (
    AdversarialLoss("ce", cross_entropy_discriminator_loss, non_saturating_generator_loss),
    AdversarialLoss("minimax", cross_entropy_discriminator_loss, minimax_generator_loss),
    AdversarialLoss("wgan", wasserstein_discriminator_loss, wasserstein_generator_loss),
):
    LOSSES.register(_loss.name)(_loss)
