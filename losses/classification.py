"""Classifier losses on predicted probabilities (the classifiers of thesis Appendix B).

The classifiers end in a softmax or sigmoid (``nets.classifier``), so these take
probabilities, clipped to [eps, 1 - eps] before the log as Keras does (eps = 1e-7).
"""

from __future__ import annotations

import tensorflow as tf

EPSILON = 1e-7


def categorical_cross_entropy(class_ids: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
    """Multi-class cross-entropy (Table B.1): mean over the batch of -log p_i[y_i].

    class_ids: int (N,) in [0, C); probabilities: (N, C), rows summing to 1 (softmax).
    """
    p = tf.clip_by_value(probabilities, EPSILON, 1.0 - EPSILON)
    picked = tf.gather(p, tf.cast(class_ids, tf.int32), axis=1, batch_dims=1)
    return -tf.reduce_mean(tf.math.log(picked))


def binary_cross_entropy(multi_hot: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
    """Multi-label cross-entropy (Table B.2): mean over the batch and the L labels of
    -[y log p + (1 - y) log(1 - p)].

    multi_hot: (N, L) in {0, 1}; probabilities: (N, L), independent sigmoids.
    """
    y = tf.cast(multi_hot, probabilities.dtype)
    p = tf.clip_by_value(probabilities, EPSILON, 1.0 - EPSILON)
    return -tf.reduce_mean(y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p))


def classification_loss(labels: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
    """Categorical cross-entropy for class ids (N,), binary cross-entropy for multi-hot (N, L)."""
    if labels.shape.rank == 1:
        return categorical_cross_entropy(labels, probabilities)
    return binary_cross_entropy(labels, probabilities)
