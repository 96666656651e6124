"""File-backed image domains: listing, up-front validation, and decoding to a fixed shape.

Validation policy (``check_images``): every file is checked when the Domain is built,
by its format signature and its completeness — JPEG files must end with the EOI marker,
PNG files with the IEND chunk, GIF files with the trailer byte, BMP files must be as
long as their header says. That reads 16 bytes at the start and 64 at the end of a file
(measured: 20 µs per file from the page cache, about 4 s for the 202,599 CelebA
images) and catches empty files, non-image files, formats TensorFlow cannot decode and
truncated downloads, the usual corruption. A file whose compressed data is damaged
inside passes that check, so when a task's file-backed domains hold at most
``DECODE_CHECK_LIMIT`` (50,000) files in all, every file that passes is also decoded up
front (``decodable``: a parallel ``tf.data`` map; the crop and resize after decoding cannot
fail and are skipped). Measured on 2 cores shared with another job: 0.15-0.35 s for the
579 CelebA faces, about 0.3 ms a file, so some 15 s at the limit. Unusable files are
skipped and counted in one warning naming the first few; if none is left the run stops,
naming the first bad file and why. Bigger tasks (full CelebA) skip the decode check; a
decode error mid-training is then traced to its file by ``Task.undecodable_files``
(``find_undecodable``).

Channels are reconciled explicitly (``to_channels``): a task declares 1 or 3 channels;
an alpha channel is dropped, grayscale is repeated to RGB, RGB is converted to gray
(ITU-R 601 luma, ``tf.image.rgb_to_grayscale``).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from scogan.data.sources import DataNotFoundError
from scogan.data.task import Domain

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
# Tasks with at most this many image files in all are decoded in full up front (~0.3 ms a file).
DECODE_CHECK_LIMIT = 50_000
_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF87a": "GIF", b"GIF89a": "GIF", b"BM": "BMP",
}


def list_images(folder: str | Path) -> list[str]:
    """The image files (by extension, case-insensitive) directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"image folder {folder} does not exist")
    return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def image_problem(path: str) -> str | None:
    """Why ``path`` cannot be decoded (signature or completeness check), or None if it looks whole."""
    try:
        size = os.path.getsize(path)
        if size == 0:
            return "empty file"
        with open(path, "rb") as handle:
            head = handle.read(16)
            handle.seek(max(0, size - 64))
            tail = handle.read()
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    kind = next((k for sig, k in _SIGNATURES.items() if head.startswith(sig)), None)
    if kind is None:
        return "not a JPEG, PNG, BMP or GIF file"
    if kind == "JPEG" and b"\xff\xd9" not in tail:
        return "truncated JPEG (no end-of-image marker)"
    if kind == "PNG" and b"IEND" not in tail[-16:]:
        return "truncated PNG (no IEND chunk)"
    if kind == "GIF" and b"\x3b" not in tail[-16:]:
        return "truncated GIF (no trailer)"
    if kind == "BMP" and size < int.from_bytes(head[2:6], "little"):
        return "truncated BMP (shorter than its header says)"
    return None


def decode_any(path: tf.Tensor) -> tf.Tensor:
    """A TensorFlow function: file path -> uint8 (H, W, C) as stored (first frame of a GIF)."""
    return tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)


def decodable(paths: Sequence[str], decode: Callable[[tf.Tensor], tf.Tensor] | None = None) -> np.ndarray:
    """Bool (N,): True where ``decode`` (default ``decode_any``) succeeds on ``paths[i]``.

    Every file is decoded, in parallel (a ``tf.data`` map whose failing elements are dropped
    by ``ignore_errors``; the indices that come through are the decodable files).
    """
    ok = np.zeros(len(paths), bool)
    if not len(paths):
        return ok
    decode = decode or decode_any
    indexed = tf.data.Dataset.from_tensor_slices((tf.range(len(paths), dtype=tf.int64), tf.constant(list(paths))))
    # The shape depends on the decoded image, so the decode cannot be pruned away.
    checked = indexed.map(lambda i, path: (i, tf.shape(decode(path))), num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=False).ignore_errors()
    for indices, _ in checked.batch(4096).as_numpy_iterator():
        ok[indices] = True
    return ok


def find_undecodable(paths: Sequence[str], decode: Callable[[tf.Tensor], tf.Tensor] | None = None) -> list[str]:
    """The files among ``paths`` (in order) that ``decode`` (default ``decode_any``) fails on."""
    return [p for p, good in zip(paths, decodable(paths, decode)) if not good]


def decode_problem(path: str, decode: Callable[[tf.Tensor], tf.Tensor] | None = None) -> str:
    """Why ``decode`` fails on ``path``, from TensorFlow's message (for warnings and errors)."""
    try:
        (decode or decode_any)(tf.constant(path))
    except tf.errors.OpError as error:
        message = re.sub(r"\{\{[^}]*\}\}\s*", "", error.message).split(" [Op:")[0].strip()
        return f"cannot be decoded ({message.splitlines()[0] if message else type(error).__name__})"
    return "cannot be decoded"


def check_images(paths: Sequence[str], what: str,
                 decode: Callable[[tf.Tensor], tf.Tensor] | None = None) -> list[str]:
    """``paths`` without the unusable files (warned about, with a count); an error if none is usable.

    Every file gets the signature and completeness check (``image_problem``); with ``decode``,
    the files that pass are also decoded by it (``decodable``) and those it fails on are skipped too.
    """
    if not paths:
        raise DataNotFoundError(f"{what}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
    problems: list[str | None] = [image_problem(p) for p in paths]
    if decode is not None:
        candidates = [i for i, problem in enumerate(problems) if problem is None]
        for i, good in zip(candidates, decodable([paths[i] for i in candidates], decode)):
            if not good:
                problems[i] = ""  # reason filled in below, for the files named
    bad = [(p, problem) for p, problem in zip(paths, problems) if problem is not None]

    def reason(path: str, problem: str) -> str:
        return problem or decode_problem(path, decode)

    good = [p for p, problem in zip(paths, problems) if problem is None]
    if not good:
        path, problem = bad[0]
        raise DataNotFoundError(f"{what}: none of the {len(paths)} image files is usable; "
                                f"e.g. {path}: {reason(path, problem)}")
    if bad:
        examples = "; ".join(f"{p}: {reason(p, problem)}" for p, problem in bad[:3])
        warnings.warn(f"{what}: skipped {len(bad)} of {len(paths)} unusable image files ({examples})",
                      stacklevel=2)
    return good


def to_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """uint8 ([N,] H, W, 1-4) -> uint8 ([N,] H, W, channels): alpha dropped, gray repeated, RGB to luma."""
    if channels not in (1, 3):
        raise ValueError(f"images have 1 or 3 channels, not {channels}")
    c = tf.shape(image)[-1]
    image = tf.cond(tf.equal(c % 2, 0), lambda: image[..., :-1], lambda: image)  # GA / RGBA
    if channels == 3:
        image = tf.cond(tf.equal(tf.shape(image)[-1], 1), lambda: tf.repeat(image, 3, axis=-1),
                        lambda: image)
    else:
        image = tf.cond(tf.equal(tf.shape(image)[-1], 3), lambda: tf.image.rgb_to_grayscale(image),
                        lambda: image)
    return tf.ensure_shape(image, [None] * (image.shape.rank - 1) + [channels])


def square_resize(image: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 ([N,] H, W, C) -> uint8 ([N,] size, size, C): centre square crop, antialiased bilinear resize."""
    shape = tf.shape(image)
    h, w = shape[-3], shape[-2]
    side = tf.minimum(h, w)
    image = tf.image.crop_to_bounding_box(image, (h - side) // 2, (w - side) // 2, side, side)
    resized = tf.image.resize(image, (size, size), method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


def image_decoder(size: int, channels: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """A TensorFlow function: file path -> uint8 (size, size, channels), for ``Domain.decode``."""
    def decode(path: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
        image = square_resize(to_channels(image, channels), size)
        return tf.ensure_shape(image, (size, size, channels))
    return decode


def file_domain(name: str, paths: Sequence[str], size: int, channels: int, what: str,
                labels: np.ndarray | None = None, decode_check: bool = False) -> Domain:
    """A file-backed Domain of the usable files among ``paths`` (labels filtered alongside).

    ``decode_check``: also decode every file up front (``check_images``); tasks pass
    ``wants_decode_check(their total file count)``.
    """
    # Validated by decoding only: the crop and resize after it cannot fail, and cost as much again.
    good = check_images(list(paths), what, decode=decode_any if decode_check else None)
    if labels is not None and len(good) != len(paths):
        keep = set(good)
        labels = np.asarray([label for p, label in zip(paths, labels) if p in keep])
    return Domain(name, (size, size, channels), files=tuple(good), labels=labels,
                  decode=image_decoder(size, channels))


def check_image_size(size: int, channels: int = 3) -> None:
    """ConfigurationError naming the valid sizes unless some generator and discriminator of
    ``nets`` take ``size`` x ``size`` images (checked before any file is read)."""
    from scogan.nets import check_image_size as check_nets  # lazily: importing data stays light

    check_nets(size, channels=channels)


def wants_decode_check(file_count: int) -> bool:
    """True if a task with ``file_count`` image files in all is decoded in full up front."""
    return file_count <= DECODE_CHECK_LIMIT


def resize_batch(images: np.ndarray, size: int, channels: int, batch: int = 1024) -> np.ndarray:
    """uint8 (N, H, W[, C]) in memory -> uint8 (N, size, size, channels), as ``image_decoder`` would."""
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:] == (size, size, channels):
        return images
    out = [square_resize(to_channels(tf.constant(images[i:i + batch]), channels), size).numpy()
           for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros((0, size, size, channels), np.uint8)


def tfds_images(name: str, split: str, size: int, channels: int, data_dir: str | None, download: bool,
                label: Callable[[dict], tf.Tensor] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """A tfds split as uint8 (N, size, size, channels) in memory (and labels int64 (N,), if ``label``).

    Images are processed one by one (CycleGAN images vary in size) exactly as file-backed
    domains decode theirs. Batched iteration, never ``batch_size=-1`` (which crashes under
    ``tfds.testing.mock_data``).
    """
    import tensorflow_datasets as tfds

    dataset = tfds.load(name, split=split, data_dir=data_dir, download=download)

    def example(ex):
        image = tf.ensure_shape(square_resize(to_channels(ex["image"], channels), size), (size, size, channels))
        return image, (tf.cast(label(ex), tf.int64) if label else tf.constant(0, tf.int64))

    images, labels = [], []
    for x, y in dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE).batch(1024).as_numpy_iterator():
        images.append(x)
        labels.append(y)
    if not images:
        raise DataNotFoundError(f"tfds {name} split {split} is empty")
    return np.concatenate(images), (np.concatenate(labels) if label else None)
