"""The thesis' LPIPS protocol (Sec. 3.2 and Ch. 5).

For a trained run, the mean LPIPS distance (AlexNet, the thesis' default) over N pairs of
  * generated domain 1 vs generated domain 2, from the same z (``lpips_gen1_gen2``): how
    much the pair shares; it should lie below the real-vs-real baseline, but not at 0;
  * generated domain i vs real domain i, random pairs (``lpips_gen{i}_real{i}``): how well
    each GAN learned its marginal;
  * real domain 1 vs real domain 2, random pairs (``lpips_real1_real2``): the dataset's
    baseline.
With k > 2 domains, ``lpips_gen1_gen{i}`` and ``lpips_real1_real{i}`` for every i >= 2;
with one domain (``--gan_type gan``) only ``lpips_gen1_real1``. With two domains also the
off-diagonal pairs ``lpips_gen1_real2`` and ``lpips_gen2_real1`` (generated domain i vs real
domain j, random pairs), the off-diagonal cells of the thesis' Tables 3.3-3.8.
The lowest- and highest-distance generated pairs are saved as images
(``RUN/lpips_extremes/``), as thesis Figures 5.3 and 5.6 show them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from scogan.data.pipeline import real_images
from scogan.metrics.errors import require_finite
from scogan.utils.images import pair_grid, save_image

EXTREMES = 8


def _rgb_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grayscale repeated to RGB when the other side is RGB (e.g. MNIST vs MNIST-M)."""
    if a.shape[-1] != b.shape[-1]:
        a = np.repeat(a, 3, -1) if a.shape[-1] == 1 else a
        b = np.repeat(b, 3, -1) if b.shape[-1] == 1 else b
    return a, b


def lpips_scores(distance, generated: list[np.ndarray], real: list[np.ndarray]) -> tuple[dict[str, float], np.ndarray]:
    """Mean distances of the protocol, and the per-pair gen1-vs-gen2 distances.

    ``distance(a, b)`` maps two (N, H, W, C) arrays in [-1, 1] to (N,) distances.
    """
    results: dict[str, float] = {}
    pair_distances = None
    for i in range(1, len(generated)):
        d = distance(*_rgb_pair(generated[0], generated[i]))
        results[f"lpips_gen1_gen{i + 1}"] = float(np.mean(d))
        results[f"lpips_real1_real{i + 1}"] = float(np.mean(distance(*_rgb_pair(real[0], real[i]))))
        if i == 1:
            pair_distances = d
    for i, (g, r) in enumerate(zip(generated, real), start=1):
        results[f"lpips_gen{i}_real{i}"] = float(np.mean(distance(g, r)))
    if len(generated) == 2:  # the off-diagonal cells of thesis Tables 3.3-3.8
        results["lpips_gen1_real2"] = float(np.mean(distance(*_rgb_pair(generated[0], real[1]))))
        results["lpips_gen2_real1"] = float(np.mean(distance(*_rgb_pair(generated[1], real[0]))))
    return results, pair_distances


def save_extremes(generated: list[np.ndarray], distances: np.ndarray, run_dir: str | Path) -> None:
    """The EXTREMES lowest and highest gen1-vs-gen2 pairs, as grids with their scores in JSON."""
    out = Path(run_dir) / "lpips_extremes"
    order = np.argsort(distances)
    for name, idx in (("lowest", order[:EXTREMES]), ("highest", order[::-1][:EXTREMES])):
        pairs = [g[idx] for g in generated]
        save_image(pair_grid(list(_rgb_pair(*pairs[:2])) + pairs[2:], cols=len(idx)), out / f"{name}.png")
        (out / f"{name}.json").write_text(json.dumps([float(distances[i]) for i in idx], indent=1))


def lpips_metric(context, num_pairs: int) -> dict[str, float]:
    """The protocol on ``num_pairs`` pairs of a run (see the module docstring)."""
    from scogan.metrics.lpips import LPIPS, MIN_IMAGE_SIZE

    shapes = context.task.image_shapes
    if any(min(h, w) < MIN_IMAGE_SIZE or c not in (1, 3) for h, w, c in shapes):
        raise context.refuse("lpips", f"images of at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE} with 1 or 3 "
                             f"channels (its AlexNet's input), the images are {sorted(set(shapes))}",
                             f"Train at --image_size {MIN_IMAGE_SIZE} or more to use LPIPS.")
    lpips = LPIPS("alex")
    generated = context.generate(num_pairs, seed=4242)
    real = [real_images(d, num_pairs, seed=i) for i, d in enumerate(context.task.domains)]
    require_finite(real, f"the real images read from {context.task.name!r} contain")
    results, distances = lpips_scores(lpips.distance_batched, generated, real)
    if distances is not None:  # a plain GAN (one domain) has only generated-vs-real
        save_extremes(generated, distances, context.run_dir)
    return results
