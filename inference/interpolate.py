"""``--mode interpolate``: latent walks rendered in every domain (CoGAN paper, Fig. 4).

The paper samples two points of the latent space and renders the images met travelling
from one to the other; with a coupled model every domain changes in step. Each walk here
goes from z_a to z_b in ``steps`` images (both ends included).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from scogan.inference.errors import InferenceError
from scogan.inference.run import TrainedRun, check_positive, domain_keys
from scogan.utils.images import pair_grid, save_image, to_uint8

GRID_FILE, GIF_FILE, WALKS_FILE = "latent_walk.png", "latent_walk.gif", "latent_walk.npz"
DOMAIN_GAP = 8  # white pixels between the domains' blocks
FRAME_MS = 150  # GIF frame duration
GIF_MIN_TILE = 64  # GIF images are enlarged (nearest neighbour) to at least this many pixels


def lerp(z_a: np.ndarray, z_b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Linear interpolation: (W, D), (W, D), (S,) -> (W, S, D), (1 - t) z_a + t z_b.

    Stays inside the box [-1, 1]^D when both ends do (uniform z).
    """
    t = np.asarray(t, np.float64)[None, :, None]
    return ((1.0 - t) * z_a[:, None] + t * z_b[:, None]).astype(np.float32)


def slerp(z_a: np.ndarray, z_b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents), per walk:

        slerp(a, b; t) = sin((1 - t) w) / sin(w) a + sin(t w) / sin(w) b,  cos w = a.b / (|a| |b|)

    (W, D), (W, D), (S,) -> (W, S, D). For ends of equal norm every point keeps that norm,
    so a walk between normal z stays where normal z have their mass, a shell of radius
    about sqrt(D), where the midpoint of a linear walk does not. Nearly parallel ends fall
    back to ``lerp``.
    """
    a = np.asarray(z_a, np.float64)
    b = np.asarray(z_b, np.float64)
    cos = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))[:, None, None]  # (W, 1, 1)
    t = np.asarray(t, np.float64)[None, :, None]
    sin = np.sin(omega)
    parallel = sin[:, 0, 0] < 1e-6
    safe = np.where(sin < 1e-6, 1.0, sin)
    out = np.sin((1.0 - t) * omega) / safe * a[:, None] + np.sin(t * omega) / safe * b[:, None]
    if parallel.any():
        out[parallel] = lerp(a[parallel], b[parallel], t[0, :, 0])
    return out.astype(np.float32)


INTERPOLATIONS = {"linear": lerp, "slerp": slerp}


@dataclass(frozen=True)
class WalkResult:
    out: Path
    grid: Path
    gif: Path
    frames: int


def walk_grid(images: list[np.ndarray], steps: int) -> np.ndarray:
    """uint8 (rows, cols, C): one row per walk, ``steps`` images; the domains' blocks side by side.

    ``images``: per domain, (W * steps, H, W, C) float in [-1, 1], walk-major.
    """
    channels = max(x.shape[-1] for x in images)
    blocks = [pair_grid([x if x.shape[-1] == channels else np.repeat(x, channels, -1)], steps) for x in images]
    gap = np.full((blocks[0].shape[0], DOMAIN_GAP, channels), 255, np.uint8)
    parts = [blocks[0]]
    for block in blocks[1:]:
        parts += [gap, block]
    return np.concatenate(parts, axis=1)


def walk_frames(images: list[np.ndarray], walks: int, steps: int) -> list[np.ndarray]:
    """GIF frames, there and back (2 (steps - 1) frames; 1 for a single step): frame t shows
    image t of every walk (rows) in every domain (columns)."""
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    frames = []
    for t in order:
        tile = [x.reshape(walks, steps, *x.shape[1:])[:, t] for x in images]
        # pair_grid puts domains one above the other; a frame wants them side by side.
        frames.append(walk_grid(tile, 1))
    return frames


def _save_gif(frames: list[np.ndarray], tile: int, path: Path) -> None:
    scale = max(1, -(-GIF_MIN_TILE // tile))
    pictures = []
    for frame in frames:
        frame = np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)
        pictures.append(Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame))
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=FRAME_MS, loop=0,
                     optimize=False, disposal=1)


def write_latent_walks(run: TrainedRun, out: Path, walks: int, steps: int, interpolation: str,
                       seed: int) -> WalkResult:
    """Draw 2 ``walks`` latent vectors from ``seed``; walk i goes from z[2i] to z[2i + 1]. Writes

        OUT/latent_walk.png   rows = walks, columns = steps, the domains' blocks side by side
        OUT/latent_walk.gif   the walks animated, there and back (2 (steps - 1) frames), each
                              frame image t of every walk (rows) in every domain (columns),
                              enlarged to tiles of at least 64 pixels
        OUT/latent_walk.npz   z: float32 (walks, steps, noise_dim); <domain>: uint8
                              (walks, steps, H, W, C); domains: the names

    ``interpolation``: linear, or slerp (normal z only: uniform z would leave their box).
    """
    check_positive([("walks", walks), ("walk_steps", steps)])
    if interpolation not in INTERPOLATIONS:
        raise InferenceError(f"--interpolation {interpolation!r}: choose one of {', '.join(INTERPOLATIONS)}")
    if interpolation == "slerp" and run.config.noise_type != "normal":
        raise InferenceError(f"--interpolation slerp is for runs with normal z; {run.path} draws z uniformly "
                             "in [-1, 1]^D, where slerp leaves the box (use --interpolation linear)")
    ends = run.noise(2 * walks, seed)
    t = np.linspace(0.0, 1.0, steps) if steps > 1 else np.zeros(1)
    z = INTERPOLATIONS[interpolation](ends[0::2], ends[1::2], t)  # (walks, steps, D)
    images = run.generate(z.reshape(walks * steps, -1))
    out.mkdir(parents=True, exist_ok=True)
    grid_path, gif_path = out / GRID_FILE, out / GIF_FILE
    save_image(walk_grid(images, steps), grid_path)
    frames = walk_frames(images, walks, steps)
    _save_gif(frames, run.image_shape[0], gif_path)
    keys = domain_keys(run.domain_names)
    arrays = {key if key not in ("z", "domains") else f"{key}_images": to_uint8(x).reshape(walks, steps, *x.shape[1:])
              for key, x in zip(keys, images)}
    np.savez_compressed(out / WALKS_FILE, z=z, domains=np.array(run.domain_names), **arrays)
    return WalkResult(out=out, grid=grid_path, gif=gif_path, frames=len(frames))
