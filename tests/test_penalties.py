"""Penalties against values worked out by hand."""

import numpy as np
import pytest
import tensorflow as tf

from scogan.penalties import (
    DISCRIMINATOR_PENALTIES,
    clip_weights,
    decayed_variables,
    get_discriminator_penalty,
    l2_weight_decay,
    wasserstein_gradient_penalty,
)
from scogan.utils.registry import UnknownNameError


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = sum(w * x): its gradient is w everywhere, so the penalty is (||w|| - 1)^2.
    w = tf.constant(np.full((1, 2, 2, 1), 1.5, np.float32))  # ||w|| = 3
    real = tf.random.uniform((4, 2, 2, 1))
    fake = tf.random.uniform((4, 2, 2, 1))
    alpha = tf.random.uniform((4, 1, 1, 1))
    gp = wasserstein_gradient_penalty(lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3]), real, fake, alpha)
    assert float(gp) == pytest.approx((3.0 - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    w = tf.constant(np.full((1, 2, 2, 1), 0.5, np.float32))  # ||w|| = 1
    x = tf.random.uniform((3, 2, 2, 1))
    gp = wasserstein_gradient_penalty(lambda v: tf.reduce_sum(w * v, axis=[1, 2, 3]), x, x + 1, tf.ones((3, 1, 1, 1)) * 0.3)
    assert float(gp) == pytest.approx(0.0, abs=1e-6)


def test_gradient_penalty_interpolates_between_real_and_fake():
    # D(x) = sum(x^2)/2 has gradient x; at x_hat = real + alpha (fake - real) = 0.25 * 4 = 1 per pixel.
    real = tf.zeros((1, 1, 1, 4))
    fake = tf.fill((1, 1, 1, 4), 4.0)
    gp = wasserstein_gradient_penalty(lambda x: tf.reduce_sum(x * x, axis=[1, 2, 3]) / 2, real, fake, tf.fill((1, 1, 1, 1), 0.25))
    assert float(gp) == pytest.approx((2.0 - 1.0) ** 2, rel=1e-5)  # ||(1,1,1,1)|| = 2


def test_clip_weights():
    v = tf.Variable([-1.0, 0.005, 2.0])
    clip_weights([v], 0.01)
    np.testing.assert_allclose(v.numpy(), [-0.01, 0.005, 0.01])


def test_weight_decay_sums_squared_kernels_only():
    import keras

    layer = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    layer.build((None, 3))
    kernels = decayed_variables(layer.trainable_variables)
    assert len(kernels) == 1
    assert float(l2_weight_decay(kernels, 0.01)) == pytest.approx(0.01 * 6)
    assert float(l2_weight_decay(kernels, 0.0)) == 0.0


def test_penalty_registry():
    assert DISCRIMINATOR_PENALTIES.names() == ["clip", "none", "wgan-gp"]
    assert get_discriminator_penalty("wgan-gp").layer_norm
    assert get_discriminator_penalty("clip").constraint is clip_weights
    with pytest.raises(UnknownNameError, match="valid choices: clip, none, wgan-gp"):
        get_discriminator_penalty("spectral")
