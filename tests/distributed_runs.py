"""Runs for tests/test_distribute.py, in a process of their own: ``python distributed_runs.py
CHECK OUT_DIR`` prints one JSON line of results.

The CPU is split into two logical devices first, which has to happen before TensorFlow
initialises its devices: hence a separate process, not the pytest one. CHECK is

  equivalence  each case trained for a few steps by one device (``--strategy default``) and by
               two mirrored replicas (``--sync_batch_norm``) on the same global batch, dropout
               off; the largest difference of any checkpointed float variable, how far the
               weights moved, and whether every variable's replica copies agree
  resume       a mirrored SCoGAN run (defaults: per-replica BatchNorm, dropout on) trained
               straight through (checkpoints every 2 steps), and a copy of it cut back to its
               half-way checkpoint resumed by a new trainer: the largest weight difference, and
               whether the replica copies agree; then what
               each replica draws: noise and GP weights (its rows of one global draw) and
               dropout masks (independent per replica, not without the seed offset); and the
               error for a global batch of 7 on two replicas; and a mirrored run with huge
               learning rates, which the divergence guard stops; and ``equivalence``'s comparison
               for a CoGAN under --precision mixed_bfloat16 and mixed_float16

The equivalence cases use SGD without momentum, whose update is linear in the gradient, so
the comparison measures the gradient itself: float32 rounding of a differently ordered sum.
Adam's update g / sqrt(v) magnifies that rounding where a gradient is near 0 (measured: 4e-5
after 3 CoGAN steps against 6e-8 with SGD).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from scogan.data import DataOptions, load_task  # noqa: E402
from scogan.trainers import TRAINERS  # noqa: E402
from scogan.utils.config import Config  # noqa: E402

TINY = dict(width=0.0625, d_width=0.0625, batch_size=8, log_every=1, checkpoint_every=1000,
            images_while_training=0, data_source="bundled")
# The cases of ``equivalence``: every loss, penalty and regulariser reduction of the step.
SGD = dict(optim_d="sgd", optim_g="sgd", b1=0.0)
EQUIVALENCE = {
    # ce loss, weight decay, shared layers (shared_gradient mean), BatchNorm in G (synchronised)
    "cogan": dict(gan_type="cogan", shared_gradient="mean", iterations=3, **SGD),
    # WGAN loss, gradient penalty (2 critic updates a step), the feature regulariser
    "scogan": dict(gan_type="scogan", gen_penalty="feature", disc_iters=2, iterations=2, **SGD),
    # the source classification and feature agreement terms (labels split with the images)
    "uda": dict(gan_type="uda", uda_protocol="full", iterations=2, **SGD),
    # the classifier's cross-entropy over two domains' batches
    "classifier": dict(gan_type="classifier", classifier_domains="all", iterations=3, **SGD),
}


def trainer_for(changes: dict, run_dir: Path, without_dropout: bool = False):
    config = Config(**{**TINY, **changes})
    task = load_task(config.cogan_data, DataOptions(source="bundled", seed=config.seed))
    trainer = TRAINERS.get(config.gan_type)(config, task, run_dir)
    if without_dropout:  # masks are drawn per replica, so they cannot match one device's
        for model in trainer.models():
            for layer in _layers(model):
                if isinstance(layer, keras.layers.Dropout):
                    layer.rate = 0.0
    return trainer


def _layers(layer):
    yield layer
    for inner in getattr(layer, "layers", None) or []:
        yield from _layers(inner)


def weights(trainer) -> dict[int, np.ndarray]:
    """Every checkpointed variable by its position (names carry per-process Keras counters)."""
    return {i: np.asarray(v.numpy()) for i, v in enumerate(trainer.checkpoint_variables())}


def copies_agree(trainer) -> bool:
    """Every replica holds the same value of every variable."""
    for variable in trainer.checkpoint_variables():
        inner = getattr(variable, "value", variable)
        copies = getattr(inner, "values", None)
        if copies and not all(np.array_equal(copies[0].numpy(), c.numpy()) for c in copies[1:]):
            return False
    return True


def largest_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64))))
               for k in a if a[k].dtype.kind == "f")


def compare(changes: dict, out: Path, name: str) -> dict:
    """The run ``changes`` trained by one device and by two mirrored replicas
    (``--sync_batch_norm``) on the same global batch, dropout off: the largest weight
    difference, how far the weights moved, the scale of the weights, the replica count and
    whether every variable's replica copies agree."""
    single = trainer_for(changes, out / f"{name}_single", without_dropout=True)
    initial = weights(single)
    single.train()
    mirrored = trainer_for({**changes, "strategy": "mirrored", "sync_batch_norm": True},
                           out / f"{name}_mirrored", without_dropout=True)
    mirrored.train()
    scale = max(float(np.max(np.abs(w))) for w in weights(single).values() if w.dtype.kind == "f")
    return {"difference": largest_difference(weights(single), weights(mirrored)),
            "moved": largest_difference(weights(single), initial),
            "scale": scale, "replicas": mirrored.replicas, "copies_agree": copies_agree(mirrored)}


def equivalence(out: Path) -> dict:
    return {name: compare(changes, out, name) for name, changes in EQUIVALENCE.items()}


def resume(out: Path) -> dict:
    # WGAN-GP, the feature and cycle terms (the encoder and its optimizer are checkpointed too)
    changes = dict(gan_type="scogan", gen_penalty="feature", use_cycle=True, disc_iters=1, iterations=4,
                   checkpoint_every=2, strategy="mirrored")
    straight = trainer_for(changes, out / "straight")
    straight.train()
    shutil.copytree(out / "straight", out / "resumed")
    for path in (out / "resumed" / "checkpoints").glob("ckpt-4.*"):
        path.unlink()  # a run stopped after its checkpoint at step 2
    resumed = trainer_for({**changes, "resume": True}, out / "resumed")
    half_way = weights(resumed) if resumed.restore() == 2 else {}
    resumed.train()
    return {"difference": largest_difference(weights(straight), weights(resumed)),
            "moved": largest_difference(weights(straight), half_way),
            "step": int(resumed.step), "restored": Path(resumed.restored_checkpoint).name,
            "copies_agree": copies_agree(straight), "draws": draws(out), "odd_batch_error": odd_batch_error(out),
            "diverged": diverged(out), "mixed": mixed(out)}


def mixed(out: Path) -> dict:
    """A CoGAN in each mixed policy (float16's loss scale included), compared as in ``equivalence``."""
    return {precision: compare(dict(gan_type="cogan", iterations=2, precision=precision, **SGD), out, precision)
            for precision in ("mixed_bfloat16", "mixed_float16")}


def diverged(out: Path) -> dict:
    """A mirrored run with huge learning rates: the guard's verdict and the status it wrote."""
    from scogan.trainers.guard import Diverged
    from scogan.utils.run_dir import read_status

    trainer = trainer_for(dict(gan_type="cogan", iterations=20, lr_d=1e6, lr_g=1e6, strategy="mirrored"),
                          out / "diverged")
    try:
        trainer.train()
    except Diverged as error:
        return {"message": str(error), "status": read_status(out / "diverged")}
    return {}


def odd_batch_error(out: Path) -> str:
    """The message for a global batch the two replicas cannot share."""
    from scogan.utils.config import ConfigurationError

    try:
        trainer_for(dict(gan_type="cogan", batch_size=7, strategy="mirrored"), out / "odd")
    except ConfigurationError as error:
        return str(error)
    return ""


def draws(out: Path) -> dict:
    trainer = trainer_for(dict(gan_type="cogan", iterations=1, strategy="mirrored"), out / "draws")
    twin = trainer_for(dict(gan_type="cogan", iterations=1), out / "twin")
    strategy = trainer.strategy
    with strategy.scope():
        dropout = keras.layers.Dropout(0.5, seed=1)
        states = [v for v in dropout.variables if "seed_generator_state" in v.path]

    def replica_draws():
        from scogan.trainers import distribute

        plain = dropout(tf.ones([4, 64]), training=True)
        with distribute.replica_dropout_seeds(states):
            mask = dropout(tf.ones([4, 64]), training=True)
        return trainer.noise(8), trainer.interpolation_weights(), mask, plain

    noise, alpha, mask, plain = (strategy.experimental_local_results(x)
                                 for x in tf.function(lambda: strategy.run(replica_draws), autograph=False)())
    return {
        "noise_rows": bool(np.array_equal(np.concatenate(noise), twin.noise(8).numpy())),
        "alpha_rows": bool(np.array_equal(np.concatenate(alpha), twin.interpolation_weights().numpy())),
        "rng_states_agree": bool(np.array_equal(trainer.rng.state.numpy(), twin.rng.state.numpy())),
        "masks_differ": not np.array_equal(mask[0].numpy(), mask[1].numpy()),
        "masks_without_offset_equal": bool(np.array_equal(plain[0].numpy(), plain[1].numpy())),
        "seed_states_agree": all(np.array_equal(c.numpy(), s.value.values[0].numpy())
                                 for s in states for c in s.value.values),
    }


CHECKS = {"equivalence": equivalence, "resume": resume}

if __name__ == "__main__":
    check, out_dir = sys.argv[1], Path(sys.argv[2])
    print(json.dumps({check: CHECKS[check](out_dir)}))
