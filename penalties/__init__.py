"""Discriminator penalties by name (``--penalty`` / ``--disc_penalty``) and L2 weight decay.

Generator penalties (``--gen_penalty``) are the SCoGAN regularisers and live in
``penalties.generator``.
"""

from __future__ import annotations

from scogan.penalties.discriminator import (
    DISCRIMINATOR_PENALTIES,
    DiscriminatorPenalty,
    clip_weights,
    wasserstein_gradient_penalty,
)
from scogan.penalties.generator import GENERATOR_PENALTIES
from scogan.penalties.weight_decay import decayed_variables, l2_weight_decay

__all__ = [
    "DISCRIMINATOR_PENALTIES",
    "DiscriminatorPenalty",
    "GENERATOR_PENALTIES",
    "clip_weights",
    "decayed_variables",
    "get_discriminator_penalty",
    "l2_weight_decay",
    "wasserstein_gradient_penalty",
]


def get_discriminator_penalty(name: str) -> DiscriminatorPenalty:
    """The penalty registered as ``name`` (``none``, ``wgan-gp``, ``clip``)."""
    return DISCRIMINATOR_PENALTIES.get(name)
