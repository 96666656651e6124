"""Generator penalties by name (``--gen_penalty``): the SCoGAN couplings between generators.

``none`` adds nothing (plain GAN / CoGAN). SCoGAN's terms register themselves here.
"""

from __future__ import annotations

from utils.registry import Registry

GENERATOR_PENALTIES: Registry[object] = Registry("generator penalty")
GENERATOR_PENALTIES.register("none")(None)
