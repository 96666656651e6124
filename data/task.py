"""What a two- (or k-) domain task is: domains of images, and how to relate them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Maps a batch of domain-1 images (N, H, W, C) uint8 to the corresponding domain-i images.
Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Domain:
    """One image domain.

    Either ``images`` holds every image in memory as uint8 (N, H, W, C), or ``files``
    lists image paths that ``decode`` (a TensorFlow function: path -> uint8 (H, W, C)
    at ``image_shape``) reads lazily. ``labels`` are class ids (N,) int64 when known.
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
        if self.labels is not None and len(self.labels) != len(self):
            raise ValueError(f"domain {self.name!r}: {len(self.labels)} labels for {len(self)} images")

    def __len__(self) -> int:
        return len(self.images) if self.images is not None else len(self.files)


@dataclass(frozen=True, eq=False)
class Task:
    """k >= 1 domains learned jointly, with no corresponding images across domains.

    ``transforms[i]``, when not None, maps domain-1 images to their domain-i
    counterparts (the digit tasks are built that way); pixel agreement needs it.
    ``test_domains`` are held-out images of the same domains (for classifiers and
    real-vs-real baselines), when the dataset has a test split.
    """

    name: str
    domains: tuple[Domain, ...]
    transforms: tuple[Transform | None, ...] | None = None
    test_domains: tuple[Domain, ...] | None = None
    num_classes: int = 0

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError(f"task {self.name!r} has no domains")
        if self.transforms is not None and len(self.transforms) != len(self.domains):
            raise ValueError(f"task {self.name!r}: one transform per domain expected")

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
        )
