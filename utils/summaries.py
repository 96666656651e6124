"""TensorBoard summaries that compare runs: HParams, evaluation scalars, speed, learning rates.

Everything is written to the run's ``RUN/logs`` (one TensorBoard run per run directory):

* ``_hparams_/session_start_info`` (``write_hparams``, at each start of training): the run's
  hyperparameters, ``HPARAM_KEYS`` read from the resolved configuration, so the runs of a
  sweep (``tensorboard --logdir runs``) line up in the HParams dashboard.
* ``_hparams_/experiment`` (``write_experiment``, after the first step of each start): the
  hyperparameters and the metrics the dashboard shows, the training losses the step logs,
  ``speed/iterations_per_second`` and the evaluation scalars ``eval/<key>`` of the run's
  ``--metrics`` (``metrics.headline_keys``).
* ``eval/<key>`` (``write_evaluation``, by ``--mode evaluate``): each evaluated value at the
  iteration of its checkpoint.
* ``lr/<optimizer>`` and ``speed/iterations_per_second`` (the training loop, every
  ``--log_every`` iterations).

TensorBoard keeps the first HParams summary of a run it reads: a resumed run writes them
again, but the dashboard goes on showing those of its first start (``iterations`` included).
With summaries of several runs, the HParams dashboard takes the experiment (its columns)
from one of them: runs of one sweep declare the same hyperparameters and metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

LOGS_DIR = "logs"
EVAL_PREFIX = "eval/"
SPEED_TAG = "speed/iterations_per_second"

# Resolved-configuration keys written as hyperparameters (those a run has, not None).
HPARAM_KEYS = (
    "gan_type", "cogan_data", "data_source", "image_size", "seed",
    "loss", "penalty", "gen_penalty", "penalty_weight_d", "penalty_weight_g", "clip", "weight_decay",
    "shared_gradient",
    "feature_layers", "active_terms", "semantic_loss", "semantic_weight", "use_cycle", "cycle_weight",
    "cycle_distance", "perceptual_loss", "content_weight", "style_weight", "content_layers", "style_layers",
    "batch_size", "iterations", "disc_iters", "optim_d", "optim_g", "lr_d", "lr_g", "b1", "b2",
    "g_arch", "d_arch", "classifier_arch", "shared_layers", "d_shared_layers", "width", "d_width",
    "noise_dim", "noise_type", "weight_init", "prelu_init", "upsample", "disc_norm",
)
# Keys that mean something for one kind of run only.
HPARAM_KEYS_OF = {
    "gan": ("gan_domain",),
    "uda": ("uda_protocol", "uda_sample_seed", "uda_class_weight", "uda_feature_weight", "uda_source_only"),
    "classifier": ("classifier_domains",),
}


def eval_tag(key: str) -> str:
    """The TensorBoard tag of evaluation result ``key``: ``eval/<key>``."""
    return f"{EVAL_PREFIX}{key}"


def lr_tag(optimizer_name: str) -> str:
    """The tag of an optimizer's learning rate: ``lr/<name>`` (``lr/d``, ``lr/g``, ...)."""
    return f"lr/{optimizer_name}"


def _scalar(value: Any) -> bool | int | float | str | None:
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value):
        return ",".join(map(str, value))  # e.g. SCoGAN's active terms
    return None


def run_hparams(resolved: Mapping[str, Any]) -> dict[str, bool | int | float | str]:
    """The hyperparameters of a run from its resolved configuration (``utils.resolved``):
    ``HPARAM_KEYS`` (and those of its ``gan_type``) with a bool, number or string value;
    a list of such values becomes one comma-separated string."""
    keys = HPARAM_KEYS + HPARAM_KEYS_OF.get(str(resolved.get("gan_type")), ())
    if str(resolved.get("cogan_data", "")).startswith("celeba"):
        keys += ("attribute",)
    values = {}
    for key in keys:
        value = _scalar(resolved.get(key))
        if value is not None:
            values[key] = value
    return values


def write_hparams(writer, resolved: Mapping[str, Any]) -> dict[str, bool | int | float | str]:
    """Write the session start summary of ``run_hparams(resolved)`` with ``writer``; returns them."""
    from tensorboard.plugins.hparams import api as hp

    values = run_hparams(resolved)
    with writer.as_default():
        hp.hparams(values)
    return values


def write_experiment(writer, hparams: Mapping[str, Any], training_tags: Iterable[str],
                     eval_keys: Iterable[str]) -> list[str]:
    """Write the HParams experiment summary: ``hparams``' names, and as metrics the scalar
    tags ``training_tags`` (logged by training) and ``eval/<key>`` for ``eval_keys`` (written
    by ``--mode evaluate``). Returns the metric tags declared."""
    from tensorboard.plugins.hparams import api as hp

    metrics = [hp.Metric(tag, dataset_type=hp.Metric.TRAINING) for tag in training_tags]
    metrics += [hp.Metric(eval_tag(key), display_name=f"{key} (evaluation)", dataset_type=hp.Metric.VALIDATION)
                for key in eval_keys]
    with writer.as_default():
        hp.hparams_config(hparams=[hp.HParam(name) for name in hparams], metrics=metrics)
    return [metric.as_proto().name.tag for metric in metrics]


def write_evaluation(writer, results: Mapping[str, float], iteration: int) -> None:
    """Each value of ``results`` as the scalar ``eval/<key>`` at step ``iteration``."""
    import tensorflow as tf

    with writer.as_default(step=int(iteration)):
        for key, value in sorted(results.items()):
            tf.summary.scalar(eval_tag(key), float(value))
    writer.flush()


def evaluation_writer(run_dir: str | Path):
    """A summary writer into ``RUN/logs``, beside the training events (a new events file)."""
    import tensorflow as tf

    return tf.summary.create_file_writer(str(Path(run_dir) / LOGS_DIR))


__all__ = ["EVAL_PREFIX", "HPARAM_KEYS", "LOGS_DIR", "SPEED_TAG", "eval_tag", "evaluation_writer", "lr_tag",
           "run_hparams", "write_evaluation", "write_experiment", "write_hparams"]
