"""MNIST-M (Ganin & Lempitsky 2015) and the MNIST2MNISTM task, a CPU stand-in for MNIST2SVHN.

Each digit is blended with a random 32x32 crop of a colour photo: output = |patch - digit|
per channel, so strokes invert the photo's colours. Photos come from ``--background_dir``
(default ``DATA_DIR/celeba/img_align_celeba``); at most ``MAX_PHOTOS`` are loaded (a
seeded choice), each crop's photo and position are seeded too, so the images are a
pure function of (seed, split). MNIST's training set is split into disjoint halves: one
half stays MNIST (gray repeated to 3 channels), the other is blended. Every photo gets the
signature check of ``data.image_files``; the chosen ones (the only ones read) are also
decoded by TensorFlow up front, and photos it cannot decode are skipped with a warning
(PIL, which reads them, would pass a JPEG damaged inside and blend its garbage).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from scogan.data.digit_tasks import IMAGE_SIZE, disjoint_parts
from scogan.data.image_files import check_images, decode_problem, find_undecodable, list_images
from scogan.data.mnist import mnist_source
from scogan.data.mnist32 import check_digit_size, mnist32
from scogan.data.sources import DataNotFoundError, DataOptions
from scogan.data.task import Domain, Task

MAX_PHOTOS = 500
DEFAULT_BACKGROUNDS = "celeba/img_align_celeba"
SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 3)


def background_folder(options: DataOptions) -> Path:
    if options.background_dir:
        return Path(options.background_dir)
    if options.data_dir is None:
        raise DataNotFoundError("MNIST-M needs colour photos: pass --background_dir, or --data_dir "
                                f"holding {DEFAULT_BACKGROUNDS}")
    return Path(options.data_dir, DEFAULT_BACKGROUNDS)


def load_photos(folder: Path, seed: int, max_photos: int = MAX_PHOTOS) -> list[np.ndarray]:
    """Up to ``max_photos`` usable photos of ``folder`` (seeded choice) as uint8 RGB, sides >= 32."""
    what = f"MNIST-M backgrounds in {folder}"
    files = check_images(list_images(folder), what)
    if len(files) > max_photos:
        chosen = np.random.default_rng(seed).choice(len(files), max_photos, replace=False)
        files = [files[i] for i in sorted(chosen)]
    damaged = set(find_undecodable(files))
    if damaged:
        first = next(f for f in files if f in damaged)
        if len(damaged) == len(files):
            raise DataNotFoundError(f"{what}: none of the {len(files)} chosen photos can be decoded; "
                                    f"e.g. {first}: {decode_problem(first)}")
        warnings.warn(f"{what}: skipped {len(damaged)} of the {len(files)} chosen photos that cannot be "
                      f"decoded (e.g. {first}: {decode_problem(first)})", stacklevel=2)
        files = [f for f in files if f not in damaged]
    photos = []
    for path in files:
        with Image.open(path) as image:
            photo = image.convert("RGB")
            if min(photo.size) < IMAGE_SIZE:
                scale = IMAGE_SIZE / min(photo.size)
                photo = photo.resize((max(IMAGE_SIZE, round(photo.width * scale)),
                                      max(IMAGE_SIZE, round(photo.height * scale))), Image.BILINEAR)
            photos.append(np.asarray(photo, dtype=np.uint8))
    return photos


def blend(digits: np.ndarray, photos: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """uint8 (N, 32, 32, 1) digits -> uint8 (N, 32, 32, 3): |random photo crop - digit| per channel."""
    n, size = len(digits), digits.shape[1]
    which = rng.integers(len(photos), size=n)
    out = np.empty((n, size, size, 3), np.uint8)
    for i, p in enumerate(which):
        photo = photos[p]
        y = rng.integers(photo.shape[0] - size + 1)
        x = rng.integers(photo.shape[1] - size + 1)
        patch = photo[y:y + size, x:x + size].astype(np.int16)
        out[i] = np.abs(patch - digits[i].astype(np.int16)).astype(np.uint8)
    return out


def mnist2mnistm_task(options: DataOptions) -> Task:
    """MNIST half vs MNIST-M of the other half (32x32x3, labels kept); MNIST test vs its MNIST-M."""
    check_digit_size("mnist2mnistm", options)
    source = mnist_source(options)  # before the photos: a missing MNIST file is named first
    photos = load_photos(background_folder(options), options.seed)
    train, train_labels = mnist32("train", options, source=source)
    test, test_labels = mnist32("test", options, source=source)
    plain, blended = disjoint_parts(len(train), 2)
    rgb = lambda images: np.repeat(images, 3, axis=-1)  # noqa: E731
    train_m = blend(train[blended], photos, np.random.default_rng([options.seed, 0]))
    test_m = blend(test, photos, np.random.default_rng([options.seed, 1]))
    return Task(
        "mnist2mnistm",
        (Domain("mnist", SHAPE, images=rgb(train[plain]), labels=train_labels[plain]),
         Domain("mnistm", SHAPE, images=train_m, labels=train_labels[blended])),
        test_domains=(Domain("mnist", SHAPE, images=rgb(test), labels=test_labels),
                      Domain("mnistm", SHAPE, images=test_m, labels=test_labels)),
        num_classes=10, sources={"mnist": source, "mnistm_photos": "files"},
    )
