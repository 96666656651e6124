"""Trainers by ``--gan_type``: GAN (one domain), CoGAN (weight sharing), SCoGAN (regularisers),
the Appendix B classifier, and CoGAN unsupervised domain adaptation (uda)."""

from __future__ import annotations

from scogan.trainers.base import Trainer
from scogan.trainers.classifier import ClassifierTrainer
from scogan.trainers.cogan import CoGANTrainer
from scogan.trainers.gan import GANTrainer
from scogan.trainers.scogan import SCoGANTrainer
from scogan.trainers.uda import UDATrainer
from scogan.utils.registry import Registry

TRAINERS: Registry[type[Trainer]] = Registry("gan type")
TRAINERS.register("gan")(GANTrainer)
TRAINERS.register("cogan")(CoGANTrainer)
TRAINERS.register("classifier")(ClassifierTrainer)
TRAINERS.register("scogan")(SCoGANTrainer)
TRAINERS.register("uda")(UDATrainer)

__all__ = ["TRAINERS", "CoGANTrainer", "GANTrainer", "SCoGANTrainer", "Trainer", "UDATrainer"]
