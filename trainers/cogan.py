"""CoGANTrainer: k GANs coupled by sharing the first generator and last discriminator blocks.

Liu & Tuzel 2016. The step is GANTrainer's; what differs is that shared layers are
one set of weights, so their gradient is the gradient of the summed domain losses
(``--shared_gradient sum``, as the CoGAN Caffe/PyTorch code computes it) or that
sum divided by the number of domains (``mean``, the gradient of the averaged loss,
which keeps the step size of a shared weight equal to that of a private one).
"""

from __future__ import annotations

import tensorflow as tf

from scogan.trainers.gan import GANTrainer


class CoGANTrainer(GANTrainer):
    """Coupled GANs with weight sharing (``--gan_type cogan``)."""

    def build(self) -> None:
        if self.task.num_domains < 2:
            raise ValueError(f"a CoGAN needs at least two domains; task {self.task.name!r} has one")
        super().build()

    def generator_shared_layers(self) -> int | None:
        return self.config.shared_layers

    def discriminator_shared_layers(self) -> int | None:
        return self.config.d_shared_layers

    def gradient_scales(self, variables: list[tf.Variable], shared: list[tf.Variable]) -> list[float]:
        if self.config.shared_gradient == "sum":
            return [1.0] * len(variables)
        shared_ids = {id(v) for v in shared}
        k = self.task.num_domains
        return [1.0 / k if id(v) in shared_ids else 1.0 for v in variables]

    def export(self) -> None:
        super().export()
        self.generator.model.save(self.run_dir / "generators.keras")
