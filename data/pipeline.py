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

from data.task import Domain

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
    n = len(domain)
    if n < batch_size:
        raise ValueError(f"domain {domain.name!r} has {n} images, fewer than one batch of {batch_size}")
    indices = (
        tf.data.Dataset.range(n)
        .shuffle(n, seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .skip(skip_batches * batch_size)
    )
    if domain.images is not None:
        images = tf.constant(domain.images)
        batches = indices.batch(batch_size, drop_remainder=True).map(
            lambda idx: to_unit_range(tf.gather(images, idx)), num_parallel_calls=AUTOTUNE
        )
    else:
        files = tf.constant(list(domain.files))
        batches = indices.map(
            lambda i: to_unit_range(domain.decode(tf.gather(files, i))), num_parallel_calls=AUTOTUNE
        ).batch(batch_size, drop_remainder=True)
    h, w, c = domain.image_shape
    return batches.map(lambda x: tf.ensure_shape(x, (batch_size, h, w, c)))


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
