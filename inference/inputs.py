"""Real images for ``--mode translate``, read from files and brought to a domain's image shape.

Accepted: image files (PNG, JPEG, BMP, GIF: checked by signature and completeness as
training data is, ``data.image_files.image_problem``) and ``.npz`` files of uint8 images
(N, H, W) or (N, H, W, C). Channels are reconciled as training data is
(``data.image_files.to_channels``): alpha dropped, gray repeated to RGB, RGB to ITU-R 601
luma; an array with another channel count is an error naming its file. Images of another
size are centre-cropped to a square and resized (antialiased bilinear,
``data.image_files.square_resize``), with a note.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from scogan.data.image_files import image_problem, square_resize, to_channels
from scogan.inference.errors import InferenceError

NPZ_KEYS = ("images", "x")  # looked for when an .npz holds several arrays (besides the domain name)


@dataclass(frozen=True)
class Inputs:
    """``images`` uint8 (N, H, W, C) at the domain's shape; ``names[i]`` says where image i came
    from (a file, or ``file.npz[key][j]``); ``notes``: conversions made, one line each."""

    images: np.ndarray
    names: tuple[str, ...]
    notes: tuple[str, ...]


def _decode_file(path: Path) -> np.ndarray:
    problem = image_problem(str(path))
    if problem is not None:
        raise InferenceError(f"--inputs {path}: {problem}")
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=0, expand_animations=False)
    except tf.errors.OpError as error:
        first = (error.message or type(error).__name__).splitlines()[0][:200]
        raise InferenceError(f"--inputs {path}: cannot be decoded ({first})") from None
    return image.numpy()[None]


def _npz_images(path: Path, domain_name: str) -> tuple[np.ndarray, str]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:  # not a zip: numpy's ValueError
        raise InferenceError(f"--inputs {path}: not a readable .npz file ({error})") from None
    if not arrays:
        raise InferenceError(f"--inputs {path}: the .npz file holds no arrays")
    if len(arrays) == 1:
        key = next(iter(arrays))
    else:
        key = next((k for k in (domain_name, *NPZ_KEYS) if k in arrays), None)
        if key is None:
            raise InferenceError(f"--inputs {path}: holds {', '.join(sorted(arrays))}; name the images "
                                 f"{domain_name!r} (the input domain) or 'images'")
    images = arrays[key]
    if images.dtype != np.uint8:
        raise InferenceError(f"--inputs {path}[{key}]: images must be uint8 (0-255), got {images.dtype}")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[0] == 0:
        raise InferenceError(f"--inputs {path}[{key}]: expected uint8 images (N, H, W) or (N, H, W, C), "
                             f"got shape {images.shape}")
    return images, key


def _reconcile(images: np.ndarray, shape: tuple[int, int, int], where: str, notes: dict[str, int]) -> np.ndarray:
    """uint8 (N, h, w, c) -> (N, H, W, C) at ``shape``; ``notes`` counts the conversions made."""
    height, width, channels = shape
    c = images.shape[-1]
    if c not in (1, 2, 3, 4):
        raise InferenceError(f"--inputs {where}: images with {c} channels cannot be made "
                             f"{'grayscale' if channels == 1 else 'RGB'} (1 gray, 2 gray+alpha, "
                             "3 RGB or 4 RGBA channels can)")
    if c != channels:
        kinds = {1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"}
        target = "grayscale (ITU-R 601 luma)" if channels == 1 else "RGB (gray repeated)"
        if c in (2, 4) and c - 1 == channels:
            target = f"{kinds[channels]} (alpha dropped)"
        key = f"{kinds[c]} inputs converted to {target}"
        notes[key] = notes.get(key, 0) + len(images)
        images = to_channels(tf.constant(images), channels).numpy()
    if images.shape[1:3] != (height, width):
        key = (f"inputs of {images.shape[1]}x{images.shape[2]} centre-cropped to a square and resized to "
               f"{height}x{width} (antialiased bilinear)")
        notes[key] = notes.get(key, 0) + len(images)
        if height == width:
            images = square_resize(tf.constant(images), height).numpy()
        else:
            resized = tf.image.resize(tf.constant(images), (height, width), method="bilinear", antialias=True)
            images = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8).numpy()
    return images


def load_inputs(paths: Sequence[str] | None, shape: tuple[int, int, int], domain_name: str) -> Inputs:
    """Every image of ``paths`` (files and .npz files, in order) as uint8 at ``shape`` (H, W, C).

    InferenceError (naming the file) for a missing, unreadable or undecodable file, an .npz
    that is not uint8 images, or a channel count that cannot be reconciled.
    """
    if not paths:
        raise InferenceError("--mode translate needs --inputs PATH ..., image files or .npz files of the "
                             "input domain")
    images, names, notes = [], [], {}
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise InferenceError(f"--inputs {text}: no such file")
        if path.is_dir():
            raise InferenceError(f"--inputs {text} is a folder; pass its image files (e.g. {text}/*.png)")
        if path.suffix.lower() == ".npz":
            batch, key = _npz_images(path, domain_name)
            names += [f"{text}[{key}][{j}]" for j in range(len(batch))]
            where = f"{text}[{key}]"
        else:
            batch = _decode_file(path)
            names.append(text)
            where = text
        images.append(_reconcile(batch, shape, where, notes))
    return Inputs(images=np.concatenate(images), names=tuple(names),
                  notes=tuple(f"{count} {what}" for what, count in notes.items()))
