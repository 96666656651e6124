"""--precision (Keras mixed policies, float16 loss scaling) and --jit (XLA) in the trainers.

What is checked: the nets compute in 16 bits while variables, outputs and losses are float32;
the policy never outlives a trainer's construction; short runs stay finite and close to
float32 (tolerances at each test); float16 loss scaling (scaled gradients, skipped overflow
steps the divergence guard accepts, real divergence it reports, state in checkpoints, exact
resume); the precision saved with the run and used again by --resume and the inference modes;
the hardware warnings; XLA: the same step as without it on the same random draws, a real
run, and a clear error for an operation XLA cannot compile.
"""

from __future__ import annotations

import csv
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from scogan import main
from scogan.trainers import TRAINERS, CoGANTrainer, loss_scaling
from scogan.trainers.updates import apply_update, make_optimizer
from scogan.utils.config import ConfigurationError, parse_config
from scogan.utils.precision import (
    as_float32,
    compute_dtype,
    cpu_flags,
    dtype_policy,
    hardware_warnings,
)
from tests.conftest import tiny_config

MIXED = ("mixed_bfloat16", "mixed_float16")
LOW = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


@pytest.fixture(autouse=True)
def _float32_policy_around_each_test():
    """Every test starts and must end with the default policy (a leak fails the test)."""
    assert keras.config.dtype_policy().name == "float32"
    yield
    assert keras.config.dtype_policy().name == "float32", "a dtype policy leaked out of the test"


@pytest.fixture(autouse=True)
def _quiet_hardware_warnings(recwarn):
    """float16 on this CPU warns (tested below); the other tests need not see it."""
    yield


def _losses(run_dir) -> list[dict[str, float]]:
    with open(run_dir / "losses.csv", newline="") as handle:
        return [{k: float(v) for k, v in row.items() if k not in ("step", "seconds")} for row in csv.DictReader(handle)]


def _run(config, task, run_dir, trainer_class=None):
    trainer = (trainer_class or TRAINERS.get(config.gan_type))(config, task, run_dir)
    trainer.train()
    return trainer, _losses(run_dir)


def _largest_relative_difference(rows, reference, keys) -> float:
    return max(abs(r[k] - f[k]) / max(abs(f[k]), 1e-3) for r, f in zip(rows, reference) for k in keys)


# -- the policy and the nets -------------------------------------------------------------------------
def test_the_policy_holds_inside_the_block_only_and_is_restored_after_an_error():
    with dtype_policy("mixed_bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
        assert keras.layers.Dense(2).dtype_policy.compute_dtype == "bfloat16"
    assert keras.layers.Dense(2).dtype_policy.compute_dtype == "float32"
    with pytest.raises(RuntimeError), dtype_policy("mixed_float16"):
        raise RuntimeError("building failed")
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError, match="valid choices: float32, mixed_bfloat16, mixed_float16"):
        with dtype_policy("float8"):
            pass


def test_a_trainer_whose_build_fails_leaves_no_policy_behind(edge_task, tmp_path):
    with pytest.raises(ValueError, match="at least two domains"):
        CoGANTrainer(tiny_config(precision="mixed_bfloat16"), edge_task.select(0), tmp_path)
    # the autouse fixture checks the policy is float32 again


def _layers(model):
    return [layer for layer in model.layers if layer.weights]


@pytest.mark.parametrize("precision", MIXED)
@pytest.mark.parametrize("gan_type", ["cogan", "scogan", "uda"])
def test_mixed_nets_compute_in_16_bits_with_float32_weights_outputs_and_heads(precision, gan_type, edge_task,
                                                                              tmp_path):
    extra = {"scogan": dict(use_cycle=True, gen_penalty="feature"), "uda": dict(uda_protocol="full")}
    trainer = TRAINERS.get(gan_type)(tiny_config(gan_type=gan_type, precision=precision,
                                                 **extra.get(gan_type, {})), edge_task, tmp_path)
    low = LOW[precision]
    generator, discriminator = trainer.generator.domain_models[0], trainer.discriminator.domain_models[0]
    # every layer with weights computes in 16 bits except the output block
    assert {layer.dtype_policy.compute_dtype for layer in _layers(generator)[:-1]} == {low}
    assert {layer.dtype_policy.compute_dtype for layer in _layers(discriminator)[:-1]} == {low}
    assert _layers(generator)[-1].dtype_policy.compute_dtype == _layers(discriminator)[-1].dtype_policy.compute_dtype \
        == "float32"
    assert compute_dtype(trainer.generator.model) == low
    assert {v.dtype for v in trainer.checkpoint_variables() if "float" in str(v.dtype)} == {"float32"}
    z = trainer.noise(4)
    images = trainer.generate(z)
    assert all(x.dtype == tf.float32 for x in images)
    assert all(x.dtype == tf.float32 for x in trainer.discriminator(images, training=False))
    # dropout draws its masks in float32, so a precision changes the rounding, not the masks
    dropouts = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts and all(layer.dtype_policy.name == "float32" for layer in dropouts)
    if gan_type == "scogan":
        assert trainer.encoder(images[0]).dtype == tf.float32
        assert _layers(trainer.encoder)[0].dtype_policy.compute_dtype == low
        features = trainer.generator.features(z)
        assert features[0][1].dtype == low  # hidden blocks: 16 bits; the regulariser casts them
        terms, logs = trainer.generator_regularisers(z, images, features, images)
        assert set(terms) == {"reg/feature", "reg/cycle"}
        assert all(v.dtype == tf.float32 for v in [*terms.values(), *logs.values()])
    if gan_type == "uda":
        logits, _, classes = trainer.classifying(images, training=False)[0]
        assert logits.dtype == classes.dtype == tf.float32
        assert trainer.domain_classifiers()[1](images[1]).dtype == tf.float32
    assert [loss_scaling.is_loss_scaled(o) for o in trainer.optimizers()] == \
        [precision == "mixed_float16"] * len(trainer.optimizers())


def test_a_classifier_trained_in_mixed_precision_judges_in_float32(tmp_path):
    from scogan.nets.classifier import digit_classifier, load_classifier, penultimate_features
    from scogan.nets.layers import NetOptions

    with dtype_policy("mixed_bfloat16"):
        mixed = digit_classifier((32, 32, 1), NetOptions(width=0.0625))
    assert compute_dtype(mixed) == "bfloat16" and mixed.output.dtype == "float32"  # probabilities in float32
    mixed.save(tmp_path / "mixed.keras")
    loaded = load_classifier(tmp_path / "mixed.keras", (32, 32, 1), 10)
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"} and not loaded.trainable
    reference = digit_classifier((32, 32, 1), NetOptions(width=0.0625))
    reference.set_weights(mixed.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), reference(x).numpy(), atol=1e-7)
    # the hidden features show the rounding (the untrained probabilities are all near 0.1)
    hidden = {name: penultimate_features(model)(x).numpy() for name, model in
              [("loaded", loaded), ("reference", reference), ("mixed", mixed)]}
    scale = np.abs(hidden["reference"]).max()
    assert np.abs(hidden["loaded"] - hidden["reference"]).max() < 1e-5 * scale
    assert np.abs(hidden["mixed"] - hidden["reference"]).max() > 5e-4 * scale  # bfloat16 does round (2^-8)
    assert as_float32(reference) is reference  # a float32 model is used as it is


def test_the_perceptual_vgg_is_float32_under_a_mixed_policy():
    from scogan.nets.vgg import vgg16_features

    with dtype_policy("mixed_bfloat16"):
        vgg = vgg16_features(["block1_conv2"], 1)
    assert {layer.dtype_policy.name for layer in vgg.layers} == {"float32"}
    assert vgg(tf.zeros((1, 8, 8, 1))).dtype == tf.float32


# -- short runs ---------------------------------------------------------------------------------------
# The relative tolerance of each logged loss against float32 after 3 steps from the same seed.
# bfloat16 keeps 8 significant bits (unit roundoff 2^-8 = 0.4%), float16 11 (0.05%); measured
# here the largest difference over the logged terms was 0.6% (bfloat16) and 0.16% (float16),
# so 3% and 1% leave about five times the measured error for other CPUs' kernels, and are
# still far below what a missing cast or wrong loss scale does (the unscaled float16 gradient
# of a 2^15-scaled loss would move the weights 32768 times too far on the first step).
TOLERANCE = {"mixed_bfloat16": 0.03, "mixed_float16": 0.01}


@pytest.fixture(scope="module")
def float32_run(tmp_path_factory):
    from scogan.data import DataOptions, load_task

    task = load_task("mnist2edge", DataOptions(source="bundled"))
    config = tiny_config(iterations=3, log_every=1, images_while_training=0)
    run_dir = tmp_path_factory.mktemp("float32")
    return task, config, _run(config, task, run_dir)[1]


@pytest.mark.parametrize("precision", MIXED)
def test_a_short_mixed_run_is_finite_and_close_to_float32(precision, float32_run, tmp_path):
    task, config, reference = float32_run
    trainer, rows = _run(config.replace(precision=precision), task, tmp_path)
    keys = [k for k in reference[0] if not k.startswith("loss_scale/")]
    assert len(rows) == len(reference) == 3
    assert all(math.isfinite(r[k]) for r in rows for k in r)
    difference = _largest_relative_difference(rows, reference, keys)
    assert 0 < difference < TOLERANCE[precision], difference  # rounded differently, but close
    if precision == "mixed_float16":  # no overflow in 3 steps: the scale stays at its start
        assert {r["loss_scale/d"] for r in rows} == {r["loss_scale/g"] for r in rows} == {2.0**15}
    assert (tmp_path / "generator1.keras").exists()
    resolved = json.loads((tmp_path / "resolved_config.json").read_text())
    assert resolved["precision"] == precision and resolved["compute_dtype"] == LOW[precision]
    assert resolved["variable_dtype"] == "float32" and resolved["loss_scaling"] == (precision == "mixed_float16")


@pytest.mark.slow
def test_a_short_scogan_run_with_penalty_and_regularisers_stays_close_in_bfloat16(edge_task, tmp_path):
    config = tiny_config(gan_type="scogan", loss="wgan", penalty="wgan-gp", disc_iters=2, gen_penalty="feature",
                         use_cycle=True, iterations=2, log_every=1, images_while_training=0)
    _, reference = _run(config, edge_task, tmp_path / "float32")
    _, rows = _run(config.replace(precision="mixed_bfloat16"), edge_task, tmp_path / "bfloat16")
    assert {"gp/1", "reg/feature", "reg/cycle"} <= set(rows[0])
    assert all(math.isfinite(r[k]) for r in rows for k in r)
    # The regularisers (float32 from float32 images and cast features) at the tolerance above.
    # WGAN critic values can cross zero, so relative errors mean nothing there; the penalty
    # (||g|| - 1)^2 multiplies the relative error of the gradient norm ||g|| by 2||g||/|1 - ||g|||,
    # about 6 at the norms of these first steps (0.7-0.8): 5 times the tolerance (measured 6%).
    keys = [k for k in reference[0] if k.startswith(("raw/", "reg/")) or k.endswith("weight_decay")]
    assert 0 < _largest_relative_difference(rows, reference, keys) < TOLERANCE["mixed_bfloat16"]
    penalties = [k for k in reference[0] if k.startswith("gp/")]
    assert _largest_relative_difference(rows, reference, penalties) < 5 * TOLERANCE["mixed_bfloat16"]


# -- float16 loss scaling -----------------------------------------------------------------------------
def _scaled_sgd(scale: float) -> tuple[keras.optimizers.Optimizer, tf.Variable]:
    variable = tf.Variable([1.0, -2.0])
    optimizer = make_optimizer("sgd", 0.1, 0.0, 0.999, "mixed_float16")
    optimizer.build([variable])
    optimizer.dynamic_scale.assign(scale)
    return optimizer, variable


def test_loss_scaled_gradients_are_scaled_then_unscaled_by_the_update():
    optimizer, variable = _scaled_sgd(1024.0)
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(variable ** 2)  # gradient 2v = [2, -4]
    np.testing.assert_allclose(loss_scaling.gradients(tape, loss, [variable], optimizer)[0].numpy(), [2048, -4096])
    assert bool(apply_update(optimizer, tape, loss, [variable]))
    np.testing.assert_allclose(variable.numpy(), [1.0 - 0.1 * 2, -2.0 + 0.1 * 4], rtol=1e-6)  # the plain SGD step
    assert float(optimizer.dynamic_scale) == 1024.0
    plain = make_optimizer("sgd", 0.1, 0.0, 0.999)
    assert not loss_scaling.is_loss_scaled(plain) and float(loss_scaling.loss_scale(plain)) == 1.0


@pytest.mark.parametrize("scale, healthy", [(4.0, True), (1.0, False)])
def test_an_overflow_is_a_skipped_step_while_the_halved_scale_stays_at_least_1(scale, healthy):
    optimizer, variable = _scaled_sgd(scale)
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(variable) * float("inf")
    assert bool(apply_update(optimizer, tape, loss, [variable])) is healthy
    np.testing.assert_array_equal(variable.numpy(), [1.0, -2.0])  # skipped: no weight moved
    assert float(optimizer.dynamic_scale) == scale / 2


def test_a_float16_overflow_step_is_not_a_divergence(edge_task, tmp_path):
    trainer = CoGANTrainer(tiny_config(precision="mixed_float16"), edge_task, tmp_path)
    trainer.d_optimizer.dynamic_scale.assign(2.0**40)  # far beyond float16's 65504: every gradient overflows
    d_before = [v.numpy().copy() for v in trainer.discriminator.trainable_variables]
    g_before = [v.numpy().copy() for v in trainer.generator.trainable_variables]
    batch = next(iter(trainer.training_data(0)))
    metrics, flags, healthy = trainer._checked_step(batch)
    assert bool(healthy) and all(bool(f) for f in flags.values())
    assert float(metrics["loss_scale/d"]) == 2.0**39 and float(metrics["loss_scale/g"]) == 2.0**15
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(d_before, trainer.discriminator.trainable_variables))
    assert not any(np.array_equal(b, v.numpy()) for b, v in zip(g_before, trainer.generator.trainable_variables))


@pytest.mark.parametrize("precision", MIXED)
def test_mixed_runs_resume_to_identical_weights_and_loss_scale_state(precision, edge_task, tmp_path,
                                                                    op_determinism):
    config = tiny_config(iterations=4, seed=3, precision=precision, images_while_training=0)
    straight = CoGANTrainer(config, edge_task, tmp_path / "straight")
    straight.train()
    CoGANTrainer(config.replace(iterations=2), edge_task, tmp_path / "resumed").train()
    second = CoGANTrainer(config, edge_task, tmp_path / "resumed")
    second.train()
    names = [getattr(v, "path", v.name) for v in second.checkpoint_variables()]
    if precision == "mixed_float16":
        assert any("dynamic_scale" in n for n in names) and any("step_counter" in n for n in names)
    for a, b in zip(straight.checkpoint_variables(), second.checkpoint_variables()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=getattr(a, "path", a.name))


# -- the saved precision --------------------------------------------------------------------------
TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "2", "--log_every", "1",
        "--checkpoint_every", "2", "--images_while_training", "0", "--data_source", "bundled"]


def test_the_precision_is_saved_and_rebuilt_by_resume_and_the_inference_modes(tmp_path, capsys):
    from scogan.inference import load_trained_run

    run = tmp_path / "run"
    assert main.main([*TINY, "--precision", "mixed_bfloat16", "--dir", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["precision"] == "mixed_bfloat16"
    assert main.main(["--resume", "--dir", str(run), "--precision", "float32"]) == 2
    assert "these options differ" in capsys.readouterr().err
    assert main.main(["--mode", "sample", "--dir", str(run), "--precision", "float32", "--out", str(tmp_path / "x")]) == 2
    assert "--precision" in capsys.readouterr().err
    assert main.main(["--resume", "--dir", str(run), "--iterations", "3"]) == 0
    assert len(_losses(run)) == 3
    config, given = parse_config(["--mode", "sample", "--dir", str(run), "--out", str(tmp_path / "out")])
    trained = load_trained_run(config, given, "sample")
    assert compute_dtype(trained.trainer.generator.model) == "bfloat16" and trained.step == 3
    assert all(x.dtype == np.float32 for x in trained.generate(np.zeros((2, 100), np.float32)))


# -- the hardware ---------------------------------------------------------------------------------
def test_the_hardware_warnings():
    assert hardware_warnings("float32", set(), []) == []
    assert "emulate" in hardware_warnings("mixed_float16", {"avx512_bf16", "avx512f"}, [])[0]
    assert hardware_warnings("mixed_float16", set(), [(8, 6)]) == []
    assert "below 7.0" in hardware_warnings("mixed_float16", set(), [(6, 1)])[0]
    assert "without AVX512_BF16 or AMX" in hardware_warnings("mixed_bfloat16", {"avx2", "fma"}, [])[0]
    assert hardware_warnings("mixed_bfloat16", {"avx512_bf16"}, []) == []
    assert hardware_warnings("mixed_bfloat16", {"amx_bf16", "amx_tile"}, []) == []
    assert "below 8.0" in hardware_warnings("mixed_bfloat16", set(), [(7, 5)])[0]
    assert hardware_warnings("mixed_bfloat16", set(), [(8, 0)]) == []


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


def test_building_a_slow_precision_warns(edge_task, tmp_path, monkeypatch):
    from scogan.utils import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    monkeypatch.setattr(precision, "gpu_capabilities", lambda: [])
    with pytest.warns(UserWarning, match="without AVX512_BF16 or AMX"):
        CoGANTrainer(tiny_config(precision="mixed_bfloat16"), edge_task, tmp_path / "a")
    with pytest.warns(UserWarning, match="emulate float16"):
        CoGANTrainer(tiny_config(precision="mixed_float16"), edge_task, tmp_path / "b")


# -- XLA ------------------------------------------------------------------------------------------
@pytest.fixture
def no_op_determinism():
    """XLA has no deterministic max-pooling gradient, and another test of this process may have
    enabled op determinism (it cannot be switched off through the public API)."""
    from tensorflow.python.framework import config as tf_config

    enabled = tf_config.is_op_determinism_enabled()
    tf_config.disable_op_determinism()
    yield
    if enabled:
        tf.config.experimental.enable_op_determinism()


class _SameDraws(CoGANTrainer):
    """z from a counter through sin, which XLA and TensorFlow's kernels compute alike (their
    random number generators draw different numbers from the same state)."""

    def build(self) -> None:
        super().build()
        self._draws = tf.Variable(0.0, trainable=False)

    def noise(self, n, rng=None):
        count = self._draws.assign_add(1.0)
        dim = self.config.noise_dim
        return tf.reshape(tf.sin(tf.range(n * dim, dtype=tf.float32) * 0.731 + count * 1.37), (n, dim))


def test_the_jit_step_is_the_plain_step_on_the_same_random_draws(edge_task, tmp_path, monkeypatch,
                                                                  no_op_determinism):
    monkeypatch.setattr(keras.layers.Dropout, "call", lambda self, inputs, training=False: inputs)
    config = tiny_config(iterations=3, log_every=1, images_while_training=0)
    _, plain = _run(config, edge_task, tmp_path / "plain", _SameDraws)
    _, jit = _run(config.replace(jit=True), edge_task, tmp_path / "jit", _SameDraws)
    assert len(jit) == 3 and all(math.isfinite(v) for r in jit for v in r.values())
    # float32 throughout; XLA only fuses and reorders: rounding-level differences
    assert _largest_relative_difference(jit, plain, list(plain[0])) < 1e-4


@pytest.mark.slow
def test_a_jit_run_in_bfloat16_is_finite(edge_task, tmp_path, no_op_determinism):
    config = tiny_config(iterations=2, log_every=1, images_while_training=0, jit=True, precision="mixed_bfloat16")
    trainer, rows = _run(config, edge_task, tmp_path)
    assert len(rows) == 2 and all(math.isfinite(v) for r in rows for v in r.values())
    assert int(trainer.step) == 2 and (tmp_path / "generator2.keras").exists()


def test_jit_with_a_gradient_penalty_in_bfloat16_is_a_clear_error(edge_task, tmp_path, no_op_determinism):
    config = tiny_config(iterations=1, images_while_training=0, jit=True, precision="mixed_bfloat16", loss="wgan",
                         penalty="wgan-gp")
    with pytest.raises(ConfigurationError, match="MaxPoolGradGrad have no XLA kernel.*with --jit use --precision "
                                                 "float32"):
        CoGANTrainer(config, edge_task, tmp_path).train()


class _HostCallback(CoGANTrainer):
    def train_step(self, batches):
        metrics = super().train_step(batches)
        metrics["host"] = tf.numpy_function(lambda x: x * 2, [metrics["g_total"]], tf.float32)
        return metrics


def test_an_operation_xla_cannot_compile_is_a_clear_error(edge_task, tmp_path, no_op_determinism):
    config = tiny_config(iterations=1, images_while_training=0)
    with pytest.raises(ConfigurationError, match=r"--jit: XLA cannot compile this training step: operation\(s\) "
                                                 r"PyFunc have no XLA kernel .*run without --jit"):
        _HostCallback(config.replace(jit=True), edge_task, tmp_path / "jit").train()
    _HostCallback(config, edge_task, tmp_path / "plain").train()  # without --jit it runs
    assert json.loads((tmp_path / "jit" / "status.json").read_text())["state"] == "failed"
