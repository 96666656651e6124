"""A trained run opened for generation: its restored generators, latent space and domains."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from scogan.inference.errors import InferenceError
from scogan.utils.config import Config

# Latent vectors per generator call: bounds memory at any --num.
GENERATE_BATCH = 500


@dataclass(frozen=True)
class TrainedRun:
    """A run's restored generators (``trainer``), read under its lock and then released.

    ``domain_names``: one per generator, in order; ``image_shape``: (H, W, C) of every domain.
    """

    path: Path
    config: Config
    trainer: object  # trainers.Trainer
    step: int
    checkpoint: str
    domain_names: tuple[str, ...]
    image_shape: tuple[int, int, int]

    @property
    def num_domains(self) -> int:
        return len(self.domain_names)

    @property
    def latent_bounds(self) -> tuple[float, float] | None:
        """(-1, 1) for uniform z (the box every z of training lay in); None for normal z."""
        return (-1.0, 1.0) if self.config.noise_type == "uniform" else None

    def noise(self, n: int, seed: int) -> np.ndarray:
        """(n, noise_dim) float32 latent vectors drawn as in training, from ``seed``."""
        rng = tf.random.Generator.from_seed(seed)
        return self.trainer.noise(n, rng).numpy()

    def generate(self, z: np.ndarray) -> list[np.ndarray]:
        """k arrays (N, H, W, C) float32 in [-1, 1], image j of each from ``z[j]`` (N, noise_dim).

        Raises NonFiniteOutputError (exit 2) when any image holds NaN or Inf.
        """
        from scogan.metrics.errors import require_finite

        z = np.asarray(z, np.float32)
        chunks = [[x.numpy() for x in self.trainer.generate(tf.constant(z[i:i + GENERATE_BATCH]))]
                  for i in range(0, len(z), GENERATE_BATCH)]
        images = [np.concatenate([c[d] for c in chunks]) for d in range(self.num_domains)]
        require_finite(images, f"the generators of {self.path} ({self.checkpoint}) output",
                       "; nothing written (the run probably diverged)")
        return images

    def domain_generator(self, d: int) -> Callable[[tf.Tensor], tf.Tensor]:
        """G_d alone (0-based ``d``): z (N, noise_dim) -> (N, H, W, C) in [-1, 1], inference mode,
        differentiable in z."""
        generator = getattr(self.trainer, "generator", None)
        models = getattr(generator, "domain_models", None)
        if models is not None:
            return lambda z: models[d](z, training=False)
        return lambda z: self.trainer.generate(z)[d]


def safe_name(name: str) -> str:
    """A domain name usable as a folder or .npz key: characters other than letters, digits,
    '.', '_' and '-' become '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "domain"


def domain_keys(names: Iterable[str]) -> list[str]:
    """``safe_name`` of each domain, prefixed ``1_``, ``2_``, ... if two would collide."""
    keys = [safe_name(n) for n in names]
    return keys if len(set(keys)) == len(keys) else [f"{i}_{k}" for i, k in enumerate(keys, start=1)]


def check_positive(values: Iterable[tuple[str, int | float]]) -> None:
    """InferenceError naming the first option (``--name``) whose value is below 1."""
    for name, value in values:
        if value < 1:
            raise InferenceError(f"--{name} must be at least 1, got {value}")


def check_out_dir(out: str | None, mode: str) -> Path:
    """``--out`` as a Path: given, not a file, not a non-empty folder (nothing is overwritten),
    and writable. Writability is probed by making and removing a temporary folder in the
    nearest folder that exists (a permission check says nothing for root, nor for a
    read-only file system); nothing is left behind when a later check fails."""
    if not out:
        raise InferenceError(f"--mode {mode} needs --out DIR, the folder to write to")
    path = Path(out)
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise InferenceError(f"--out {out}: {blocking} is a file, not a folder")
    if path.is_dir() and any(path.iterdir()):
        raise InferenceError(f"--out {out} already exists and is not empty; choose another folder "
                             "(nothing is overwritten)")
    existing = next(p for p in (path, *path.absolute().parents) if p.is_dir())
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".scogan-probe-", dir=existing))
    except OSError as error:
        raise InferenceError(f"--out {out} cannot be written: {existing} is not writable "
                             f"({error.strerror or error})") from None
    return path


def load_trained_run(config: Config, given: set[str], mode: str) -> TrainedRun:
    """The run in ``config.dir``, its latest checkpoint restored.

    Refused with InferenceError: no ``--dir``, a classifier run (no generators), a run whose
    status.json says it diverged. The run's lock (``utils.run_dir.RunLock``) is held while
    its status and checkpoint are read (a run in use raises RunDirectoryError) and released
    before anything is generated. ``--data_dir`` / ``--data_source``, when given, replace the
    run's saved values (the data may live elsewhere on this machine); the data is read only
    for the domains' names and shapes.
    """
    from scogan import main
    from scogan.trainers import TRAINERS
    from scogan.utils.run_dir import RunLock, load_run_config, read_status

    if not config.dir:
        raise InferenceError(f"--mode {mode} needs --dir RUN, a trained run directory")
    saved = load_run_config(config.dir)  # a clear error, and no lock file, for a folder that is not a run
    if saved.gan_type == "classifier":
        raise InferenceError(f"{config.dir} is a --gan_type classifier run: it has no generators to "
                             f"{mode}; pass a gan, cogan or scogan run")
    saved = saved.replace(**{k: getattr(config, k) for k in ("data_dir", "data_source") if k in given})
    with RunLock(config.dir):
        status = read_status(config.dir)
        if status is not None and status.get("state") == "diverged":
            raise InferenceError(f"{config.dir} diverged in training (status.json: step {status.get('step')}, "
                                 f"{status.get('message') or 'no message'}); its generators are not used. "
                                 "Train it again, e.g. with a lower learning rate or --on_nan rollback")
        task = main.load_task_for(saved)
        trainer = TRAINERS.get(saved.gan_type)(saved, task, config.dir)
        step = trainer.restore(required=True)
    restored = trainer.restored_checkpoint or trainer.manager.latest_checkpoint
    shapes = set(task.image_shapes)
    if len(shapes) != 1:
        raise InferenceError(f"{config.dir}: domains of different image shapes {sorted(shapes)}")
    return TrainedRun(path=Path(config.dir), config=saved, trainer=trainer, step=step,
                      checkpoint=Path(restored).name if restored else "?",
                      domain_names=tuple(d.name for d in task.domains), image_shape=tuple(task.image_shapes[0]))
