"""tf.data pipelines: shuffled, repeated, batched, prefetched float32 images in [-1, 1].

The order of images is a pure function of (seed, domain index): a stream of shuffled
indices. Resuming at step t skips the first t * disc_iters batches of that index
stream (cheap: no image is read), so a resumed run sees exactly the batches an
uninterrupted run would, without storing the shuffle buffer in checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from scogan.data.task import Domain
from scogan.utils.config import ConfigurationError

AUTOTUNE = tf.data.AUTOTUNE


def to_unit_range(images: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def from_unit_range(images: tf.Tensor | np.ndarray) -> np.ndarray:
    """float32 [-1, 1] -> uint8 [0, 255] (rounded, clipped)."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def domain_batches(
    domain: Domain, batch_size: int, seed: int, skip_batches: int = 0,
) -> tf.data.Dataset:
    """Endless batches (batch_size, H, W, C) float32 in [-1, 1] of one domain, reshuffled every epoch."""
    batches = _batches(domain, _shuffled_indices(domain, batch_size, seed, skip_batches), batch_size)
    h, w, c = domain.image_shape
    return batches.map(lambda x: tf.ensure_shape(x, (batch_size, h, w, c)))


def labelled_batches(
    domain: Domain, batch_size: int, seed: int, skip_batches: int = 0,
) -> tf.data.Dataset:
    """Endless (images, labels) batches of a labelled domain, in ``domain_batches``' order.

    Images (batch_size, H, W, C) float32 in [-1, 1]; labels int64 (batch_size,) class
    ids, or float32 (batch_size, L) multi-hot.
    """
    if domain.labels is None:
        raise ValueError(f"domain {domain.name!r} has no labels")
    labels = domain.labels if domain.labels.ndim == 1 else domain.labels.astype(np.float32)
    batches = _batches(domain, _shuffled_indices(domain, batch_size, seed, skip_batches), batch_size,
                       labels=labels)
    h, w, c = domain.image_shape
    return batches.map(lambda x, y: (tf.ensure_shape(x, (batch_size, h, w, c)), y))


def ordered_batches(domain: Domain, batch_size: int) -> tf.data.Dataset:
    """One pass over a domain in order: batches (<= batch_size, H, W, C) float32 in [-1, 1]."""
    return _batches(domain, tf.data.Dataset.range(len(domain)), batch_size, drop_remainder=False)


def _shuffled_indices(domain: Domain, batch_size: int, seed: int, skip_batches: int) -> tf.data.Dataset:
    n = len(domain)
    if n < batch_size:
        raise ConfigurationError(f"domain {domain.name!r} has {n} images, fewer than one batch of "
                                 f"{batch_size} (--batch_size)")
    return (
        tf.data.Dataset.range(n)
        .shuffle(n, seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .skip(skip_batches * batch_size)
    )


def _batches(domain: Domain, indices: tf.data.Dataset, batch_size: int, drop_remainder: bool = True,
             labels: np.ndarray | None = None) -> tf.data.Dataset:
    """Batches of the images (and ``labels``, if given) at a stream of indices: gathered in
    memory, or decoded from files."""
    table = None if labels is None else tf.constant(labels)

    def with_labels(x, idx):
        return x if table is None else (x, tf.gather(table, idx))

    if isinstance(domain.images, np.memmap):  # --cache disk: read each batch from the file
        mapped = domain.images
        h, w, c = domain.image_shape

        def gather(idx):
            batch = tf.numpy_function(lambda i: np.ascontiguousarray(mapped[i]), [idx], tf.uint8, stateful=False)
            return tf.ensure_shape(batch, (None, h, w, c))
        return indices.batch(batch_size, drop_remainder=drop_remainder).map(
            lambda idx: with_labels(to_unit_range(gather(idx)), idx), num_parallel_calls=AUTOTUNE
        )
    if domain.images is not None:
        images = tf.constant(domain.images)
        return indices.batch(batch_size, drop_remainder=drop_remainder).map(
            lambda idx: with_labels(to_unit_range(tf.gather(images, idx)), idx), num_parallel_calls=AUTOTUNE
        )
    files = tf.constant(list(domain.files))
    return indices.map(
        lambda i: with_labels(to_unit_range(domain.decode(tf.gather(files, i))), i), num_parallel_calls=AUTOTUNE
    ).batch(batch_size, drop_remainder=drop_remainder)


def training_batches(
    domains: Sequence[Domain], batch_size: int, seed: int, batches_per_step: int = 1,
    start_step: int = 0,
) -> tf.data.Dataset:
    """Per training step, a tuple of k tensors (batches_per_step, batch_size, H, W, C).

    Domain i is shuffled with seed ``seed * 1000 + i`` so domains are drawn independently.
    """
    per_domain = [
        domain_batches(d, batch_size, seed * 1000 + i, start_step * batches_per_step)
        .batch(batches_per_step, drop_remainder=True)
        for i, d in enumerate(domains)
    ]
    return tf.data.Dataset.zip(tuple(per_domain)).prefetch(AUTOTUNE)


def real_images(domain: Domain, count: int, seed: int = 0) -> np.ndarray:
    """``count`` images of a domain (float32 [-1, 1], NHWC), drawn without replacement when possible."""
    n = len(domain)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=count, replace=count > n)
    if domain.images is not None:
        return to_unit_range(domain.images[idx]).numpy()
    return np.stack([to_unit_range(domain.decode(tf.constant(domain.files[i]))).numpy() for i in idx])
