"""UDATrainer (``--gan_type uda``): CoGAN for unsupervised domain adaptation (Liu & Tuzel 2016, Sec. 5).

"For classifying digits, we attached a softmax layer to the last hidden layer of the
discriminative models. We trained the CoGAN by jointly solving the digit classification
problem in the MNIST domain [...] and the CoGAN learning problem which used the images in
both [domains]. [...] No label information in [the target domain] was used." Domain 1 is
the labelled source, domain 2 the unlabelled target; the head c is shared
(``nets.uda.ClassifyingDiscriminator``), so the target classifier c(h_2(x)) differs from the
source one c(h_1(x)) only in D_2's private first block, which only the adversarial game trains.

One step (the CoGAN step of ``trainers.gan`` with two terms added to the discriminator
loss, as the official PyTorch code, ``cogan_pytorch/src/trainer_cogan_mnist2usps.py``):
  repeat disc_iters times, with a labelled source batch (x_1, y_1), a target batch x_2, fresh z:
      L_D = sum_i loss_D(D_i(x_i), D_i(G_i(z)))                       the CoGAN terms
            + w_c * CE(y_1, c(h_1(x_1)))                               --uda_class_weight (10)
            + w_f * mean_n ||f_1(G_1(z))_n - f_2(G_2(z))_n||^2         --uda_feature_weight (0.01)
            + c * sum ||w_D||^2
      one optimizer update of the discriminators and the head
  then the CoGAN generator update, unchanged.
h_i is D_i's last hidden layer (after its dropout), f_i the same layer before the dropout.
With ``--uda_source_only`` (the baseline) only w_c * CE and the decay remain, on the
source path's variables (D_1's blocks and the head), and no generator is trained; the target is then classified by the source path c(h_1(x)), since
D_2's private block never learns anything.

The official code averages its adversarial cross-entropy over both domains' images (a
2-way softmax on the concatenated batch), where this framework sums the domain losses
(``trainers.gan``); relative to the CoGAN terms its weights 10 and 0.01 therefore count
twice as much there as here (20 and 0.02 here reproduce its balance).

The target domain's training labels cannot reach a step: ``adaptation_task`` replaces the
task by its training view before the base class stores it or builds anything, with the
target domain rebuilt without labels (``labels=None``, before the paper protocol's sample
is drawn). The step receives ``((source images, source labels), target images)``.
Model selection: none; the final model is the result (the official code reports the best
target test accuracy over its snapshots, which needs target labels).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from scogan.data.pipeline import AUTOTUNE, domain_batches, labelled_batches
from scogan.data.task import Domain, Task
from scogan.data.usps import paper_sample
from scogan.nets.uda import ClassifyingDiscriminator
from scogan.penalties import decayed_variables, l2_weight_decay
from scogan.trainers.cogan import CoGANTrainer
from scogan.trainers.updates import make_optimizer
from scogan.utils.config import Config, ConfigurationError

LABELLED_TASKS = "mnist2usps, usps2mnist, mnist2mnistm, mnist2svhn and the MNIST digit tasks"


def feature_agreement(features_1: tf.Tensor, features_2: tf.Tensor) -> tf.Tensor:
    """mean_n sum_j (f1[n, j] - f2[n, j])^2: the squared Euclidean distance between paired
    feature vectors (N, ...), summed over the feature axes and averaged over the batch.

    The official PyTorch code's ``MSELoss(f_a - f_b, 0) * C * H * W`` on the fake pair's
    500-unit features; its Caffe net's EuclideanLoss is half of it.
    """
    squared = tf.square(tf.cast(features_1, tf.float32) - tf.cast(features_2, tf.float32))
    return tf.reduce_mean(tf.reduce_sum(tf.reshape(squared, [tf.shape(squared)[0], -1]), axis=1))


def class_cross_entropy(class_ids: tf.Tensor, class_logits: tf.Tensor) -> tf.Tensor:
    """Softmax cross-entropy mean_n -log softmax(logits_n)[y_n]; class_ids int (N,), logits (N, K)."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(class_ids, tf.int32), logits=class_logits))


def without_labels(domain: Domain) -> Domain:
    """The same images with no labels at all."""
    return Domain(domain.name, domain.image_shape, images=domain.images, files=domain.files,
                  decode=domain.decode)


def adaptation_task(task: Task, protocol: str, sample_seed: int) -> Task:
    """The training view of a two-domain task: domain 1 the labelled source, domain 2 the target
    with its labels removed, both sampled as the paper protocol says (``protocol`` ``paper``:
    ``data.usps.paper_sample`` with ``sample_seed``; ``full``: every image). The test domains
    are kept whole, labels included (for the evaluation only).

    ConfigurationError unless the task has two domains and class ids on domain 1.
    """
    if task.num_domains != 2:
        raise ConfigurationError(f"--gan_type uda adapts domain 1 (source) to domain 2 (target); task "
                                 f"{task.name!r} has {task.num_domains} domains")
    source, target = task.domains
    if source.labels is None or task.num_classes < 2:
        raise ConfigurationError(f"--gan_type uda needs class labels in domain 1 (the source) of "
                                 f"{task.name!r}, which has none; labelled tasks: {LABELLED_TASKS}")
    if task.multi_label:
        raise ConfigurationError(f"--gan_type uda trains a softmax classifier of class ids; task "
                                 f"{task.name!r} has multi-hot attribute labels")
    target = without_labels(target)  # first: no later step ever holds the target's labels
    if protocol == "paper":
        source, target = paper_sample(source, sample_seed), paper_sample(target, sample_seed)
    elif protocol != "full":
        raise ConfigurationError(f"unknown --uda_protocol {protocol!r}; valid choices: paper, full")
    return Task(task.name, (source, target), transforms=task.transforms, test_domains=task.test_domains,
                num_classes=task.num_classes, label_names=task.label_names, sources=dict(task.sources),
                cache=task.cache, cache_dir=task.cache_dir)


class UDATrainer(CoGANTrainer):
    """CoGAN plus a source-trained classifier on the shared discriminator features."""

    def __init__(self, config: Config, task: Task, run_dir: str | Path) -> None:
        if config.uda_class_weight == 0:
            raise ConfigurationError("--uda_class_weight 0 leaves the classifier untrained; for a CoGAN "
                                     "alone use --gan_type cogan")
        super().__init__(config, adaptation_task(task, config.uda_protocol, config.uda_sample_seed), run_dir)

    def build(self) -> None:
        super().build()
        config = self.config
        self.classifying = ClassifyingDiscriminator(self.discriminator, self.task.num_classes,
                                                    self.discriminator_options())
        # The head trains with the discriminators: one optimizer, one update, as the paper's joint
        # problem. The source-only baseline trains the source path's variables alone.
        self._d_variables = (self.classifying.classifiers[0].trainable_variables if config.uda_source_only
                             else self.classifying.trainable_variables)
        self.d_optimizer = make_optimizer(config.optim_d, config.lr_d, config.b1, config.b2, config.precision)
        self.d_optimizer.build(self._d_variables)
        self._d_decayed = decayed_variables(self._d_variables)

    def trackables(self) -> dict[str, object]:
        return {**super().trackables(), "classifier_head": self.classifying.head}

    def training_data(self, start_step: int) -> tf.data.Dataset:
        """Per step ``((x_1, y_1), x_2)``: ``batches_per_step`` source batches (k, B, H, W, C) with
        their labels (k, B), and as many target batches (k, B, H, W, C), which have no labels."""
        config, (source, target) = self.config, self.task.domains
        k, skip = self.batches_per_step, start_step * self.batches_per_step
        labelled = labelled_batches(source, config.batch_size, config.seed * 1000, skip)
        unlabelled = domain_batches(target, config.batch_size, config.seed * 1000 + 1, skip)
        return tf.data.Dataset.zip((labelled.batch(k, drop_remainder=True),
                                    unlabelled.batch(k, drop_remainder=True))).prefetch(AUTOTUNE)

    def train_step(self, batches) -> dict[str, tf.Tensor]:
        (source, labels), target = batches
        for i in range(self.config.disc_iters):
            metrics = self.discriminator_step([source[i], target[i]], labels[i])
        if not self.config.uda_source_only:
            metrics.update(self.generator_step([source[-1], target[-1]]))
        return metrics

    def discriminator_step(self, real: list[tf.Tensor], source_labels: tf.Tensor) -> dict[str, tf.Tensor]:
        config = self.config
        adapt = not config.uda_source_only
        n = tf.shape(real[0])[0]
        if adapt:  # each D_i sees its real and generated images as one batch (trainers.gan)
            fakes = self.generator(self.noise(config.batch_size), training=True)
            inputs = [tf.concat([r, f], 0) for r, f in zip(real, fakes)]
        else:
            inputs = real[:1]  # the source path alone
        metrics, total = {}, 0.0
        with tf.GradientTape() as tape:
            outputs = self.classifying(inputs, training=True)
            if adapt:
                for d, (logits, _, _) in enumerate(outputs, start=1):
                    loss = self.loss.discriminator(logits[:n], logits[n:])
                    metrics[f"d_loss/{d}"] = loss
                    total += loss
                    if self.penalty.loss is not None:
                        critic = self.discriminator.domain_models[d - 1]
                        gp = self.penalty.loss(lambda x, c=critic: c(x, training=True), real[d - 1], fakes[d - 1],
                                               self.interpolation_weights())
                        metrics[f"gp/{d}"] = gp
                        total += config.penalty_weight_d * gp
                metrics["feature_loss"] = feature_agreement(outputs[0][1][n:], outputs[1][1][n:])
                total += config.uda_feature_weight * metrics["feature_loss"]
            class_logits = outputs[0][2][:n]
            metrics["class_loss"] = class_cross_entropy(source_labels, class_logits)
            total += config.uda_class_weight * metrics["class_loss"]
            decay = l2_weight_decay(self._d_decayed, config.weight_decay)
            total += decay
        metrics["finite/discriminator gradients"] = self._apply(
            self.d_optimizer, total, tape, self._d_variables, self.discriminator.shared_variables)
        if adapt and self.penalty.constraint is not None:
            self.penalty.constraint(self.discriminator.trainable_variables, config.clip)
        hits = tf.equal(tf.argmax(class_logits, axis=1), tf.cast(source_labels, tf.int64))
        metrics["class_accuracy"] = tf.reduce_mean(tf.cast(hits, tf.float32))
        metrics["d_total"] = total
        metrics["d_weight_decay"] = decay
        return metrics

    # -- classifiers, evaluation, outputs ----------------------------------------------------
    def domain_classifiers(self) -> tuple[keras.Model, keras.Model]:
        """(source classifier, target classifier), images in [-1, 1] -> probabilities (N, K):
        c(h_1(x)) and c(h_2(x)); for the source-only baseline c(h_1(x)) twice."""
        source, target = self.classifying.classifiers
        return (source, source) if self.config.uda_source_only else (source, target)

    def evaluate(self, metric_names: list[str], num_pairs: int, classifier_path: str | None = None) -> dict[str, float]:
        """The domain adaptation metrics (``metrics.domain_adaptation``) with this run's own
        classifiers; any other metric as for a CoGAN run."""
        from scogan.metrics import EvaluationContext, evaluate
        from scogan.metrics.domain_adaptation import DOMAIN_ADAPTATION_METRICS

        others = [name for name in metric_names if name not in DOMAIN_ADAPTATION_METRICS]
        if others and self.config.uda_source_only:
            raise ConfigurationError(f"{self.run_dir} is a source-only run, its generators are untrained: "
                                     f"--metrics {','.join(others)} does not apply (valid here: "
                                     f"{', '.join(DOMAIN_ADAPTATION_METRICS)})")
        results = super().evaluate(others, num_pairs, classifier_path) if others else {}
        context = EvaluationContext(self.generate, self.noise, self.task, str(self.run_dir), self.config,
                                    classifier=self.domain_classifiers())
        results.update(evaluate(context, [n for n in metric_names if n in DOMAIN_ADAPTATION_METRICS], num_pairs))
        return results

    def save_samples(self, name: str, writer: tf.summary.SummaryWriter) -> None:
        if not self.config.uda_source_only:  # the baseline trains no generator
            super().save_samples(name, writer)

    def export(self) -> None:
        if not self.config.uda_source_only:
            super().export()
        source, target = self.domain_classifiers()
        source.save(self.run_dir / "classifier_source.keras")
        target.save(self.run_dir / "classifier_target.keras")
