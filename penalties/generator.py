"""The SCoGAN couplings between generators (thesis chapter 4), as pure functions.

Each takes what the k generators produced for one batch of latent vectors and
returns an unweighted scalar; ``trainers.scogan`` weights them and adds each once to
the summed generator loss. Adding a coupling term once to ``sum_i L_Gi`` gives every
generator the same gradient as the thesis, which adds it to each ``L_Gi`` and updates
each generator with its own loss. With k > 2 domains a pairwise term is averaged over
all pairs of domains (for k = 2 it is the thesis' term).

``--gen_penalty`` names the registered generator penalty (``GENERATOR_PENALTIES``):
``none`` or ``feature``. The semantic, cycle and perceptual terms have their own flags
(``--semantic_loss``, ``--use_cycle``, ``--perceptual_loss``), as in the thesis framework.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import tensorflow as tf

from scogan.utils.registry import Registry


def _pairs(items: Sequence) -> list[tuple]:
    pairs = list(itertools.combinations(items, 2))
    if not pairs:
        raise ValueError("a coupling term needs at least two domains")
    return pairs


def _mean_over_pairs(values: Sequence[tf.Tensor], distance: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]) -> tf.Tensor:
    return tf.add_n([distance(a, b) for a, b in _pairs(values)]) / len(_pairs(values))


def _mse(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.math.squared_difference(a, b))


def feature_difference(features: Sequence[Sequence[tf.Tensor]], num_layers: int) -> tf.Tensor:
    """FR (Eq. 4.1 as the thesis code computes it): sum_{k=1..K} mean (G_1^k(z) - G_2^k(z))^2.

    ``features[d]`` lists generator d's compared feature maps, first to last, for the same
    z; the first ``num_layers`` = K are compared. The sum, not Eq. 4.1's (1/K) sum, is what
    the thesis' Listing 6.10 and its prototype (mushkanT/P10Project, ``Code/Penalties.py``,
    ``GeneratorPenalties.feature_regularizer``: ``distance + tf.reduce_mean(
    tf.math.squared_difference(g1_batch[idx], g2_batch[idx]))`` for idx < K) compute, and
    what produced its tables; alpha_FR weighs it, so with K = 3 it weighs three times what
    Eq. 4.1 would.

    Which maps (``trainers.scogan``): the outputs of the K generator blocks after the
    projection of z, i.e. for the Table 3.1 digit generator with K = 3 the ConvTranspose
    1024 (4x4), 512 (8x8) and 256 (16x16) blocks. That is what the prototype compares
    with the Table 3.1 net (``Code/Nets.py``, ``cogan_generators_digit_noshare`` with
    ``--use_firstlayer``: its feature list is those three blocks, then the image; it
    shares the fully connected projection between the two generators, so that layer is
    never compared, and leaves the 128-channel block out of the list). Its default,
    Caffe-style net has no 1024 block, so there K = 3 compares the 512 and 256 blocks and
    the output image, and its ``--shared_layers`` default is 2 where the thesis states
    K = 3 (Sec. 4.1). Here nothing is shared, the projection included.
    """
    if not 1 <= num_layers <= min(len(f) for f in features):
        raise ValueError(f"the feature regulariser compares 1..{min(len(f) for f in features)} "
                         f"blocks, not {num_layers}")
    per_layer = [_mean_over_pairs([f[k] for f in features], _mse) for k in range(num_layers)]
    return tf.add_n(per_layer)


def semantic_difference(predictions: Sequence[tf.Tensor]) -> tf.Tensor:
    """SL (Eq. 4.2, Listing 6.15): mean (delta(G_1(z)) - delta(G_2(z)))^2 of the classifier outputs.

    The thesis code takes the mean squared difference (its equation halves it); we follow
    the code, which produced its tables.
    """
    return _mean_over_pairs(predictions, _mse)


def latent_reconstruction(z: tf.Tensor, reconstructions: Sequence[tf.Tensor], distance: str = "l1") -> tf.Tensor:
    """CC (Eq. 4.3, Listing 6.16): sum over domains of the error of F(G_d(z)) against z.

    ``l1``: mean absolute error (the thesis code); ``l2``: mean squared error (its equation).
    """
    if distance not in ("l1", "l2"):
        raise ValueError(f"unknown cycle distance {distance!r}; valid: l1, l2")
    error = tf.abs if distance == "l1" else tf.square
    return tf.add_n([tf.reduce_mean(error(r - z)) for r in reconstructions])


def content_difference(content: Sequence[Sequence[tf.Tensor]]) -> tf.Tensor:
    """PL's feature reconstruction term (Eq. 4.5, Listing 6.18): the mean over content layers
    of mean (phi_j(G_1(z)) - phi_j(G_2(z)))^2. ``content[d][j]``: domain d, layer j."""
    layers = len(content[0])
    return tf.add_n([_mean_over_pairs([c[j] for c in content], _mse) for j in range(layers)]) / layers


def style_difference(fake_grams: Sequence[tf.Tensor], real_grams: Sequence[tf.Tensor]) -> tf.Tensor:
    """PL's style reconstruction term for one domain: the mean over style layers of
    mean (Gram_j(G_d(z)) - Gram_j(x_d))^2, generated and real images paired in batch order
    (an estimate of E_x SRL(G_d(z), x), Eq. 4.5; Listing 6.18)."""
    return tf.add_n([_mse(f, r) for f, r in zip(fake_grams, real_grams, strict=True)]) / len(fake_grams)


GENERATOR_PENALTIES: Registry[Callable | None] = Registry("generator penalty")
GENERATOR_PENALTIES.register("none")(None)
GENERATOR_PENALTIES.register("feature")(feature_difference)
