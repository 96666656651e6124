"""SCoGANTrainer: k GANs whose generators share no weights, coupled by regularisers.

The thesis' soft coupling (chapter 4), any combination of:
  FR  ``--gen_penalty feature``   alpha_FR * sum_k mean (G_1^k(z) - G_2^k(z))^2 over the K =
                                  ``--shared_layers`` (default 3) blocks after the projection
                                  of z (``penalties.generator.feature_difference``)
  SL  ``--semantic_loss``         alpha_SL * mean (delta(G_1(z)) - delta(G_2(z)))^2, delta a frozen
                                  pretrained classifier (``--classifier_path``)
  CC  ``--use_cycle``             alpha_CC * sum_d err(F(G_d(z)), z), F an encoder trained jointly
                                  on the same reconstruction error (its own optimizer)
  PL  ``--perceptual_loss``       content_weight * content + style_weight * sum_d style_d with a
                                  frozen VGG16 (``nets.vgg``): content compares the pair at
                                  ``--content_layers``, style compares Gram matrices of each
                                  generated image with a real image of its domain at
                                  ``--style_layers``
Each term is added once to the summed generator loss (see ``penalties.generator``) and
logged as ``reg/<term>`` (weighted) and ``raw/<term>`` (unweighted). A term whose weight
is 0 is not built and costs nothing. With no term at all this is the uncoupled
baseline of thesis Fig. 4.2a.

The discriminators share nothing either, unless ``--d_shared_layers N`` is given (then
their last N blocks, with CoGAN's shared-gradient rule): the thesis' SCoGAN experiments
use "the architectures shown in Table 3.1 and 3.2 without any shared layers" (Sec. 4.1,
5.1; Sec. 5.3 "with no shared layers"), and its prototype builds separate
discriminators for SCoGAN (mushkanT/P10Project, ``Code/Nets.py``,
``cogan_discriminators_digit_noshare`` / ``cogan_discriminators_faces_noshare``, its
default ``--d_arch``). Defaults for ``--gan_type scogan`` follow the thesis: WGAN loss,
gradient penalty, 5 critic updates per generator update, no shared discriminator
block (``utils.config.GAN_TYPE_DEFAULTS``).
"""

from __future__ import annotations

import warnings

import tensorflow as tf

from scogan.nets import DISCRIMINATORS, resolve_architecture
from scogan.nets.classifier import load_classifier
from scogan.nets.encoder import build_encoder
from scogan.nets.vgg import check_layers, gram_matrix, vgg16_features
from scogan.penalties.generator import (
    content_difference,
    feature_difference,
    latent_reconstruction,
    semantic_difference,
    style_difference,
)
from scogan.trainers.base import make_optimizer
from scogan.trainers.cogan import CoGANTrainer
from scogan.utils.config import ConfigurationError

FEATURE_LAYERS_DEFAULT = 3  # thesis Sec. 4.1: K = 3
# FR compares the K blocks after the first FEATURE_FIRST_BLOCK (blocks 2..K+1, 1-based):
# not block 1, the projection of z (Dense and reshape), which the prototype shares
# between its SCoGAN generators and so never compares.
FEATURE_FIRST_BLOCK = 1


def _layer_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class SCoGANTrainer(CoGANTrainer):
    """Soft-coupled GANs (``--gan_type scogan``): unshared generators plus regularisers."""

    def generator_shared_layers(self) -> int | None:
        return 0

    def discriminator_shared_layers(self) -> int | None:
        # Unset means none (not the architecture's CoGAN default), also for a Config
        # built without parse_config's --gan_type defaults.
        shared = self.config.d_shared_layers
        return 0 if shared is None else shared

    def build(self) -> None:
        super().build()
        config, task = self.config, self.task
        self.feature_layers = self._feature_layers() if config.gen_penalty == "feature" else 0
        self.classifier = self.encoder = self.vgg = None
        skipped = []
        if self.feature_layers and config.penalty_weight_g == 0:
            self.feature_layers, skipped = 0, [*skipped, "--gen_penalty feature (--penalty_weight_g 0)"]
        if config.semantic_loss:
            if config.semantic_weight > 0:
                self.classifier = load_classifier(config.classifier_path, task.image_shapes[0],
                                                  task.num_classes or None, "--semantic_loss")
            else:
                skipped.append("--semantic_loss (--semantic_weight 0)")
        if config.use_cycle:
            if config.cycle_weight > 0:
                options = self.discriminator_options()  # the encoder is D's net with a z head
                d_arch = resolve_architecture(config.d_arch, task.image_shapes[0])
                self.encoder = build_encoder(DISCRIMINATORS.get(d_arch)(task.image_shapes[0], options),
                                             task.image_shapes[0], config.noise_dim, options)
                self.e_optimizer = make_optimizer(config.optim_g, config.lr_g, config.b1, config.b2)
                self.e_optimizer.build(self.encoder.trainable_variables)
            else:
                skipped.append("--use_cycle (--cycle_weight 0)")
        if config.perceptual_loss:
            self.content_layers = _layer_list(config.content_layers) if config.content_weight > 0 else []
            self.style_layers = _layer_list(config.style_layers) if config.style_weight > 0 else []
            if self.content_layers:
                check_layers(self.content_layers, "--content_layers")
            if self.style_layers:
                check_layers(self.style_layers, "--style_layers")
            if self.content_layers or self.style_layers:
                self.vgg = vgg16_features(self.content_layers + self.style_layers, task.image_shapes[0][2])
            else:
                skipped.append("--perceptual_loss (--content_weight 0 and --style_weight 0)")
        if skipped:
            warnings.warn(f"weight 0, term not computed: {'; '.join(skipped)}", stacklevel=2)
        if not self.active_terms:
            warnings.warn("SCoGAN with no coupling term: the generators are independent (the uncoupled "
                          "baseline); add --gen_penalty feature, --semantic_loss, --use_cycle or "
                          "--perceptual_loss to couple them", stacklevel=2)

    def _feature_layers(self) -> int:
        k = self.config.shared_layers
        k = FEATURE_LAYERS_DEFAULT if k is None else k
        limit = self.generator.num_blocks - 1 - FEATURE_FIRST_BLOCK  # never the output block
        if not 1 <= k <= limit:
            raise ConfigurationError(f"the feature regulariser compares the K blocks after the projection "
                                     f"of z; --shared_layers {k} is impossible, allowed range is 1..{limit}")
        return k

    @property
    def active_terms(self) -> list[str]:
        """The coupling terms this run computes, in the order they are added."""
        terms = [("feature", bool(self.feature_layers)), ("semantic", self.classifier is not None),
                 ("cycle", self.encoder is not None), ("perceptual", self.vgg is not None)]
        return [name for name, on in terms if on]

    def trackables(self) -> dict[str, object]:
        objects = super().trackables()
        if self.encoder is not None:
            objects.update(encoder=self.encoder, e_optimizer=self.e_optimizer)
            objects["dropout_seeds"] = [*objects["dropout_seeds"], *self._encoder_seeds()]
        return objects

    def _encoder_seeds(self) -> list[tf.Variable]:
        from scogan.trainers.base import seed_states

        return seed_states(self.encoder)

    @property
    def has_auxiliary(self) -> bool:
        return self.encoder is not None

    # -- the regularisers -------------------------------------------------------------------
    def generator_outputs(self, z: tf.Tensor):
        if not self.feature_layers:
            return super().generator_outputs(z)
        features = self.generator.features(z, training=True)
        return [f[-1] for f in features], features

    def generator_regularisers(self, z, fakes, features, real):
        config = self.config
        raw: dict[str, tf.Tensor] = {}
        weights: dict[str, float] = {}
        if self.feature_layers:
            compared = [f[FEATURE_FIRST_BLOCK:] for f in features]
            raw["feature"], weights["feature"] = feature_difference(compared, self.feature_layers), config.penalty_weight_g
        if self.classifier is not None:
            predictions = [self.classifier(x, training=False) for x in fakes]
            raw["semantic"], weights["semantic"] = semantic_difference(predictions), config.semantic_weight
        if self.encoder is not None:
            reconstructions = [self.encoder(x, training=True) for x in fakes]
            raw["cycle"] = latent_reconstruction(z, reconstructions, config.cycle_distance)
            weights["cycle"] = config.cycle_weight
        if self.vgg is not None:
            raw.update(self._perceptual(fakes, real))
            weights.update(content=config.content_weight, style=config.style_weight)
        terms = {f"reg/{name}": weights[name] * value for name, value in raw.items()}
        logs = {f"raw/{name}": value for name, value in raw.items()}
        return terms, logs

    def _perceptual(self, fakes: list[tf.Tensor], real: list[tf.Tensor]) -> dict[str, tf.Tensor]:
        k, n = len(fakes), tf.shape(fakes[0])[0]
        outputs = self.vgg(tf.concat([*fakes, *real], axis=0), training=False)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        split = [[o[i * n:(i + 1) * n] for i in range(2 * k)] for o in outputs]  # [layer][fakes..., reals...]
        terms = {}
        c = len(self.content_layers)
        if self.content_layers:
            terms["content"] = content_difference([[split[j][d] for j in range(c)] for d in range(k)])
        if self.style_layers:
            grams = [[gram_matrix(split[j][i]) for j in range(c, len(split))] for i in range(2 * k)]
            terms["style"] = tf.add_n([style_difference(grams[d], grams[k + d]) for d in range(k)])
        return terms

    def auxiliary_update(self, tape: tf.GradientTape, logs: dict[str, tf.Tensor]) -> None:
        if self.encoder is None:
            return
        variables = self.encoder.trainable_variables
        gradients = self.gradients(tape, logs["raw/cycle"], variables)
        self.e_optimizer.apply_gradients(zip(gradients, variables))

    def export(self) -> None:
        super().export()
        if self.encoder is not None:
            self.encoder.save(self.run_dir / "encoder.keras")
