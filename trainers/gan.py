"""GANTrainer: the adversarial training step, for one GAN per domain of the task.

With one domain this is a plain GAN. CoGANTrainer and SCoGANTrainer reuse the step
for k coupled GANs; their coupling (shared weights, regularisers) is what differs.

One step (Goodfellow et al. 2014, Algorithm 1; Gulrajani et al. 2017, Algorithm 1):
  repeat disc_iters times, with a fresh real batch x_i per domain and fresh z:
      L_D = sum_i [ loss_D(D_i(x_i), D_i(G_i(z))) + lambda * penalty_i ] + c * sum ||w_D||^2
      one optimizer update of all discriminator weights (then weight clipping, if chosen)
  then with fresh z:
      L_G = sum_i loss_G(D_i(G_i(z))) + regularisers + c * sum ||w_G||^2
      one optimizer update of all generator weights
D_i sees x_i and G_i(z) as one concatenated batch (``real_and_fake_logits``), so its
BatchNorm layers, if any, normalise real and generated images together.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from scogan.losses import get_loss
from scogan.nets import (
    CoupledDiscriminator,
    CoupledGenerator,
    NetOptions,
    build_discriminators,
    build_generators,
    default_discriminator_width,
)
from scogan.penalties import decayed_variables, get_discriminator_penalty, l2_weight_decay
from scogan.trainers.base import Trainer
from scogan.trainers.updates import apply_update, make_optimizer


class GANTrainer(Trainer):
    """Independent GANs, one per domain (normally one): no coupling at all."""

    def generator_shared_layers(self) -> int | None:
        return 0

    def discriminator_shared_layers(self) -> int | None:
        return 0

    def net_options(self) -> NetOptions:
        config = self.config
        disc_norm = config.disc_norm
        if disc_norm == "auto":
            disc_norm = "layer" if get_discriminator_penalty(config.penalty).layer_norm else "batch"
        return NetOptions(
            width=config.width, weight_init=config.weight_init, prelu_init=config.prelu_init,
            disc_norm=disc_norm, upsample=config.upsample,
        )

    def discriminator_options(self) -> NetOptions:
        """``net_options`` at the discriminator width: ``--d_width``, or by default the thesis
        width for the small digit discriminators and ``--width`` for the others."""
        config = self.config
        width = config.d_width or default_discriminator_width(config.d_arch, self.task.image_shapes[0], config.width)
        return self.net_options().replace(width=width)

    def build(self) -> None:
        config, task = self.config, self.task
        self.loss = get_loss(config.loss)
        self.penalty = get_discriminator_penalty(config.penalty)
        # The options the networks were built with (utils.resolved records them).
        self.g_options = options = self.net_options()
        self.d_options = self.discriminator_options()
        self.generator: CoupledGenerator = build_generators(
            config.g_arch, task.image_shapes[0], task.num_domains, self.generator_shared_layers(),
            config.noise_dim, options,
        )
        self.discriminator: CoupledDiscriminator = build_discriminators(
            config.d_arch, task.image_shapes, self.discriminator_shared_layers(), self.d_options,
        )
        if len(set(task.image_shapes)) != 1:
            raise ValueError(f"all domains must have the same image shape, got {task.image_shapes}")
        self.g_optimizer = make_optimizer(config.optim_g, config.lr_g, config.b1, config.b2, config.precision)
        self.d_optimizer = make_optimizer(config.optim_d, config.lr_d, config.b1, config.b2, config.precision)
        # Keras 3: one optimizer per variable set, built before any step or restore.
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self._g_decayed = decayed_variables(self.generator.trainable_variables)
        self._d_decayed = decayed_variables(self.discriminator.trainable_variables)
        # The generator step shows D a joint real+fake batch too when D's statistics depend
        # on the batch; without BatchNorm the fakes alone give the same logits, cheaper.
        self._d_batch_norm = any(
            isinstance(layer, keras.layers.BatchNormalization) for layer in self.discriminator.model.layers
        )

    def trackables(self) -> dict[str, object]:
        return {
            "generator": self.generator.model,
            "discriminator": self.discriminator.model,
            "g_optimizer": self.g_optimizer,
            "d_optimizer": self.d_optimizer,
            "dropout_seeds": self._seed_states(),
        }

    def _seed_states(self) -> list[tf.Variable]:
        from scogan.trainers.base import seed_states

        return seed_states(self.generator.model, self.discriminator.model)

    def generate(self, z: tf.Tensor) -> list[tf.Tensor]:
        return self.generator(z, training=False)

    def export(self) -> None:
        for d, model in enumerate(self.generator.domain_models, start=1):
            model.save(self.run_dir / f"generator{d}.keras")

    # -- gradients --------------------------------------------------------------------------
    def gradient_scales(self, variables: list[tf.Variable], shared: list[tf.Variable]) -> list[float]:
        """Per-variable factor applied to the summed gradient (1 everywhere for uncoupled GANs)."""
        return [1.0] * len(variables)

    def _apply(self, optimizer, loss: tf.Tensor, tape: tf.GradientTape, variables, shared) -> tf.Tensor:
        """One optimizer update (``trainers.updates.apply_update``, loss-scaled under float16);
        returns whether it is healthy (every gradient finite, or a skipped loss-scale overflow)."""
        return apply_update(optimizer, tape, loss, variables, self.gradient_scales(variables, shared))

    # -- the step ---------------------------------------------------------------------------
    def real_and_fake_logits(
        self, real: list[tf.Tensor], fakes: list[tf.Tensor],
    ) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
        """Each D_i in training mode on ONE batch holding domain i's real and generated images.

        As the CoGAN code does (it concatenates them). With BatchNorm in a discriminator,
        separate all-real and all-fake batches would each be normalised to the same
        statistics, so a BatchNorm just before the logit leaves D blind to which batch it
        sees (measured: the face nets' D stayed at chance and G learnt noise).
        """
        n = tf.shape(real[0])[0]
        logits = self.discriminator([tf.concat([r, f], 0) for r, f in zip(real, fakes)], training=True)
        return [x[:n] for x in logits], [x[n:] for x in logits]

    def discriminator_step(self, real: list[tf.Tensor]) -> dict[str, tf.Tensor]:
        config = self.config
        fakes = self.generator(self.noise(config.batch_size), training=True)
        variables = self.discriminator.trainable_variables
        metrics = {}
        with tf.GradientTape() as tape:
            real_logits, fake_logits = self.real_and_fake_logits(real, fakes)
            total = 0.0
            for d, (rl, fl) in enumerate(zip(real_logits, fake_logits), start=1):
                loss = self.loss.discriminator(rl, fl)
                metrics[f"d_loss/{d}"] = loss
                total += loss
                if self.penalty.loss is not None:
                    alpha = self.interpolation_weights()
                    critic = self.discriminator.domain_models[d - 1]
                    gp = self.penalty.loss(lambda x, c=critic: c(x, training=True), real[d - 1], fakes[d - 1], alpha)
                    metrics[f"gp/{d}"] = gp
                    total += config.penalty_weight_d * gp
            decay = l2_weight_decay(self._d_decayed, config.weight_decay)
            total += decay
        metrics["finite/discriminator gradients"] = self._apply(
            self.d_optimizer, total, tape, variables, self.discriminator.shared_variables)
        if self.penalty.constraint is not None:
            self.penalty.constraint(variables, config.clip)
        metrics["d_total"] = total
        metrics["d_weight_decay"] = decay
        return metrics

    def generator_outputs(self, z: tf.Tensor) -> tuple[list[tf.Tensor], list[list[tf.Tensor]] | None]:
        """The generated images (training mode) and, if a regulariser needs them, every block's output."""
        return self.generator(z, training=True), None

    def generator_regularisers(
        self, z: tf.Tensor, fakes: list[tf.Tensor], features: list[list[tf.Tensor]] | None, real: list[tf.Tensor],
    ) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
        """Weighted extra generator loss terms by name, and further values to log (SCoGAN)."""
        return {}, {}

    def auxiliary_update(self, tape: tf.GradientTape, logs: dict[str, tf.Tensor]) -> None:
        """Update networks trained alongside the generators from the same tape (SCoGAN's encoder)."""
        return None  # a body that is only a docstring trips AutoGraph's converter

    @property
    def has_auxiliary(self) -> bool:
        return False

    def generator_step(self, real: list[tf.Tensor]) -> dict[str, tf.Tensor]:
        config = self.config
        z = self.noise(config.batch_size)
        variables = self.generator.trainable_variables
        metrics = {}
        with tf.GradientTape(persistent=self.has_auxiliary) as tape:
            fakes, features = self.generator_outputs(z)
            if self._d_batch_norm:
                _, fake_logits = self.real_and_fake_logits(real, fakes)
            else:
                fake_logits = self.discriminator(fakes, training=True)
            total = 0.0
            for d, fl in enumerate(fake_logits, start=1):
                loss = self.loss.generator(fl)
                metrics[f"g_loss/{d}"] = loss
                total += loss
            terms, logs = self.generator_regularisers(z, fakes, features, real)
            for name, value in terms.items():
                metrics[name] = value
                total += value
            decay = l2_weight_decay(self._g_decayed, config.weight_decay)
            total += decay
        metrics["finite/generator gradients"] = self._apply(
            self.g_optimizer, total, tape, variables, self.generator.shared_variables)
        if self.has_auxiliary:
            self.auxiliary_update(tape, logs)
        del tape
        metrics.update(logs)
        metrics["g_total"] = total
        metrics["g_weight_decay"] = decay
        return metrics

    def train_step(self, batches: tuple[tf.Tensor, ...]) -> dict[str, tf.Tensor]:
        """``batches``: one tensor per domain, (disc_iters, batch, H, W, C) in [-1, 1]."""
        for i in range(self.config.disc_iters):
            metrics = self.discriminator_step([b[i] for b in batches])
        metrics.update(self.generator_step([b[-1] for b in batches]))
        return metrics
