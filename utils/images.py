"""Sample grids laid out like the thesis figures, written as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> uint8 [0, 255]."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _rgb(images: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 and channels == 3 else images


def pair_grid(domains: Sequence[np.ndarray], cols: int, pad: int = 2, gap: int = 6) -> np.ndarray:
    """Rows of domain 1, then the rows of domain 2 from the same z, and so on.

    Args:
        domains: k arrays (n, H, W, C) float in [-1, 1]; image j of every domain comes
            from the same latent vector. Grayscale is repeated to RGB if any domain is RGB.
        cols: images per row; n must be a multiple of cols.
    Returns:
        uint8 (rows, cols, C) image; domains are separated by a ``gap``-pixel band.
    """
    n, h, w, _ = domains[0].shape
    if n % cols:
        raise ValueError(f"{n} images do not fill rows of {cols}")
    channels = max(d.shape[-1] for d in domains)
    rows = n // cols
    tile_h, tile_w = h + pad, w + pad
    height = len(domains) * rows * tile_h + (len(domains) - 1) * gap + pad
    grid = np.full((height, cols * tile_w + pad, channels), 255, np.uint8)
    for k, images in enumerate(domains):
        images = _rgb(to_uint8(images), channels)
        top = k * (rows * tile_h + gap)
        for j, img in enumerate(images):
            r, c = divmod(j, cols)
            y, x = top + pad + r * tile_h, pad + c * tile_w
            grid[y:y + h, x:x + w] = img
    return grid


def save_image(image: np.ndarray, path: str | Path) -> None:
    """Write a uint8 (H, W, C) grayscale or RGB image as PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = image if image.shape[-1] == 1 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), out):
        raise OSError(f"could not write {path}")
