"""Unsupervised domain adaptation metrics of a ``--gan_type uda`` run (CoGAN Sec. 5, Table 1).

``target_accuracy``: the fraction of the target domain's (domain 2's) test images that the
run's target classifier labels correctly, over the whole test split (MNIST 10,000, USPS
2,007), in [0, 1]. ``source_accuracy``: the same for the source classifier on domain 1's
test split. Both classify real images only; ``--num_pairs`` does not apply.

The classifiers come from the run itself: ``trainers.uda.UDATrainer.evaluate`` passes the
pair (source classifier, target classifier) as ``EvaluationContext.classifier`` (each maps
images in [-1, 1] to softmax probabilities). The test labels are read here, at evaluation,
and nowhere in training.
"""

from __future__ import annotations

import numpy as np

from scogan.metrics.classification import classify_domain
from scogan.metrics.errors import MetricError

DOMAIN_ADAPTATION_METRICS = ("target_accuracy", "source_accuracy")
SOURCE, TARGET = 0, 1


def domain_accuracy(context, metric: str, index: int) -> float:
    """Accuracy of the run's classifier of domain ``index`` (0 source, 1 target) on that
    domain's labelled test images."""
    classifiers = context.classifier
    if not (isinstance(classifiers, (tuple, list)) and len(classifiers) == 2):
        raise context.refuse(metric, "a --gan_type uda run (the classifier on its discriminators)",
                             "Train one with --gan_type uda --cogan_data mnist2usps (or usps2mnist); "
                             "to score a separately trained classifier use --metrics classifier_accuracy.")
    tests = context.task.test_domains
    if tests is None or len(tests) != len(classifiers) or tests[index].labels is None:
        raise MetricError(f"--metrics {metric} needs labelled test images of both domains; task "
                          f"{context.task.name!r} has none for domain {index + 1}")
    domain = tests[index]
    guesses = np.argmax(classify_domain(classifiers[index], domain), axis=1)
    return float(np.mean(guesses == np.asarray(domain.labels)))


def target_accuracy(context, num_pairs: int = 0) -> dict[str, float]:
    """``{"target_accuracy": a}``, a in [0, 1]: the adapted classifier on the target test set."""
    return {"target_accuracy": domain_accuracy(context, "target_accuracy", TARGET)}


def source_accuracy(context, num_pairs: int = 0) -> dict[str, float]:
    """``{"source_accuracy": a}``, a in [0, 1]: the source classifier on the source test set."""
    return {"source_accuracy": domain_accuracy(context, "source_accuracy", SOURCE)}
