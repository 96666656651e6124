"""Datasets as tasks of k >= 1 image domains, chosen by name (``--cogan_data``).

``load_task(name, options)`` returns a :class:`Task`; ``training_batches`` turns its
domains into a ``tf.data`` pipeline of float32 batches in [-1, 1]. Problems with the
input data raise :class:`DataError` (``DataNotFoundError``, ``DataFormatError``), whose
one-line message names the file, folder or option; bad options raise
``utils.config.ConfigurationError``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from scogan.data.celeba import celeba_task
from scogan.data.cyclegan import CONFIGS as CYCLEGAN_CONFIGS
from scogan.data.cyclegan import cyclegan_task
from scogan.data.digit_tasks import digit_task, edges, identity, negative, rotate90
from scogan.data.folders import folders_task
from scogan.data.mnistm import mnist2mnistm_task
from scogan.data.pipeline import domain_batches, real_images, training_batches
from scogan.data.sources import DataError, DataFormatError, DataNotFoundError, DataOptions
from scogan.data.svhn import mnist2svhn_task
from scogan.data.task import Domain, Task
from scogan.data.usps import mnist2usps_task, usps2mnist_task
from scogan.utils.registry import Registry

TASKS: Registry[Callable[[DataOptions], Task]] = Registry("dataset")

__all__ = [
    "TASKS", "DataError", "DataFormatError", "DataNotFoundError", "DataOptions", "Domain", "Task",
    "domain_batches", "load_task", "real_images", "training_batches",
]


def load_task(name: str, options: DataOptions) -> Task:
    """The task registered as ``name``, loaded from the source ``options`` select."""
    return TASKS.get(name)(options)


@TASKS.register("mnist2edge")
def mnist2edge(options: DataOptions) -> Task:
    """MNIST digits vs their edge images (dilation minus digit)."""
    return digit_task("mnist2edge", {"mnist": identity, "edge": edges}, options)


@TASKS.register("mnist2negative")
def mnist2negative(options: DataOptions) -> Task:
    """MNIST digits vs their negatives (255 - pixel)."""
    return digit_task("mnist2negative", {"mnist": identity, "negative": negative}, options)


@TASKS.register("mnist2rotate")
def mnist2rotate(options: DataOptions) -> Task:
    """MNIST digits vs digits rotated by 90 degrees (use --g_arch rotate --d_arch rotate)."""
    return digit_task("mnist2rotate", {"mnist": identity, "rotated": rotate90}, options)


@TASKS.register("mnist2edge2negative")
def mnist2edge2negative(options: DataOptions) -> Task:
    """Three domains: digits, their edges and their negatives (a k = 3 CoGAN)."""
    return digit_task("mnist2edge2negative",
                      {"mnist": identity, "edge": edges, "negative": negative}, options)


# Noisy digit pairs: MNIST2SVHN (thesis), its pruned SVHN (needs --classifier_path), MNIST-M, USPS.
TASKS.register("mnist2svhn")(mnist2svhn_task)
TASKS.register("mnist2svhn_pruned")(partial(mnist2svhn_task, pruned=True))
TASKS.register("mnist2mnistm")(mnist2mnistm_task)
TASKS.register("mnist2usps")(mnist2usps_task)
TASKS.register("usps2mnist")(usps2mnist_task)  # USPS as domain 1 (the UDA source)
# Faces split by an attribute (--attribute), the CycleGAN pairs, and folders of your own images.
TASKS.register("celeba")(celeba_task)
for _name in CYCLEGAN_CONFIGS:
    TASKS.register(_name)(partial(cyclegan_task, _name))
TASKS.register("folders")(folders_task)
