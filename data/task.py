"""What a two- (or k-) domain task is: domains of images, and how to relate them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Maps a batch of domain-1 images (N, H, W, C) uint8 to the corresponding domain-i images.
Transform = Callable[[np.ndarray], np.ndarray]

# Without a test split, classifiers hold out this fraction of each domain (a fixed
# permutation, independent of --seed, so every run evaluates on the same images).
HELD_OUT_FRACTION = 0.1
HELD_OUT_SEED = 2020


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # gone since the task was loaded: the fingerprint differs, which says so
        return -1


@dataclass(frozen=True, eq=False)
class Domain:
    """One image domain.

    Either ``images`` holds every image in memory as uint8 (N, H, W, C), or ``files``
    lists image paths that ``decode`` (a TensorFlow function: path -> uint8 (H, W, C)
    at ``image_shape``) reads lazily. ``labels``, when known, are class ids (N,) int64
    (digits) or multi-hot attributes (N, L) int64 in {0, 1} (CelebA).
    """

    name: str
    image_shape: tuple[int, int, int]
    images: np.ndarray | None = None
    labels: np.ndarray | None = None
    files: tuple[str, ...] | None = None
    decode: Callable | None = None

    def __post_init__(self) -> None:
        if (self.images is None) == (self.files is None):
            raise ValueError(f"domain {self.name!r}: give exactly one of images or files")
        if self.images is not None:
            if self.images.dtype != np.uint8 or self.images.ndim != 4:
                raise ValueError(f"domain {self.name!r}: images must be uint8 (N, H, W, C)")
            if tuple(self.images.shape[1:]) != tuple(self.image_shape):
                raise ValueError(f"domain {self.name!r}: images are {self.images.shape[1:]}, "
                                 f"expected {self.image_shape}")
        if self.files is not None and self.decode is None:
            raise ValueError(f"domain {self.name!r}: file-backed domains need a decode function")
        if self.labels is not None:
            if len(self.labels) != len(self):
                raise ValueError(f"domain {self.name!r}: {len(self.labels)} labels for {len(self)} images")
            if self.labels.ndim not in (1, 2) or not np.issubdtype(self.labels.dtype, np.integer):
                raise ValueError(f"domain {self.name!r}: labels must be integer class ids (N,) or "
                                 f"multi-hot (N, L), got {self.labels.dtype} {self.labels.shape}")
            if self.labels.ndim == 2 and self.labels.size and not np.isin(self.labels, (0, 1)).all():
                raise ValueError(f"domain {self.name!r}: multi-hot labels must be 0 or 1")

    def __len__(self) -> int:
        return len(self.images) if self.images is not None else len(self.files)

    def take(self, indices: np.ndarray) -> Domain:
        """The domain made of the images (and labels) at ``indices``."""
        indices = np.asarray(indices, dtype=np.int64)
        return Domain(
            self.name, self.image_shape,
            images=self.images[indices] if self.images is not None else None,
            labels=self.labels[indices] if self.labels is not None else None,
            files=tuple(self.files[i] for i in indices) if self.files is not None else None,
            decode=self.decode,
        )

    def fingerprint(self) -> dict:
        """What identifies this domain's data, JSON-serialisable: name, image count, shape and a
        SHA-256 over the images (in memory) or over the file paths and sizes (file-backed; paths
        relative to the files' common folder, so a moved dataset keeps its fingerprint), and the labels.
        """
        digest = hashlib.sha256(repr((self.name, tuple(self.image_shape))).encode())
        if self.images is not None:
            digest.update(repr(self.images.shape).encode())
            digest.update(np.ascontiguousarray(self.images).reshape(-1).view(np.uint8))
        else:
            root = os.path.commonpath([os.path.dirname(f) for f in self.files]) if self.files else ""
            for path in sorted(self.files):
                digest.update(f"{os.path.relpath(path, root)}\0{_file_size(path)}\n".encode())
        if self.labels is not None:
            labels = np.ascontiguousarray(self.labels, dtype=np.int64)
            digest.update(repr(labels.shape).encode())
            digest.update(labels.reshape(-1).view(np.uint8))
        return {"name": self.name, "images": len(self), "shape": list(self.image_shape),
                "storage": "memory" if self.images is not None else "files", "sha256": digest.hexdigest()}


@dataclass(frozen=True, eq=False)
class Task:
    """k >= 1 domains learned jointly, with no corresponding images across domains.

    ``transforms[i]``, when not None, maps domain-1 images to their domain-i
    counterparts (the digit tasks are built that way); pixel agreement needs it.
    ``test_domains`` are held-out images of the same domains (for classifiers and
    real-vs-real baselines), when the dataset has a test split. ``num_classes`` is the
    number of classes of single-label domains (class ids), or the length L of
    multi-hot labels, whose names ``label_names`` lists; 0 when nothing is labelled.
    ``sources`` records where each dataset was read from: dataset name -> ``tfds``,
    ``tfds-download``, ``raw``, ``bundled`` or ``files`` (folders of image files).
    ``cache`` and ``cache_dir`` say how ``data.cache`` resolved ``--cache`` for it.
    """

    name: str
    domains: tuple[Domain, ...]
    transforms: tuple[Transform | None, ...] | None = None
    test_domains: tuple[Domain, ...] | None = None
    num_classes: int = 0
    label_names: tuple[str, ...] | None = None
    sources: dict[str, str] = field(default_factory=dict)
    cache: str = "none"  # how file-backed domains were decoded for training (data.cache): memory, disk, none
    cache_dir: str | None = None  # the folder of the disk cache files, when ``cache`` is disk

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError(f"task {self.name!r} has no domains")
        if self.transforms is not None and len(self.transforms) != len(self.domains):
            raise ValueError(f"task {self.name!r}: one transform per domain expected")
        labelled = [d for d in (*self.domains, *(self.test_domains or ())) if d.labels is not None]
        if len({d.labels.ndim for d in labelled}) > 1:
            raise ValueError(f"task {self.name!r}: domains mix class ids and multi-hot labels")
        for d in labelled:
            width = d.labels.shape[1] if d.labels.ndim == 2 else None
            if width is not None and width != self.num_classes:
                raise ValueError(f"task {self.name!r}: domain {d.name!r} has {width} labels per "
                                 f"image, num_classes is {self.num_classes}")
            if width is None and d.labels.size and not 0 <= d.labels.min() <= d.labels.max() < self.num_classes:
                raise ValueError(f"task {self.name!r}: domain {d.name!r} has class ids outside "
                                 f"0..{self.num_classes - 1}")
        if self.label_names is not None and len(self.label_names) != self.num_classes:
            raise ValueError(f"task {self.name!r}: {len(self.label_names)} label names for "
                             f"{self.num_classes} labels")

    @property
    def multi_label(self) -> bool:
        """True when images carry multi-hot labels (N, L) rather than class ids."""
        return any(d.labels is not None and d.labels.ndim == 2 for d in self.domains)

    def classification_split(self) -> tuple[tuple[Domain, ...], tuple[Domain, ...]]:
        """(training domains, evaluation domains) for a classifier.

        The test domains when the dataset has a test split; otherwise a fixed
        ``HELD_OUT_FRACTION`` of every training domain (the same for every run and seed)
        is held out for evaluation and the rest trains.
        """
        if self.test_domains is not None:
            return self.domains, self.test_domains
        train, held_out = [], []
        for domain in self.domains:
            order = np.random.default_rng(HELD_OUT_SEED).permutation(len(domain))
            cut = max(1, int(round(len(domain) * HELD_OUT_FRACTION)))
            if len(domain) - cut < 1:
                raise ValueError(f"domain {domain.name!r} has {len(domain)} images: too few to hold some out")
            held_out.append(domain.take(np.sort(order[:cut])))
            train.append(domain.take(np.sort(order[cut:])))
        return tuple(train), tuple(held_out)

    @property
    def num_domains(self) -> int:
        return len(self.domains)

    @property
    def image_shapes(self) -> list[tuple[int, int, int]]:
        return [d.image_shape for d in self.domains]

    def select(self, index: int) -> Task:
        """The one-domain task made of domain ``index`` (0-based), for a plain GAN."""
        if not 0 <= index < self.num_domains:
            raise ValueError(f"task {self.name!r} has domains 1..{self.num_domains}, not {index + 1}")
        return Task(
            name=f"{self.name}[{index + 1}]",
            domains=(self.domains[index],),
            test_domains=(self.test_domains[index],) if self.test_domains else None,
            num_classes=self.num_classes,
            label_names=self.label_names,
            sources=dict(self.sources),
        )

    def fingerprint(self) -> dict:
        """What identifies the data this task read, JSON-serialisable, equal for two loads of the
        same data: the task name and ``Domain.fingerprint`` of every training and test domain.
        ``sources`` is not part of it (the same images from tfds or from the raw files are the
        same data). Cheap: 0.05 s for all of MNIST (70,000 images hashed); file-backed domains
        stat each file instead (6 ms for the 579 CelebA faces).
        """
        return {
            "task": self.name,
            "domains": [d.fingerprint() for d in self.domains],
            "test_domains": [d.fingerprint() for d in self.test_domains] if self.test_domains else [],
        }

    def undecodable_files(self) -> list[str]:
        """The files of file-backed (training and test) domains that cannot be decoded, in order,
        each once; [] when every domain is in memory. For naming the file after a decode error
        mid-training: it decodes every file, in parallel (about 0.3 ms a file on 2 cores, so
        an estimated minute for the 202,599 CelebA faces); only if every file decodes as stored does it
        try each domain's own decode function (crop and resize too, about twice as slow).
        """
        from scogan.data.image_files import find_undecodable

        file_domains = [d for d in (*self.domains, *(self.test_domains or ())) if d.files is not None]
        bad = [find_undecodable(d.files) for d in file_domains]
        if not any(bad):
            bad = [find_undecodable(d.files, d.decode) for d in file_domains]
        return list(dict.fromkeys(path for paths in bad for path in paths))
