"""Adversarial losses against values worked out by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from scogan.losses import LOSSES, get_loss
from scogan.utils.registry import UnknownNameError

REAL = tf.constant([0.0, math.log(3.0)])   # sigmoid: 1/2, 3/4
FAKE = tf.constant([0.0, -math.log(3.0)])  # sigmoid: 1/2, 1/4


def test_cross_entropy_discriminator_loss_by_hand():
    # -log D(x): -log(1/2), -log(3/4); -log(1 - D(G(z))): -log(1/2), -log(3/4)
    expected = (math.log(2) + math.log(4 / 3)) / 2 * 2
    assert float(get_loss("ce").discriminator(REAL, FAKE)) == pytest.approx(expected, rel=1e-6)
    assert float(get_loss("minimax").discriminator(REAL, FAKE)) == pytest.approx(expected, rel=1e-6)


def test_non_saturating_generator_loss_by_hand():
    # -log D(G(z)) for D = 1/2 and 1/4
    expected = (math.log(2) + math.log(4)) / 2
    assert float(get_loss("ce").generator(FAKE)) == pytest.approx(expected, rel=1e-6)


def test_minimax_generator_loss_by_hand():
    # log(1 - D(G(z))) for D = 1/2 and 1/4
    expected = (math.log(1 / 2) + math.log(3 / 4)) / 2
    assert float(get_loss("minimax").generator(FAKE)) == pytest.approx(expected, rel=1e-6)


def test_wasserstein_losses_by_hand():
    real, fake = tf.constant([1.0, 3.0]), tf.constant([-2.0, 0.5])
    assert float(get_loss("wgan").discriminator(real, fake)) == pytest.approx(-0.75 - 2.0)
    assert float(get_loss("wgan").generator(fake)) == pytest.approx(0.75)


def test_cross_entropy_is_stable_for_extreme_logits():
    value = get_loss("ce").discriminator(tf.constant([200.0]), tf.constant([-200.0]))
    assert np.isfinite(float(value)) and float(value) == pytest.approx(0.0, abs=1e-6)
    assert float(get_loss("ce").generator(tf.constant([-200.0]))) == pytest.approx(200.0, rel=1e-6)


def test_unknown_loss_lists_choices():
    with pytest.raises(UnknownNameError, match="valid choices: ce, minimax, wgan"):
        get_loss("hinge")
    assert LOSSES.names() == ["ce", "minimax", "wgan"]
