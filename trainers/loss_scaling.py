"""Dynamic loss scaling for ``--precision mixed_float16``: one ``LossScaleOptimizer`` per optimizer.

float16 keeps about 3 decimal digits between 6e-5 and 65504, so small gradients computed in
float16 underflow to zero. Each of a trainer's optimizers (Keras 3: one per variable set)
is wrapped in ``keras.optimizers.LossScaleOptimizer``, whose ``dynamic_scale`` s (2^15 at
the start) multiplies the loss before backpropagation; its ``apply_gradients`` divides the
gradients by s before the inner optimizer's update. When a gradient is not finite it skips
the update instead and halves s; after 2,000 updates without one it doubles s.

How the scale enters the tape (``gradients``): ``tape.gradient(loss, variables,
output_gradients=s)`` starts backpropagation at s instead of 1, which is the gradient of
s * loss without recording the product on the tape, so the trainers' tape blocks are the
same in every precision. The loss they log stays the unscaled float32 value.

The divergence guard (``trainers.base``) and skipped updates (``update_is_healthy``): a
non-finite scaled gradient is normal under float16 (the scale is probed from above), and
the skipped update changes no weight, so it is not a divergence while the scale stays at
least ``MIN_LOSS_SCALE`` (1) after halving: at scale 1 the gradients are unscaled, and a
gradient that overflows float16 even then is a real blow-up, reported as diverged
(``--on_nan``). Non-finite losses and weights are caught as in float32. The scale of each
optimizer is logged as ``loss_scale/<name>`` (``d``, ``g``, ``e``, ``classifier``).
"""

from __future__ import annotations

import keras
import tensorflow as tf

MIN_LOSS_SCALE = 1.0


def wrap(optimizer: keras.optimizers.Optimizer, precision: str) -> keras.optimizers.Optimizer:
    """``optimizer`` in a ``LossScaleOptimizer`` for ``mixed_float16``, else itself."""
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def is_loss_scaled(optimizer: keras.optimizers.Optimizer) -> bool:
    return isinstance(optimizer, keras.optimizers.LossScaleOptimizer)


def loss_scale(optimizer: keras.optimizers.Optimizer) -> tf.Tensor:
    """The optimizer's current loss scale, a float32 scalar (1 for an unscaled optimizer)."""
    if not is_loss_scaled(optimizer):
        return tf.constant(1.0)
    return tf.convert_to_tensor(optimizer.dynamic_scale)


def gradients(tape: tf.GradientTape, loss: tf.Tensor, variables, optimizer) -> list[tf.Tensor | None]:
    """d(loss)/d(variables), scaled by the optimizer's loss scale when it has one (then its
    ``apply_gradients`` unscales them), and by 1/R in a replica of a strategy with R replicas
    in sync (``--strategy``, ``trainers.distribute``): ``loss`` is the replica's mean over
    its rows and the optimizer sums the replicas' gradients, so the update is that of the
    global batch's mean (and a batch-free term such as weight decay counts once)."""
    context = tf.distribute.get_replica_context()  # None in a strategy's cross-replica context
    replicas = context.num_replicas_in_sync if context is not None else 1
    scale = 1.0 / replicas
    if not is_loss_scaled(optimizer) and replicas == 1:
        return tape.gradient(loss, variables)
    loss = tf.convert_to_tensor(loss)
    seed = tf.cast(scale * loss_scale(optimizer), loss.dtype)
    # Seeding backpropagation with the factor scales every gradient without recording the
    # product on the (closed) tape.
    return tape.gradient(loss, variables, output_gradients=seed)


def update_is_healthy(optimizer, finite: tf.Tensor) -> tf.Tensor:
    """Whether an update whose gradients were ``finite`` (or not) leaves the run healthy; call
    after ``apply_gradients``. Without loss scaling: ``finite``. With it, a skipped update
    (non-finite scaled gradients) is healthy while the halved scale is at least 1."""
    if not is_loss_scaled(optimizer):
        return finite
    return tf.logical_or(finite, loss_scale(optimizer) >= MIN_LOSS_SCALE)
