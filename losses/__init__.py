"""Adversarial losses by name (``--loss``): pure functions on discriminator logits.

Each entry is an :class:`AdversarialLoss` pairing the discriminator and generator
losses of one GAN formulation. All functions take raw logits (no sigmoid applied),
shape (N,) or (N, 1), and return a scalar float32 tensor to be minimised.
"""

from __future__ import annotations

from scogan.losses.adversarial import (
    LOSSES,
    AdversarialLoss,
    cross_entropy_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "LOSSES",
    "AdversarialLoss",
    "cross_entropy_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "get_loss",
]


def get_loss(name: str) -> AdversarialLoss:
    """The loss pair registered as ``name`` (``ce``, ``minimax``, ``wgan``)."""
    return LOSSES.get(name)
