"""Pair class agreement: does a pretrained classifier give G_1(z) and G_i(z) the same label?

For N latent vectors, a classifier (``--classifier_path``, trained with
``--gan_type classifier``) labels every generated image; ``pair_class_agreement`` is the
fraction of pairs (G_1(z), G_i(z)) with the same predicted class (argmax). A model that
learned the joint distribution draws the same digit in both domains and scores near the
classifier's accuracy; ``pair_class_agreement_shuffled`` pairs G_1(z) with G_i(z') for
independent z', what a model that learned only the marginals gets (about the sum of
squared class frequencies, 0.1 for balanced digits). ``pair_class_entropy/<d>`` is the
entropy in bits of the label histogram of G_d(z) (log2 10 = 3.32 when all ten digits
are drawn equally often; low values mean a collapsed generator).

With multi-hot labels (CelebA) a pair's agreement is the fraction of its labels that
agree (threshold 0.5); a label named like a domain (the ``--attribute`` that splits
CelebA, e.g. Smiling) differs by construction and is left out. With k > 2 domains,
per-domain keys ``pair_class_agreement/<i>`` are added and the plain keys are their mean,
as for pixel agreement.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scogan.metrics.classification import (
    classify,
    context_classifier,
    label_agreement,
    predicted_labels,
)
from scogan.metrics.errors import MetricError


def label_entropy(class_ids: np.ndarray, num_classes: int) -> float:
    """Entropy in bits of the histogram of ``class_ids`` (N,) over ``num_classes`` classes."""
    p = np.bincount(class_ids, minlength=num_classes) / max(1, len(class_ids))
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0: no -0.0 for a single class


def pair_class_agreement_scores(
    generate: Callable[[int, int], list[np.ndarray]], classify_fn: Callable[[np.ndarray], np.ndarray],
    num_pairs: int, multi_label: bool = False, num_classes: int = 10, kept_labels: list[int] | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Agreement of the predicted labels of generated pairs (see the module docstring).

    ``generate(n, seed)`` returns k arrays (n, H, W, C) in [-1, 1] made from the same n
    seeded latent vectors; ``classify_fn`` maps such an array to probabilities (n, C).
    ``kept_labels``: for multi-label, the label columns compared (default all).
    """
    paired = generate(num_pairs, seed)
    independent = generate(num_pairs, seed + 1)
    if len(paired) < 2:
        raise MetricError("pair class agreement compares two or more domains")

    def labels(images: np.ndarray) -> np.ndarray:
        probabilities = np.asarray(classify_fn(images))
        if multi_label and (probabilities.min() < 0 or probabilities.max() > 1):
            raise MetricError("the classifier must output probabilities (a sigmoid per label) "
                              f"in [0, 1]; got values in [{probabilities.min():.3g}, {probabilities.max():.3g}]")
        found = predicted_labels(probabilities, multi_label)
        return found[:, kept_labels] if multi_label and kept_labels is not None else found

    same_z = [labels(x) for x in paired]
    other_z = [labels(x) for x in independent]
    results: dict[str, float] = {}
    same, shuffled = [], []
    for i in range(1, len(paired)):
        same.append(float(np.mean(label_agreement(same_z[0], same_z[i]))))
        shuffled.append(float(np.mean(label_agreement(same_z[0], other_z[i]))))
        if len(paired) > 2:
            results[f"pair_class_agreement/{i + 1}"] = same[-1]
            results[f"pair_class_agreement_shuffled/{i + 1}"] = shuffled[-1]
    results["pair_class_agreement"] = float(np.mean(same))
    results["pair_class_agreement_shuffled"] = float(np.mean(shuffled))
    if not multi_label:
        for d, found in enumerate(same_z, start=1):
            results[f"pair_class_entropy/{d}"] = label_entropy(found, num_classes)
    return results


def pair_class_agreement(context, num_pairs: int) -> dict[str, float]:
    """The metric on a run: its generators, and the classifier at ``--classifier_path``."""
    task = context.task
    if task.num_domains < 2:
        raise context.refuse("pair_class_agreement", "two or more domains to compare",
                             "A --gan_type gan run has one: use --metrics lpips (generated vs real).")
    model = context_classifier(context, "pair_class_agreement")
    kept = None
    if task.multi_label:
        domain_names = {d.name for d in task.domains}
        kept = [j for j, name in enumerate(task.label_names or ()) if name not in domain_names] or None
    return pair_class_agreement_scores(
        context.generate, lambda images: classify(model, images), num_pairs, multi_label=task.multi_label,
        num_classes=task.num_classes, kept_labels=kept, seed=777,
    )
