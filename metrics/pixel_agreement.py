"""Pixel agreement (CoGAN paper, Sec. 4 "Weight Sharing"), and its stroke-only variant.

For latent vectors z, transform the domain-1 image G_1(z) into domain i with the
same method that made domain i's training images, threshold both it and G_i(z) at
mid-grey, and count the fraction of pixels that agree. A perfect joint distribution
gives 1. The *shuffled* score compares T(G_1(z)) with G_i(z') for independent z':
what a model that learned only the marginals gets.

The transform is the task's own (``Task.transforms``). For MNISTedge it is
``data.digit_tasks.edges``: the edge images were made from the 28x28 digits and then
resized to 32x32, as the thesis prototype makes them, so the 32x32 G_1(z) is first taken
back to 28x28 by the least-squares inverse of that resize (``data.digit_tasks.unresize``),
given its 28x28 edge image and resized to 32x32 again; the comparison is at 32x32, where
G_i(z) lives. Real pairs (a digit and its own edge image) score 0.9996 pixel and 0.997
stroke agreement, not exactly 1: the rounded 28 -> 32 resize maps some distinct digits
to the same image (a single grey level 1 at pixel (3, 3) vanishes), so no 32x32 reduction
recovers every digit, and pixels near mid-grey can flip.

On thin-stroke domains (edges) most pixels of both images are background, which any
pair agrees on, so the paper's score moves little (real mnist2edge images on the bundled
subset: 0.9996 paired and 0.81 shuffled; an empty G_i still scores 0.87). *Stroke agreement*
counts only the pixels that are on in either binarised image, |A ∩ B| / |A ∪ B| (the
Jaccard index of the strokes), so a blank or background-only match scores 0; it is
reported beside the paper's score, never instead of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scogan.data.pipeline import from_unit_range
from scogan.data.task import Transform
from scogan.metrics.errors import MetricError


def _on(images: np.ndarray) -> np.ndarray:
    """uint8 images -> bool, "on" at or above mid-grey."""
    return images >= 128


def binarised_pair(
    domain1: np.ndarray, domain_i: np.ndarray, transform: Transform,
) -> tuple[np.ndarray, np.ndarray]:
    """T(domain1) and domain_i thresholded at mid-grey: two bool arrays (N, H, W, C).

    Args:
        domain1, domain_i: generated images (N, H, W, C) float in [-1, 1]; pair j comes
            from the same latent vector (or from independent ones, for the shuffled score).
        transform: uint8 (N, H, W, C) -> uint8, domain 1 to domain i.
    """
    if domain1.shape != domain_i.shape:
        raise ValueError(f"shape mismatch: {domain1.shape} vs {domain_i.shape}")
    return _on(transform(from_unit_range(domain1))), _on(from_unit_range(domain_i))


def _agreement(expected: np.ndarray, observed: np.ndarray) -> np.ndarray:
    return np.mean(expected == observed, axis=(1, 2, 3))


def _jaccard(expected: np.ndarray, observed: np.ndarray) -> np.ndarray:
    both = np.sum(expected & observed, axis=(1, 2, 3))
    either = np.sum(expected | observed, axis=(1, 2, 3))
    return np.where(either > 0, both / np.maximum(either, 1), 1.0)


def pixel_agreement(domain1: np.ndarray, domain_i: np.ndarray, transform: Transform) -> np.ndarray:
    """Per-pair agreement ratio (the paper's metric): (N,) float64 in [0, 1], the
    fraction of pixels where the binarised T(domain1) and domain_i agree."""
    return _agreement(*binarised_pair(domain1, domain_i, transform))


def stroke_agreement(domain1: np.ndarray, domain_i: np.ndarray, transform: Transform) -> np.ndarray:
    """Per-pair Jaccard index of the strokes: (N,) float64 in [0, 1].

    |on in both| / |on in either|, pixels "on" when >= mid-grey after binarising as
    ``pixel_agreement``; a pair with no stroke in either image scores 1 (they agree).
    """
    return _jaccard(*binarised_pair(domain1, domain_i, transform))


# key -> per-pair score of two binarised batches
SCORES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "pixel_agreement": _agreement,
    "stroke_agreement": _jaccard,
}


def pixel_agreement_scores(
    generate: Callable[[int, int], list[np.ndarray]], transforms: tuple[Transform | None, ...],
    num_pairs: int, seed: int = 0,
) -> dict[str, float]:
    """Mean agreement over ``num_pairs`` pairs for every transform-related domain i >= 2.

    ``generate(n, seed)`` returns k arrays (n, H, W, C) of images from the same n
    latent vectors (seeded). With k = 2 the keys are ``pixel_agreement``,
    ``pixel_agreement_shuffled``, ``stroke_agreement`` and ``stroke_agreement_shuffled``;
    with more domains, per-domain keys ``pixel_agreement/2`` ... are added and the plain
    keys are their mean.
    """
    related = [(i, t) for i, t in enumerate(transforms[1:], start=1) if t is not None]
    if not related:
        raise MetricError("pixel agreement needs a task whose domains are transforms of domain 1 "
                          "(mnist2edge, mnist2negative, mnist2rotate, ...)")
    paired = generate(num_pairs, seed)
    independent = generate(num_pairs, seed + 1)
    per_domain: dict[str, list[float]] = {}
    results: dict[str, float] = {}
    for i, transform in related:
        expected, same = binarised_pair(paired[0], paired[i], transform)
        shuffled = _on(from_unit_range(independent[i]))
        for name, score in SCORES.items():
            for key, observed in ((name, same), (f"{name}_shuffled", shuffled)):
                value = float(np.mean(score(expected, observed)))
                per_domain.setdefault(key, []).append(value)
                if len(transforms) > 2:
                    results[f"{key}/{i + 1}"] = value
    results.update({key: float(np.mean(values)) for key, values in per_domain.items()})
    return results
