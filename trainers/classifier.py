"""ClassifierTrainer (``--gan_type classifier``): the pretrained classifier of thesis Appendix B.

The semantic loss, SVHN pruning and pair class agreement need a classifier of the
task's images. This trains Table B.1 (class ids: digits) or Table B.2 (multi-hot: the 13
CelebA attributes) on the task's labelled training images, with the loop every trainer
shares (``trainers.base``: progress bar, TensorBoard scalars, losses.csv, checkpoints,
``--resume``). One step:

    x, y = a batch of --batch_size labelled images from each training domain
    L = cross-entropy(y, classifier(x))   (categorical for classes, binary for multi-hot)
    one optimizer update of the classifier

``--classifier_domains 1`` trains on domain 1, ``all`` on every labelled domain (an equal
share of each in every batch, as ``--batch_size`` is per domain). The optimizer is
``--optim_d`` with learning rate ``--lr_d`` and ``--b1``/``--b2``; for this gan type
their defaults are Adam's usual 0.001 and beta_1 0.9 (``utils.config.GAN_TYPE_DEFAULTS``),
not the DCGAN settings. No weight decay: the thesis' classifiers train on plain
cross-entropy.

At the end the classifier is saved as ``--classifier_path`` (default RUN/classifier.keras;
an existing file is never overwritten by a new run) and its accuracy on every labelled
domain's test images (or, without a test split, a fixed held-out tenth of each domain,
which then does not train) is printed and recorded in RUN/metrics.jsonl
(``classifier_accuracy``, ``classifier_accuracy/<d>``).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from scogan.data.pipeline import AUTOTUNE, labelled_batches
from scogan.data.task import Task
from scogan.losses.classification import classification_loss
from scogan.metrics.classification import require_labels
from scogan.nets.classifier import build_classifier
from scogan.nets.layers import NetOptions
from scogan.trainers.base import Trainer, seed_states
from scogan.trainers.updates import apply_update, make_optimizer
from scogan.utils.config import Config, ConfigurationError

ACCURACY_METRICS = ("classifier_accuracy",)


class ClassifierTrainer(Trainer):
    """Trains the Appendix B classifier of a labelled task."""

    def __init__(self, config: Config, task: Task, run_dir: str | Path) -> None:
        super().__init__(config, task, run_dir)
        if self.manager.latest_checkpoint is None and self.output_path.exists():
            raise ConfigurationError(f"{self.output_path} already exists; a new classifier run never "
                                     "overwrites it: choose another --classifier_path")

    def build(self) -> None:
        config, task = self.config, self.task
        require_labels(task, "--gan_type classifier (it needs labelled images)")
        if len(set(task.image_shapes)) != 1:
            raise ConfigurationError(f"all domains must have the same image shape, got {task.image_shapes}")
        train_domains, self.evaluation_domains = task.classification_split()
        labelled = [i for i, d in enumerate(train_domains) if d.labels is not None]
        self.train_indices = [0] if config.classifier_domains == "1" else labelled
        if train_domains[self.train_indices[0]].labels is None:
            raise ConfigurationError(f"domain 1 of {task.name!r} has no labels; use --classifier_domains all")
        self.train_domains = [train_domains[i] for i in self.train_indices]
        self.options = options = NetOptions(width=config.width, weight_init=config.weight_init)
        self.model: keras.Model = build_classifier(task.image_shapes[0], task.num_classes, task.multi_label, options)
        self.optimizer = make_optimizer(config.optim_d, config.lr_d, config.b1, config.b2, config.precision)
        self.optimizer.build(self.model.trainable_variables)
        self.output_path = Path(config.classifier_path) if config.classifier_path else self.run_dir / "classifier.keras"

    def trackables(self) -> dict[str, object]:
        return {"classifier": self.model, "optimizer": self.optimizer, "dropout_seeds": seed_states(self.model)}

    def named_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        return {"classifier": self.optimizer}  # logged as lr/classifier

    def training_data(self, start_step: int) -> tf.data.Dataset:
        """Per step, one (images, labels) batch per training domain."""
        config = self.config
        per_domain = [labelled_batches(domain, config.batch_size, config.seed * 1000 + i, start_step)
                      for i, domain in zip(self.train_indices, self.train_domains)]
        return tf.data.Dataset.zip(tuple(per_domain)).prefetch(AUTOTUNE)

    @property
    def batches_per_step(self) -> int:
        return 1

    @property
    def batch_axis(self) -> int:
        return 0

    def train_step(self, batches: tuple[tuple[tf.Tensor, tf.Tensor], ...]) -> dict[str, tf.Tensor]:
        """``batches``: per training domain, images (B, H, W, C) in [-1, 1] and their labels."""
        images = tf.concat([x for x, _ in batches], axis=0)
        labels = tf.concat([y for _, y in batches], axis=0)
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            probabilities = self.model(images, training=True)
            loss = classification_loss(labels, probabilities)
        healthy = apply_update(self.optimizer, tape, loss, variables)
        return {"loss": loss, "train_accuracy": self._batch_accuracy(labels, probabilities),
                "finite/classifier gradients": healthy}

    @staticmethod
    def _batch_accuracy(labels: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
        if labels.shape.rank == 1:
            hits = tf.equal(tf.argmax(probabilities, axis=1), tf.cast(labels, tf.int64))
        else:
            hits = tf.equal(tf.cast(probabilities > 0.5, labels.dtype), labels)
        return tf.reduce_mean(tf.cast(hits, tf.float32))

    def generate(self, z: tf.Tensor) -> list[tf.Tensor]:
        raise ConfigurationError("a classifier run has no generators")

    def save_samples(self, name: str, writer: tf.summary.SummaryWriter) -> None:
        """A classifier draws no samples (``--images_while_training`` does nothing)."""

    def export(self) -> None:
        self.output_path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(self.output_path)

    def train(self) -> dict[str, float]:
        """Train (or continue) to ``--iterations``, save the classifier, then measure and
        record its accuracy (printed, appended to RUN/metrics.jsonl and logged to TensorBoard
        as ``eval/<key>`` at its iteration)."""
        from scogan.utils.records import append_evaluation
        from scogan.utils.summaries import evaluation_writer, write_evaluation

        last = super().train()
        if not self.output_path.exists():
            self.export_networks()
        results = self.evaluate(list(ACCURACY_METRICS), 0)
        latest = self.manager.latest_checkpoint
        append_evaluation(self.run_dir, results, iteration=int(self.step),
                          checkpoint=Path(latest).name if latest else None, num_pairs=0)
        writer = evaluation_writer(self.run_dir)
        write_evaluation(writer, results, int(self.step))
        writer.close()
        names = {f"classifier_accuracy/{d}": f"{domain.name} ({len(domain)} images)"
                 for d, domain in enumerate(self.evaluation_domains, start=1)}
        print(f"Classifier saved to {self.output_path}; accuracy on held-out images:")
        for key, value in sorted(results.items()):
            print(f"  {key:<24} {value:.4f}  {names.get(key, '')}")
        return last

    def evaluate(self, metric_names: list[str], num_pairs: int, classifier_path: str | None = None) -> dict[str, float]:
        """Metrics of the restored classifier itself; generator metrics do not apply."""
        from scogan.metrics import EvaluationContext, evaluate

        other = [name for name in metric_names if name not in ACCURACY_METRICS]
        if other:
            raise ConfigurationError(f"{self.run_dir} is a classifier run, it has no generators: "
                                     f"--metrics {','.join(other)} does not apply (valid here: "
                                     f"{', '.join(ACCURACY_METRICS)}). To score a GAN with this "
                                     f"classifier: --mode evaluate --dir GAN_RUN --metrics "
                                     f"pair_class_agreement --classifier_path {self.output_path}")
        context = EvaluationContext(self.generate, self.noise, self.task, str(self.run_dir), self.config,
                                    classifier=self.model)
        return evaluate(context, metric_names, num_pairs)
