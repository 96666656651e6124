"""Evaluation metrics by name (``--metrics``), computed on a trained run.

A metric is a function ``(context: EvaluationContext, num_pairs: int) -> dict`` of
named floats; ``evaluate`` runs the requested ones and the caller records the
results (``utils.records``: RUN/metrics.jsonl and its summary RUN/metrics.json).

A metric that cannot apply to a run (its task lacks what the metric needs) raises
``MetricError``; generated images that are not finite raise ``NonFiniteOutputError``
(a ``MetricError``), so a diverged run is never scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from scogan.data import Task
from scogan.metrics.errors import MetricError, NonFiniteOutputError, require_finite
from scogan.metrics.pixel_agreement import pixel_agreement, pixel_agreement_scores
from scogan.utils.registry import Registry

__all__ = ["GAN_TYPE_METRICS", "HEADLINE_KEYS", "METRICS", "EvaluationContext", "MetricError", "NonFiniteOutputError",
           "evaluate", "headline_keys", "metric_names", "pixel_agreement", "pixel_agreement_scores",
           "require_finite"]


@dataclass(frozen=True)
class EvaluationContext:
    """What a metric may use: a generator of k-tuples of images, the task, the run directory.

    ``classifier``: a loaded classifier the classifier metrics use instead of the one at
    ``config.classifier_path`` (a classifier run evaluates its own restored model).
    """

    generate_batch: Callable[[tf.Tensor], list[tf.Tensor]]
    noise: Callable[[int, tf.random.Generator], tf.Tensor]
    task: Task
    run_dir: str
    config: object = None  # the run's utils.config.Config
    batch_size: int = 500
    classifier: object = None  # a keras.Model: images in [-1, 1] -> probabilities

    def generate(self, n: int, seed: int) -> list[np.ndarray]:
        """k arrays (n, H, W, C) in [-1, 1] from the same n seeded latent vectors.

        Raises NonFiniteOutputError if any image holds NaN or Inf (a diverged run).
        """
        rng = tf.random.Generator.from_seed(seed)
        chunks: list[list[np.ndarray]] = []
        for start in range(0, n, self.batch_size):
            z = self.noise(min(self.batch_size, n - start), rng)
            chunks.append([x.numpy() for x in self.generate_batch(z)])
        images = [np.concatenate([c[d] for c in chunks]) for d in range(len(chunks[0]))]
        require_finite(images, f"the generators of {self.run_dir} output",
                       "; the run probably diverged, so no metric of it means anything")
        return images

    def refuse(self, metric: str, needs: str, instead: str) -> MetricError:
        """The error for a metric this run's task cannot support, naming what would work."""
        return MetricError(f"--metrics {metric} needs {needs}; this run's task is {self.task.name!r} "
                           f"({self.task.num_domains} domain{'s' if self.task.num_domains > 1 else ''}"
                           f"{self._gan_type_note()}). {instead}")

    def _gan_type_note(self) -> str:
        gan_type = getattr(self.config, "gan_type", None)
        return f", --gan_type {gan_type}" if gan_type else ""


METRICS: Registry[Callable[[EvaluationContext, int], dict[str, float]]] = Registry("metric")


@METRICS.register("pixel_agreement")
def _pixel_agreement(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    transforms = context.task.transforms
    if transforms is None or not any(t is not None for t in transforms[1:]):
        instead = ("A --gan_type gan run has one domain, nothing to agree with: use --metrics lpips "
                   "(generated vs real)." if context.task.num_domains == 1 else
                   "Use --metrics lpips, or pair_class_agreement with --classifier_path on a labelled task.")
        raise context.refuse("pixel_agreement", "a CoGAN/SCoGAN run of a task whose domains are "
                             "transforms of domain 1 (mnist2edge, mnist2negative, mnist2rotate, "
                             "mnist2edge2negative)", instead)
    return pixel_agreement_scores(context.generate, context.task.transforms, num_pairs, seed=12345)


@METRICS.register("lpips")
def _lpips(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    from scogan.metrics.lpips_protocol import lpips_metric

    return lpips_metric(context, num_pairs)


@METRICS.register("pair_class_agreement")
def _pair_class_agreement(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    from scogan.metrics.pair_class_agreement import pair_class_agreement

    return pair_class_agreement(context, num_pairs)


@METRICS.register("classifier_accuracy")
def _classifier_accuracy(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    from scogan.metrics.classification import classifier_accuracy

    return classifier_accuracy(context, num_pairs)


@METRICS.register("precision_recall")
def _precision_recall(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    from scogan.metrics.precision_recall import precision_recall_metric

    return precision_recall_metric(context, num_pairs)


@METRICS.register("target_accuracy")
def _target_accuracy(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    from scogan.metrics.domain_adaptation import target_accuracy

    return target_accuracy(context, num_pairs)


@METRICS.register("source_accuracy")
def _source_accuracy(context: EvaluationContext, num_pairs: int) -> dict[str, float]:
    from scogan.metrics.domain_adaptation import source_accuracy

    return source_accuracy(context, num_pairs)


# The --metrics of --mode evaluate when neither it nor the run's training command named any.
GAN_TYPE_METRICS = {"classifier": ("classifier_accuracy",),  # a classifier run has no generators to score
                    "uda": ("target_accuracy", "source_accuracy")}  # what an adaptation run is for


def metric_names(metrics: str, gan_type: str, *, named: bool) -> list[str]:
    """The metric names of ``--metrics`` (comma-separated), or when it was not ``named`` (left
    at its default) the defaults of ``gan_type`` (``GAN_TYPE_METRICS``), else ``metrics``."""
    if not named and gan_type in GAN_TYPE_METRICS:
        return list(GAN_TYPE_METRICS[gan_type])
    return [m.strip() for m in metrics.split(",") if m.strip()]


def _lpips_keys(k: int) -> list[str]:
    keys = [f"lpips_gen1_gen{i}" for i in range(2, k + 1)] + [f"lpips_real1_real{i}" for i in range(2, k + 1)]
    keys += [f"lpips_gen{i}_real{i}" for i in range(1, k + 1)]
    return keys + (["lpips_gen1_real2", "lpips_gen2_real1"] if k == 2 else [])


# The keys each metric always returns for a run of k domains (a metric may add per-domain
# extras): what a run declares to the TensorBoard HParams dashboard before it is evaluated.
HEADLINE_KEYS: dict[str, Callable[[int], list[str]]] = {
    "pixel_agreement": lambda k: ["pixel_agreement", "pixel_agreement_shuffled", "stroke_agreement",
                                  "stroke_agreement_shuffled"] if k > 1 else [],
    "lpips": _lpips_keys,
    "pair_class_agreement": lambda k: ["pair_class_agreement", "pair_class_agreement_shuffled"] if k > 1 else [],
    "classifier_accuracy": lambda k: ["classifier_accuracy"],
    "precision_recall": lambda k: [f"{what}/{d}" for d in range(1, k + 1) for what in ("precision", "recall")],
    "target_accuracy": lambda k: ["target_accuracy"],
    "source_accuracy": lambda k: ["source_accuracy"],
}


def headline_keys(names: list[str], num_domains: int) -> list[str]:
    """The result keys the metrics ``names`` return for ``num_domains`` domains, in order
    (an unknown name adds none: it fails when evaluated, not when declared)."""
    keys: list[str] = []
    for name in names:
        keys += [key for key in HEADLINE_KEYS.get(name, lambda k: [])(num_domains) if key not in keys]
    return keys


def evaluate(context: EvaluationContext, names: list[str], num_pairs: int) -> dict[str, float]:
    """Run the named metrics (validated first, so a typo fails before any work)."""
    functions = [METRICS.get(name) for name in names]
    results: dict[str, float] = {}
    for fn in functions:
        results.update(fn(context, num_pairs))
    return results
