"""Coupled nets: shapes, sharing by layer identity, allowed ranges, inference mode."""

import numpy as np
import pytest
import tensorflow as tf

from scogan.nets import (
    DISCRIMINATORS,
    GENERATORS,
    NetOptions,
    build_discriminators,
    build_generators,
)
from scogan.utils.registry import UnknownNameError

OPTIONS = NetOptions(width=0.0625)


def test_digit_generator_shapes_and_range():
    g = build_generators("digit", (32, 32, 1), 2, None, 100, OPTIONS)
    images = g(tf.random.uniform((5, 100), -1, 1), training=False)
    assert [tuple(x.shape) for x in images] == [(5, 32, 32, 1)] * 2
    assert all(float(tf.reduce_max(tf.abs(x))) <= 1.0 for x in images)


def test_full_width_digit_generator_matches_thesis_table_3_1():
    g = build_generators("digit", (32, 32, 3), 2, None, 100, NetOptions(width=1.0))
    features = g.features(tf.zeros((1, 100)))[0]
    assert [tuple(f.shape[1:]) for f in features] == [
        (4, 4, 1024), (4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128), (32, 32, 3)]
    assert g.model.get_layer("shared1_conv").kernel.shape == (4, 4, 1024, 1024)
    assert g.model.get_layer("g1_5_conv").kernel.shape == (6, 6, 3, 128)


def test_shared_generator_layers_are_one_object_and_weights_exist_once():
    g = build_generators("digit", (32, 32, 1), 2, 3, 100, OPTIONS)
    g1, g2 = g.domain_models
    for name in ("shared0_dense", "shared1_conv", "shared2_bn", "shared2_prelu"):
        assert g1.get_layer(name) is g2.get_layer(name)
    assert "g1_3_conv" in [layer.name for layer in g1.layers]
    assert "g1_3_conv" not in [layer.name for layer in g2.layers]
    ids = [id(v) for v in g.trainable_variables]
    assert len(ids) == len(set(ids))
    private = len(g1.trainable_variables) - len(g.shared_variables)
    assert len(g.trainable_variables) == len(g.shared_variables) + 2 * private


def test_unshared_generators_have_no_common_variable():
    g = build_generators("digit", (32, 32, 1), 2, 0, 100, OPTIONS)
    a, b = ({id(v) for v in m.trainable_variables} for m in g.domain_models)
    assert not a & b and not g.shared_variables


def test_discriminators_share_their_last_layers():
    d = build_discriminators("digit", [(32, 32, 1)] * 2, 2, OPTIONS)
    d1, d2 = d.domain_models
    assert d1.get_layer("shared3_dense") is d2.get_layer("shared3_dense")
    assert d1.get_layer("shared2_dense") is d2.get_layer("shared2_dense")
    assert d1.get_layer("d1_1_conv") is not d2.get_layer("d2_1_conv")
    logits = d([tf.zeros((3, 32, 32, 1))] * 2)
    assert [tuple(x.shape) for x in logits] == [(3,), (3,)]


def test_three_domains():
    g = build_generators("digit", (32, 32, 1), 3, 5, 100, OPTIONS)
    d = build_discriminators("digit", [(32, 32, 1)] * 3, 3, OPTIONS)
    images = g(tf.zeros((2, 100)))
    assert len(images) == 3 and len(d(images)) == 3
    assert len({id(m.get_layer("shared4_conv")) for m in g.domain_models}) == 1


@pytest.mark.parametrize("what,value,allowed", [("generator", 6, "0..5"), ("generator", -1, "0..5")])
def test_impossible_generator_sharing_states_range(what, value, allowed):
    with pytest.raises(ValueError, match=f"{what}: {value} shared layers is impossible.*allowed range is {allowed}"):
        build_generators("digit", (32, 32, 1), 2, value, 100, OPTIONS)


def test_impossible_discriminator_sharing_states_range():
    with pytest.raises(ValueError, match="allowed range is 0..3"):
        build_discriminators("digit", [(32, 32, 1)] * 2, 4, OPTIONS)


def test_rotate_nets_share_all_but_output_and_only_last_discriminator_layer():
    g = build_generators("rotate", (32, 32, 1), 2, None, 100, OPTIONS)
    d = build_discriminators("rotate", [(32, 32, 1)] * 2, None, OPTIONS)
    assert g.shared_layers == 4 and d.shared_layers == 1
    assert [tuple(x.shape) for x in g(tf.zeros((2, 100)))] == [(2, 32, 32, 1)] * 2


def test_prelu_starts_at_configured_slope_and_batchnorm_precedes_it():
    g = build_generators("digit", (32, 32, 1), 2, None, 100, NetOptions(width=0.0625, prelu_init=0.25))
    prelu = g.model.get_layer("shared1_prelu")
    np.testing.assert_allclose(prelu.get_weights()[0], 0.25)
    names = [layer.name for layer in g.model.layers]
    assert names.index("shared1_conv") < names.index("shared1_bn") < names.index("shared1_prelu")


def test_dropout_only_in_training():
    d = build_discriminators("digit", [(32, 32, 1)] * 2, None, OPTIONS)
    x = [tf.random.uniform((4, 32, 32, 1))] * 2
    np.testing.assert_array_equal(d(x, training=False)[0], d(x, training=False)[0])
    assert not np.array_equal(d(x, training=True)[0], d(x, training=True)[0])


def test_unknown_architecture_lists_choices():
    with pytest.raises(UnknownNameError, match=r"'resnet9'; valid choices: digit, faces, resnet, rotate$"):
        GENERATORS.get("resnet9")
    assert "digit" in DISCRIMINATORS


def test_digit_nets_reject_other_sizes():
    with pytest.raises(ValueError, match="32x32"):
        build_generators("digit", (64, 64, 3), 2, None, 100, OPTIONS)
