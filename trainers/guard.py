"""The divergence guard's vocabulary: how training stops early, and which term went non-finite.

``trainers.base`` checks every step (every logged value, gradient set and float variable);
on a non-finite one it names the first culprit (``first_non_finite``) and either rolls back
(``--on_nan rollback``) or raises ``Diverged``. Signals end a step with ``Interrupted``.
``main`` exits with each exception's ``exit_code``.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


class TrainingStopped(Exception):
    """Training ended early on purpose; ``exit_code`` is what ``main`` exits with."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class Interrupted(TrainingStopped):
    """SIGINT or SIGTERM: the step finished and a checkpoint was written (exit 130 / 143)."""


class Diverged(TrainingStopped):
    """A non-finite loss, gradient or weight (exit 3); the last checkpoint is the last finite one."""

    exit_code = 3


def first_non_finite(metrics: dict[str, tf.Tensor], flags: dict[str, tf.Tensor],
                     variables: list[tf.Variable]) -> tuple[str, float]:
    """The first non-finite term of a step and its value: a logged loss by name, else a
    gradient set (``flags``: name -> all finite), else the first variable holding one."""
    for name, value in metrics.items():
        value = float(tf.reduce_max(tf.abs(tf.cast(value, tf.float32))))
        if not math.isfinite(value):
            return name, value
    for name, finite in flags.items():
        if not bool(finite):
            return name, float("nan")
    for variable in variables:
        values = variable.numpy()
        if not np.isfinite(values).all():
            bad = values[~np.isfinite(values)].flat[0]
            return f"weight or optimizer state {variable.path}", float(bad)
    return "an unnamed term", float("nan")
