"""What a two- (or k-) domain task is: domains of images, and how to relate them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Maps a batch of domain-1 images (N, H, W, C) uint8 to the corresponding domain-i images.
Transform = Callable[[np.ndarray], np.ndarray]

# Without a test split, classifiers hold out this fraction of each domain (a fixed
# permutation, independent of --seed, so every run evaluates on the same images).
HELD_OUT_FRACTION = 0.1
HELD_OUT_SEED = 2020


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


@dataclass(frozen=True, eq=False)
class Task:
    """k >= 1 domains learned jointly, with no corresponding images across domains.

    ``transforms[i]``, when not None, maps domain-1 images to their domain-i
    counterparts (the digit tasks are built that way); pixel agreement needs it.
    ``test_domains`` are held-out images of the same domains (for classifiers and
    real-vs-real baselines), when the dataset has a test split. ``num_classes`` is the
    number of classes of single-label domains (class ids), or the length L of
    multi-hot labels, whose names ``label_names`` lists; 0 when nothing is labelled.
    """

    name: str
    domains: tuple[Domain, ...]
    transforms: tuple[Transform | None, ...] | None = None
    test_domains: tuple[Domain, ...] | None = None
    num_classes: int = 0
    label_names: tuple[str, ...] | None = None

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
        )
