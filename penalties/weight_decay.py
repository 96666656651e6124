"""L2 weight decay as an explicit loss term (``--weight_decay``).

The CoGAN Caffe and PyTorch code decay the weights of every layer; the thesis
prototype declared a decay but never added it to the loss. Here it is one term,
``rate * sum_w ||w||^2`` over kernels (not biases, normalisation or PReLU
parameters), added to the loss of the network it belongs to, so it cannot be
silently dropped. Its gradient is ``2 * rate * w``.
"""

from __future__ import annotations

from collections.abc import Iterable

import tensorflow as tf


def decayed_variables(variables: Iterable[tf.Variable]) -> list[tf.Variable]:
    """The kernels among ``variables`` (dense and convolution weights)."""
    return [v for v in variables if v.name.endswith("kernel") or v.path.endswith("kernel")]


def l2_weight_decay(variables: Iterable[tf.Variable], rate: float) -> tf.Tensor:
    """``rate * sum ||w||^2`` over the given variables; 0 when ``rate`` is 0 or there are none."""
    variables = list(variables)
    if rate == 0.0 or not variables:
        return tf.constant(0.0)
    return rate * tf.add_n([tf.reduce_sum(tf.square(v)) for v in variables])
