"""Classifier accuracy on real images (``classifier_accuracy``), and what the classifier
metrics share: finding the classifier, running it, turning probabilities into labels.

A classifier (``nets.classifier``) maps float32 NHWC images in [-1, 1] to probabilities:
(N, C) softmax over C classes, or (N, L) independent sigmoids for L multi-hot labels.
Predicted labels are the argmax (class ids) or the probabilities thresholded at 0.5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from scogan.data.pipeline import ordered_batches
from scogan.data.task import Domain, Task
from scogan.metrics.errors import MetricError, NonFiniteOutputError
from scogan.utils.config import ConfigurationError

PREDICT_BATCH = 500


def predicted_labels(probabilities: np.ndarray, multi_label: bool) -> np.ndarray:
    """(N, C) probabilities -> class ids (N,) int64, or multi-hot (N, L) int64 for multi-label."""
    probabilities = np.asarray(probabilities)
    if multi_label:
        return (probabilities > 0.5).astype(np.int64)
    return np.argmax(probabilities, axis=1).astype(np.int64)


def label_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image agreement of two label arrays: 1/0 for class ids (N,), the fraction of
    equal labels for multi-hot (N, L)."""
    equal = np.asarray(a) == np.asarray(b)
    return equal.astype(np.float64) if equal.ndim == 1 else equal.mean(axis=1)


def classify(model, images: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """Probabilities of a batch of images (N, H, W, C) in [-1, 1], in inference mode."""
    outputs = [np.asarray(model(images[i:i + batch_size], training=False)) for i in range(0, len(images), batch_size)]
    probabilities = np.concatenate(outputs) if outputs else np.zeros((0, model.output_shape[-1]), np.float32)
    return _finite(probabilities, f"{len(images)} images")


def classify_domain(model, domain: Domain, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """Probabilities (N, C) of every image of a domain, in order."""
    probabilities = np.concatenate([np.asarray(model(x, training=False)) for x in ordered_batches(domain, batch_size)])
    return _finite(probabilities, f"the images of domain {domain.name!r}")


def _finite(probabilities: np.ndarray, what: str) -> np.ndarray:
    """``probabilities``, unless the classifier output NaN/Inf (argmax of NaN would still
    give a label: a broken classifier must not certify anything)."""
    if not np.isfinite(probabilities).all():
        raise NonFiniteOutputError(f"the classifier output NaN/Inf for {what}; it cannot judge them "
                                   "(retrain it, or pass another --classifier_path)")
    return probabilities


def require_labels(task: Task, what: str) -> None:
    """ConfigurationError unless ``task`` has labelled images (for ``what`` needs them)."""
    if task.num_classes == 0 or not any(d.labels is not None for d in task.domains):
        raise ConfigurationError(f"{what} needs a task with class labels; {task.name!r} has none "
                                 "(labelled tasks: the digit tasks, mnist2svhn, mnist2mnistm, "
                                 "mnist2usps, celeba)")


def context_classifier(context, metric: str):
    """The classifier ``metric`` uses: the context's own (a classifier run's model), else the
    one at the run's ``--classifier_path`` (which ``--mode evaluate --classifier_path`` overrides).

    MetricError when the task has no labels or that classifier cannot be used on it.
    """
    from scogan.nets.classifier import load_classifier

    try:
        require_labels(context.task, f"--metrics {metric}")
    except ConfigurationError as error:
        raise MetricError(f"{error}; use --metrics lpips on unlabelled tasks") from None
    if context.classifier is not None:
        return context.classifier
    path = getattr(context.config, "classifier_path", None)
    try:
        return load_classifier(path, context.task.image_shapes[0], context.task.num_classes, "it")
    except ConfigurationError as error:
        raise MetricError(f"--metrics {metric} on task {context.task.name!r}: {error}") from None


def accuracy_scores(predict: Callable[[Domain], np.ndarray], domains: Sequence[Domain], multi_label: bool,
                    averaged: Sequence[int] | None = None) -> dict[str, float]:
    """``classifier_accuracy/<d>`` for every labelled domain d (1-based), and
    ``classifier_accuracy``, their mean over the domains ``averaged`` (0-based; default all).

    Accuracy is the fraction of correct classes, or for multi-label the fraction of
    correct (image, label) entries (Keras' binary accuracy at 0.5).
    """
    results: dict[str, float] = {}
    for d, domain in enumerate(domains):
        if domain.labels is None:
            continue
        guesses = predicted_labels(predict(domain), multi_label)
        results[f"classifier_accuracy/{d + 1}"] = float(np.mean(label_agreement(guesses, domain.labels)))
    chosen = [results[f"classifier_accuracy/{d + 1}"] for d in (averaged if averaged is not None else range(len(domains)))
              if f"classifier_accuracy/{d + 1}" in results]
    if not chosen:
        raise MetricError("classifier accuracy needs labelled evaluation images")
    results["classifier_accuracy"] = float(np.mean(chosen))
    return results


def classifier_accuracy(context, num_pairs: int = 0) -> dict[str, float]:
    """The metric: accuracy of the classifier on every labelled domain's test images (or,
    without a test split, the fixed held-out part ``Task.classification_split`` keeps).

    For a classifier run trained on domain 1 only, ``classifier_accuracy`` averages
    domain 1 alone; otherwise every labelled domain.
    """
    model = context_classifier(context, "classifier_accuracy")
    _, evaluation = context.task.classification_split()
    config = context.config
    averaged = [0] if getattr(config, "gan_type", None) == "classifier" and config.classifier_domains == "1" else None
    return accuracy_scores(lambda domain: classify_domain(model, domain), evaluation, context.task.multi_label,
                           averaged)
