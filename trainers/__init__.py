"""Trainers by ``--gan_type``: GAN (one domain), CoGAN (weight sharing), SCoGAN (regularisers),
the Appendix B classifier, and CoGAN unsupervised domain adaptation (uda)."""

from __future__ import annotations

from trainers.base import Trainer
from trainers.classifier import ClassifierTrainer
from trainers.cogan import CoGANTrainer
from trainers.gan import GANTrainer
from trainers.scogan import SCoGANTrainer
from trainers.uda import UDATrainer
from utils.registry import Registry

TRAINERS: Registry[type[Trainer]] = Registry("gan type")
TRAINERS.register("gan")(GANTrainer)
TRAINERS.register("cogan")(CoGANTrainer)
TRAINERS.register("classifier")(ClassifierTrainer)
TRAINERS.register("scogan")(SCoGANTrainer)
TRAINERS.register("uda")(UDATrainer)

__all__ = ["TRAINERS", "CoGANTrainer", "GANTrainer", "SCoGANTrainer", "Trainer", "UDATrainer"]
