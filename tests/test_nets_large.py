"""Face (Tables A.1-A.4) and ResNet nets; short CoGAN runs on every dataset family; the CLI."""

import numpy as np
import pytest
import tensorflow as tf

from scogan import main
from scogan.data import DataOptions, load_task, sources
from scogan.nets import (
    AUTO_ARCHITECTURES,
    NetOptions,
    build_discriminators,
    build_generators,
    resolve_architecture,
)
from scogan.nets.resnet import ResidualBlock
from scogan.trainers import CoGANTrainer
from tests.conftest import tiny_config
from tests.test_datasets import _fake_celeba, _fake_cyclegan, write_image, write_svhn

TINY = NetOptions(width=0.0625)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")
    monkeypatch.setattr(sources, "network_reachable", refuse)
    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: False)


def _shapes(generator):
    return [tuple(f.shape[1:]) for f in generator.features(tf.zeros((1, 100)))[0]]


def test_face_generator_matches_table_a1_at_full_width():
    g = build_generators("faces", (128, 128, 3), 2, None, 100, NetOptions(width=1.0))
    assert _shapes(g) == [(4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128), (64, 64, 64),
                          (128, 128, 32), (128, 128, 3)]
    assert g.shared_layers == 5  # A.1: shared through the 64-channel block
    assert g.model.get_layer("shared0_dense").kernel.shape == (100, 16384)
    assert g.model.get_layer("shared1_conv").kernel.shape == (4, 4, 512, 1024)


def test_face_generator_matches_table_a3_and_the_64_variant():
    g = build_generators("faces", (256, 256, 3), 2, None, 100, NetOptions(width=0.125))
    assert [s[-1] for s in _shapes(g)] == [256, 128, 64, 32, 16, 8, 4, 3]  # 2048 ... 32, 3 at width 1/8
    assert _shapes(g)[-2][:2] == (256, 256) and g.shared_layers == 6
    g64 = build_generators("faces", (64, 64, 3), 2, None, 100, NetOptions(width=0.125))
    assert [s[-1] for s in _shapes(g64)] == [64, 32, 16, 8, 4, 3] and _shapes(g64)[-1] == (64, 64, 3)


def test_face_discriminator_matches_table_a2():
    d = build_discriminators("faces", [(128, 128, 3)] * 2, None, NetOptions(width=1.0))
    model = d.domain_models[0]
    convs = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size[0], c.strides[0]) for c in convs] == [
        (32, 5, 2), (64, 5, 2), (128, 5, 2), (256, 3, 2), (512, 3, 2), (1024, 3, 2)]
    rates = [layer.rate for layer in model.layers if isinstance(layer, tf.keras.layers.Dropout)]
    assert rates == [0.1, 0.3, 0.3, 0.5, 0.5]
    assert sum(isinstance(layer, tf.keras.layers.BatchNormalization) for layer in model.layers) == 7
    assert d.shared_layers == 7 and model.get_layer("shared6_dense").units == 2048
    assert model.layers[-1].activation is tf.keras.activations.linear  # a logit
    d64 = build_discriminators("faces", [(64, 64, 3)] * 2, None, TINY)
    assert len([x for x in d64.domain_models[0].layers if isinstance(x, tf.keras.layers.Conv2D)]) == 5


def test_wgan_gp_gets_layer_norm_and_dropout_is_off_at_inference():
    d = build_discriminators("faces", [(32, 32, 3)] * 2, None, NetOptions(width=0.0625, disc_norm="layer"))
    layers = d.domain_models[0].layers
    assert any(isinstance(x, tf.keras.layers.LayerNormalization) for x in layers)
    assert not any(isinstance(x, tf.keras.layers.BatchNormalization) for x in layers)
    x = [tf.random.uniform((4, 32, 32, 3), -1, 1)] * 2
    np.testing.assert_array_equal(d(x, training=False)[0], d(x, training=False)[0])
    assert not np.array_equal(d(x, training=True)[0], d(x, training=True)[0])


@pytest.mark.parametrize("arch,size", [("faces", 16), ("resnet", 16)])
def test_every_sharing_depth_builds_and_shares_by_identity(arch, size):
    shape = (size, size, 3)
    from scogan.nets import GENERATORS

    n = len(GENERATORS.get(arch)(shape, TINY).blocks)
    for shared in range(n):
        g = build_generators(arch, shape, 2, shared, 100, TINY)
        images = g(tf.random.uniform((2, 100), -1, 1))
        assert [tuple(x.shape) for x in images] == [(2, size, size, 3)] * 2
        a, b = ({id(v) for v in m.trainable_variables} for m in g.domain_models)
        assert (a & b) == {id(v) for v in g.shared_variables} and bool(a & b) == (shared > 0)
    with pytest.raises(ValueError, match=f"allowed range is 0..{n - 1}"):
        build_generators(arch, shape, 2, n, 100, TINY)
    d_blocks = 5  # 16x16: 3 convolutions, hidden, logit
    for shared in range(d_blocks):
        d = build_discriminators("faces", [shape] * 2, shared, TINY)
        assert len(d([tf.zeros((2, *shape))] * 2)) == 2 and bool(d.shared_variables) == (shared > 0)


def test_resnet_generator_shape_upsampling_and_residual_identity():
    g = build_generators("resnet", (64, 64, 3), 2, None, 100, NetOptions(width=0.0625, upsample="resize"))
    assert _shapes(g)[:3] == [(4, 4, 16), (8, 8, 16), (16, 16, 16)] and _shapes(g)[-1] == (64, 64, 3)
    assert g.shared_layers == 9 and any(isinstance(x, tf.keras.layers.UpSampling2D) for x in g.model.layers)
    block = ResidualBlock(4)
    x = tf.random.normal((2, 5, 5, 4))
    block(x)
    for conv in (block.conv1, block.conv2):
        conv.kernel.assign(tf.zeros_like(conv.kernel))
    np.testing.assert_allclose(block(x, training=False), x, atol=1e-6)  # zero branch: identity
    with pytest.raises(ValueError, match="3 input channels, expected 4"):
        block(tf.zeros((1, 5, 5, 3)))


def test_resnet_generator_is_built_from_standard_layers_with_a_shared_trunk():
    """No custom layer class (the exports load with plain Keras); the residual trunk's
    layers exist once, in both domains' models; each block has 2 (3x3 conv + BN) of 256 * width."""
    options = NetOptions(width=0.0625)
    g = build_generators("resnet", (32, 32, 1), 2, None, 100, options)
    assert {type(layer).__module__.split(".")[0] for layer in g.model.layers} == {"keras"}
    one, two = ({id(layer) for layer in m.layers} for m in g.domain_models)
    residual = [layer for layer in g.model.layers if "_residual_" in layer.name]
    assert len(residual) == 6 * 6 and {id(layer) for layer in residual} <= one & two
    assert sum(isinstance(layer, tf.keras.layers.Add) for layer in residual) == 6
    blocks = [b for block in g.shared_blocks for b in block if isinstance(b, ResidualBlock)]
    c = options.channels(256)
    assert len(blocks) == 6 and all(
        sum(int(np.prod(v.shape)) for v in b.trainable_variables) == 2 * (9 * c * c + c) + 2 * 2 * c for b in blocks)
    assert sum(sum(int(np.prod(v.shape)) for v in layer.weights) for layer in residual) == \
        6 * (2 * (9 * c * c + c) + 2 * 4 * c)
    z = tf.random.uniform((2, 100), -1, 1)
    np.testing.assert_allclose(g.model(z)[0], g.domain_models[0](z), atol=1e-6)


def test_auto_picks_the_face_nets_by_image_size():
    assert AUTO_ARCHITECTURES[32] == "digit"
    assert [resolve_architecture("auto", (s, s, 3)) for s in (64, 128, 256)] == ["faces"] * 3
    with pytest.raises(ValueError, match="power of two"):
        build_generators("faces", (48, 48, 3), 2, None, 100, TINY)


# -- a few CoGAN iterations on every dataset family, shared and unshared ------------------------

def _task(family, tmp_path, shared_datasets):
    if family == "svhn":
        write_svhn(tmp_path, n=16)
        return load_task("mnist2svhn", DataOptions(str(tmp_path)))
    if family == "mnistm":
        return load_task("mnist2mnistm", DataOptions(source="bundled", background_dir=str(
            shared_datasets / "celeba" / "img_align_celeba")))
    if family == "usps":
        return load_task("mnist2usps", DataOptions(str(shared_datasets), "raw"))
    if family == "celeba":
        _fake_celeba(tmp_path, n=12)
        return load_task("celeba", DataOptions(str(tmp_path), "raw", image_size=16))
    if family == "cyclegan":
        _fake_cyclegan(tmp_path, count=4)
        return load_task("horse2zebra", DataOptions(str(tmp_path), "raw", image_size=16))
    for name in ("a", "b"):
        for i in range(4):
            write_image(tmp_path / name / f"{i}.png", mode="L" if i % 2 else "RGB")
    return load_task("folders", DataOptions(domain_dirs=(str(tmp_path / "a"), str(tmp_path / "b")), image_size=16))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("family", ["svhn", "mnistm", "usps", "celeba", "cyclegan", "folders"])
def test_short_cogan_runs_shared_and_unshared(family, tmp_path, shared_datasets):
    task = _task(family, tmp_path / "data", shared_datasets)
    size = task.image_shapes[0][0]
    digits = size == 32  # the digit nets; image files at 16x16 the face nets (CycleGAN: ResNet G)
    first = "auto" if digits else "resnet" if family == "cyclegan" else "faces"
    for shared, g_arch in ((None, first), (0, "auto" if digits else "faces")):
        config = tiny_config(batch_size=2, iterations=2, images_while_training=0, shared_layers=shared,
                             d_shared_layers=shared, g_arch=g_arch, d_arch="auto" if digits else "faces",
                             cogan_data=task.name)
        trainer = CoGANTrainer(config, task, tmp_path / f"run{shared}")
        losses = trainer.train()
        assert losses and all(np.isfinite(v) for v in losses.values())
        assert (tmp_path / f"run{shared}" / "samples" / "final.png").exists()


def test_the_users_horse2zebra_wgan_gp_command(tmp_path):
    _fake_cyclegan(tmp_path / "D", count=5)
    run = tmp_path / "run"
    code = main.main(["--cogan_data", "horse2zebra", "--loss", "wgan", "--penalty", "wgan-gp",
                      "--data_dir", str(tmp_path / "D"), "--iterations", "2", "--width", "0.0625",
                      "--image_size", "64", "--batch_size", "4", "--dir", str(run)])
    assert code == 0
    assert (run / "samples" / "final.png").exists() and (run / "generators.keras").exists()
    import keras

    model = keras.models.load_model(run / "generators.keras")
    assert [tuple(x.shape) for x in model(tf.zeros((1, 100)))] == [(1, 64, 64, 3)] * 2
