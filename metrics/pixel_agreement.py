"""Pixel agreement (CoGAN paper, Sec. 4 "Weight Sharing").

For latent vectors z, transform the domain-1 image G_1(z) into domain i with the
same method that made domain i's training images, threshold both it and G_i(z) at
mid-grey, and count the fraction of pixels that agree. A perfect joint distribution
gives 1. The *shuffled* score compares T(G_1(z)) with G_i(z') for independent z':
what a model that learned only the marginals gets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from data.pipeline import from_unit_range
from data.task import Transform


def pixel_agreement(domain1: np.ndarray, domain_i: np.ndarray, transform: Transform) -> np.ndarray:
    """Per-pair agreement ratio.

    Args:
        domain1, domain_i: generated images (N, H, W, C) float in [-1, 1]; pair j comes
            from the same latent vector (or from independent ones, for the shuffled score).
        transform: uint8 (N, H, W, C) -> uint8, domain 1 to domain i.
    Returns:
        (N,) float64 in [0, 1]: the fraction of pixels where the binarised images agree.
    """
    if domain1.shape != domain_i.shape:
        raise ValueError(f"shape mismatch: {domain1.shape} vs {domain_i.shape}")
    expected = transform(from_unit_range(domain1)) >= 128
    observed = from_unit_range(domain_i) >= 128
    return np.mean(expected == observed, axis=(1, 2, 3))


def pixel_agreement_scores(
    generate: Callable[[int, int], list[np.ndarray]], transforms: tuple[Transform | None, ...],
    num_pairs: int, seed: int = 0,
) -> dict[str, float]:
    """Mean agreement over ``num_pairs`` pairs for every transform-related domain i >= 2.

    ``generate(n, seed)`` returns k arrays (n, H, W, C) of images from the same n
    latent vectors (seeded). With k = 2 the keys are ``pixel_agreement`` and
    ``pixel_agreement_shuffled``; with more domains, per-domain keys
    ``pixel_agreement/2`` ... are added and the plain keys are their mean.
    """
    paired = generate(num_pairs, seed)
    independent = generate(num_pairs, seed + 1)
    results: dict[str, float] = {}
    same, shuffled = [], []
    for i, transform in enumerate(transforms[1:], start=1):
        if transform is None:
            continue
        same.append(float(np.mean(pixel_agreement(paired[0], paired[i], transform))))
        shuffled.append(float(np.mean(pixel_agreement(paired[0], independent[i], transform))))
        if len(transforms) > 2:
            results[f"pixel_agreement/{i + 1}"] = same[-1]
            results[f"pixel_agreement_shuffled/{i + 1}"] = shuffled[-1]
    if not same:
        raise ValueError("pixel agreement needs a task whose domains are transforms of domain 1 "
                         "(mnist2edge, mnist2negative, mnist2rotate, ...)")
    results["pixel_agreement"] = float(np.mean(same))
    results["pixel_agreement_shuffled"] = float(np.mean(shuffled))
    return results
