"""Trainers by ``--gan_type``: GAN (one domain), CoGAN (weight sharing), SCoGAN (regularisers)."""

from __future__ import annotations

from trainers.base import Trainer
from trainers.classifier import ClassifierTrainer
from trainers.cogan import CoGANTrainer
from trainers.gan import GANTrainer
from trainers.scogan import SCoGANTrainer
from utils.registry import Registry

TRAINERS: Registry[type[Trainer]] = Registry("gan type")
TRAINERS.register("gan")(GANTrainer)
TRAINERS.register("cogan")(CoGANTrainer)
TRAINERS.register("classifier")(ClassifierTrainer)
TRAINERS.register("scogan")(SCoGANTrainer)

__all__ = ["TRAINERS", "CoGANTrainer", "GANTrainer", "SCoGANTrainer", "Trainer"]
