"""Generator inversion: the z whose image G(z) best reconstructs a given image.

CoGAN paper, Sec. 5 (cross-domain transformation): for an image x_1 of domain 1,

    z* = argmin_z  L(G_1(z), x_1),      then  x_2 = G_2(z*)

with the Euclidean loss and L-BFGS. Here L is ``l2`` (mean squared difference over the
pixels of images in [-1, 1], the Euclidean loss up to a constant factor) or ``lpips``
(LPIPS AlexNet distance plus that mean squared difference: LPIPS alone barely sees a
global shift of intensity). The search runs from several random starts per image and
keeps the best; every start is an independent problem, and the problems are solved in
batches: one generator call evaluates a batch of latent vectors, and the summed loss is
minimised jointly, which, the problems being separable, has each problem's own gradient.

Optimisers: ``lbfgs`` is scipy's L-BFGS-B on the batch (``tensorflow_probability`` is not
a dependency), with TensorFlow gradients, the box [-1, 1]^D as bounds for uniform z;
``adam`` is Adam on z, projected back onto the box after each step, keeping per problem the
best z met.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import tensorflow as tf

from scogan.inference.errors import InferenceError

# Problems (latent vectors) per optimisation batch: small enough that one problem's line
# search is little disturbed by the others, large enough for efficient generator calls.
INVERSION_BATCH = 64
ADAM_BETAS, ADAM_EPSILON = (0.9, 0.999), 1e-8

Loss = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]  # (generated, target) NHWC -> (N,) per image


def l2_loss(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Mean squared difference per image: (N, H, W, C), (N, H, W, C) in [-1, 1] -> (N,)."""
    return tf.reduce_mean(tf.square(generated - target), axis=[1, 2, 3])


def lpips_loss(lpips) -> Loss:
    """LPIPS distance plus ``l2_loss``, per image (N,); ``lpips`` a ``metrics.lpips.LPIPS``."""
    def loss(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        return lpips(generated, target) + l2_loss(generated, target)
    return loss


def make_loss(name: str, image_shape: tuple[int, int, int]) -> Loss:
    """The ``--translate_loss`` by name; lpips loads the pretrained weights (or raises
    LPIPSWeightsUnavailable) and needs images of at least 32x32."""
    if name == "l2":
        return l2_loss
    if name == "lpips":
        from scogan.metrics.lpips import LPIPS, MIN_IMAGE_SIZE

        if min(image_shape[:2]) < MIN_IMAGE_SIZE:
            raise InferenceError(f"--translate_loss lpips needs images of at least {MIN_IMAGE_SIZE}x"
                                 f"{MIN_IMAGE_SIZE}; this run's are {image_shape[0]}x{image_shape[1]} (use l2)")
        return lpips_loss(LPIPS("alex"))
    raise InferenceError(f"--translate_loss {name!r}: choose l2 or lpips")


@dataclass(frozen=True)
class Inversion:
    """Per image i: ``z[i]`` (D,) the best latent vector found, ``loss[i]`` its reconstruction
    loss, ``restart[i]`` which start it came from; ``losses`` (restarts, N) every start's."""

    z: np.ndarray
    loss: np.ndarray
    restart: np.ndarray
    losses: np.ndarray


def _value_and_gradient(generator: Callable[[tf.Tensor], tf.Tensor], loss: Loss):
    @tf.function(reduce_retracing=True)
    def value_and_gradient(z: tf.Tensor, target: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(z)
            per_image = loss(generator(z), target)
            total = tf.reduce_sum(per_image)
        return total, per_image, tape.gradient(total, z)
    return value_and_gradient


def _lbfgs(step, z0: np.ndarray, target: tf.Tensor, steps: int, bounds: tuple[float, float] | None) -> np.ndarray:
    shape = z0.shape

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        total, _, gradient = step(tf.constant(flat.reshape(shape), tf.float32), target)
        return float(total), gradient.numpy().astype(np.float64).ravel()

    box = scipy.optimize.Bounds(bounds[0], bounds[1]) if bounds else None
    start = z0.astype(np.float64).ravel()
    if bounds:
        start = np.clip(start, *bounds)
    result = scipy.optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=box,
                                     options={"maxiter": steps, "maxcor": 20, "ftol": 1e-15, "gtol": 1e-12})
    return result.x.reshape(shape).astype(np.float32)


def _adam(step, z0: np.ndarray, target: tf.Tensor, steps: int, bounds: tuple[float, float] | None,
          learning_rate: float) -> np.ndarray:
    z = z0.astype(np.float32)
    m, v = np.zeros_like(z), np.zeros_like(z)
    best_z, best = z.copy(), np.full(len(z), np.inf, np.float32)
    (b1, b2) = ADAM_BETAS
    for t in range(1, steps + 2):
        _, per_image, gradient = step(tf.constant(z), target)
        per_image = per_image.numpy()
        better = per_image < best
        best_z[better], best[better] = z[better], per_image[better]
        if t == steps + 1:
            break  # the last evaluation only scores the last update
        g = gradient.numpy()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        z = z - learning_rate * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + ADAM_EPSILON)
        if bounds:
            z = np.clip(z, *bounds)
    return best_z


def invert(generator: Callable[[tf.Tensor], tf.Tensor], targets: np.ndarray, starts: np.ndarray, loss: Loss,
           optimizer: str = "lbfgs", steps: int = 300, bounds: tuple[float, float] | None = (-1.0, 1.0),
           learning_rate: float = 0.1, progress: Callable[[int, int], None] | None = None) -> Inversion:
    """Invert ``generator`` (z (n, D) -> (n, H, W, C) in [-1, 1], differentiable) at each target.

    Args:
        targets: (N, H, W, C) float32 in [-1, 1].
        starts: (R, N, D) initial latent vectors, R starts per image.
        optimizer: lbfgs (L-BFGS-B, at most ``steps`` iterations) or adam (``steps`` updates at
            ``learning_rate``).
        bounds: the box z is kept in (uniform z), or None (normal z: unbounded).
        progress: called with (problems done, problems in all) after each batch.
    Returns:
        ``Inversion``: per image the best of its R starts by the final loss.
    """
    if optimizer not in ("lbfgs", "adam"):
        raise InferenceError(f"--translate_optimizer {optimizer!r}: choose lbfgs or adam")
    restarts, n, dim = starts.shape
    targets = np.asarray(targets, np.float32)
    flat_starts = starts.reshape(restarts * n, dim)
    flat_targets = np.tile(targets, (restarts, 1, 1, 1))  # problem r * n + i inverts image i
    step = _value_and_gradient(generator, loss)
    found = np.empty_like(flat_starts)
    final = np.empty(restarts * n, np.float32)
    for begin in range(0, restarts * n, INVERSION_BATCH):
        batch = slice(begin, begin + INVERSION_BATCH)
        target = tf.constant(flat_targets[batch])
        if optimizer == "lbfgs":
            found[batch] = _lbfgs(step, flat_starts[batch], target, steps, bounds)
        else:
            found[batch] = _adam(step, flat_starts[batch], target, steps, bounds, learning_rate)
        final[batch] = step(tf.constant(found[batch]), target)[1].numpy()
        if progress is not None:
            progress(min(begin + INVERSION_BATCH, restarts * n), restarts * n)
    losses = final.reshape(restarts, n)
    best = np.argmin(losses, axis=0)
    z = found.reshape(restarts, n, dim)[best, np.arange(n)]
    return Inversion(z=z, loss=losses[best, np.arange(n)], restart=best, losses=losses)
