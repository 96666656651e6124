"""The training loop every trainer shares: run directory, checkpoints, logging, samples.

A subclass builds its networks and optimizers in ``build`` and implements
``train_step(batches) -> dict of scalars``; this class owns the rest (StyleGAN2's
split of loss and loop). ``training_data`` (what each step reads) and ``save_samples``
may be overridden: the classifier trainer reads labelled batches and draws no samples.
Everything a run produces sits in its directory:

    config.json        the immutable configuration
    checkpoints/       tf.train.CheckpointManager (periodic and final); --resume continues
    samples/           sample grids (fixed z), step_XXXXXX.png and final.png
    logs/              TensorBoard events: every loss term, sample grids, the config
    losses.csv/.png    the logged losses and their plot
    *.keras            exported networks
    metrics.json       written by --mode evaluate
"""

from __future__ import annotations

import abc
import csv
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from data import Task, training_batches
from utils.config import Config
from utils.images import pair_grid, save_image
from utils.plots import plot_losses

GRID_ROWS, GRID_COLS = 4, 8


def make_optimizer(name: str, learning_rate: float, b1: float, b2: float) -> keras.optimizers.Optimizer:
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=b1, beta_2=b2)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=b1)
    raise ValueError(f"unknown optimizer {name!r}; valid choices: adam, rmsprop, sgd")


def seed_states(*models: keras.Model) -> list[tf.Variable]:
    """Dropout seed-generator states: Keras keeps them out of checkpoints, we keep them in."""
    return [v for m in models for v in m.variables if "seed_generator_state" in v.path]


class Trainer(abc.ABC):
    """Base class: owns the loop; subclasses own the networks and the step."""

    def __init__(self, config: Config, task: Task, run_dir: str | Path) -> None:
        self.config = config
        self.task = task
        self.run_dir = Path(run_dir)
        keras.utils.set_random_seed(config.seed)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.build()
        self.checkpoint = tf.train.Checkpoint(step=self.step, rng=self.rng, **self.trackables())
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.run_dir / "checkpoints"), max_to_keep=3
        )
        self._sample_z = self.noise(GRID_ROWS * GRID_COLS, tf.random.Generator.from_seed(config.seed + 1))

    # -- to implement -----------------------------------------------------------------------
    @abc.abstractmethod
    def build(self) -> None:
        """Create networks and optimizers (optimizers built on their variables)."""

    @abc.abstractmethod
    def trackables(self) -> dict[str, object]:
        """Objects to checkpoint besides the step counter and the random generator."""

    @abc.abstractmethod
    def train_step(self, batches: tuple[tf.Tensor, ...]) -> dict[str, tf.Tensor]:
        """One generator update and its discriminator updates; returns named scalars."""

    @abc.abstractmethod
    def generate(self, z: tf.Tensor) -> list[tf.Tensor]:
        """Images of every domain for latent vectors z, in inference mode."""

    @abc.abstractmethod
    def export(self) -> None:
        """Write the trained networks as .keras files."""

    def evaluate(self, metric_names: list[str], num_pairs: int, classifier_path: str | None = None) -> dict[str, float]:
        """The named metrics (``metrics.METRICS``) of the restored networks.

        ``classifier_path`` replaces the run's ``--classifier_path`` for the classifier
        metrics only (training data and networks keep the run's configuration).
        """
        from metrics import EvaluationContext, evaluate

        config = self.config if classifier_path is None else self.config.replace(classifier_path=classifier_path)
        context = EvaluationContext(self.generate, self.noise, self.task, str(self.run_dir), config)
        return evaluate(context, metric_names, num_pairs)

    # -- shared machinery -------------------------------------------------------------------
    def noise(self, n: int, rng: tf.random.Generator | None = None) -> tf.Tensor:
        """Latent vectors (n, noise_dim): uniform in [-1, 1] or standard normal."""
        rng = rng or self.rng
        shape = (n, self.config.noise_dim)
        if self.config.noise_type == "uniform":
            return rng.uniform(shape, -1.0, 1.0)
        return rng.normal(shape)

    def restore(self, required: bool = True) -> int:
        """Restore the latest checkpoint; returns its step (0 when there is none and not required)."""
        latest = self.manager.latest_checkpoint
        if latest is None:
            if required:
                raise FileNotFoundError(f"no checkpoint in {self.run_dir / 'checkpoints'}")
            return 0
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self.step)

    def checkpoint_variables(self) -> list[tf.Variable]:
        """Every variable the checkpoint holds (weights, optimizer slots, step, random state)."""
        found: dict[int, tf.Variable] = {}
        for obj in [self.step, self.rng, *self.trackables().values()]:
            for v in getattr(obj, "variables", None) or ([obj] if isinstance(obj, tf.Variable) else []):
                found.setdefault(id(v), v)
            if isinstance(obj, (list, tuple)):
                for v in obj:
                    found.setdefault(id(v), v)
        return list(found.values())

    def sample_grid(self) -> np.ndarray:
        images = [x.numpy() for x in self.generate(self._sample_z)]
        return pair_grid(images, GRID_COLS)

    def save_samples(self, name: str, writer: tf.summary.SummaryWriter) -> None:
        grid = self.sample_grid()
        save_image(grid, self.run_dir / "samples" / f"{name}.png")
        with writer.as_default(step=int(self.step)):
            tf.summary.image("samples", grid[None].astype(np.float32) / 255.0)

    def train(self) -> dict[str, float]:
        """Run (or continue) training to ``config.iterations``; returns the last logged losses."""
        config = self.config
        start = self.restore(required=False)
        if start >= config.iterations:
            print(f"{self.run_dir}: already trained for {start} iterations")
            return {}
        step_fn = tf.function(self.train_step)
        batches = self.training_data(start)
        writer = tf.summary.create_file_writer(str(self.run_dir / "logs"))
        if start == 0:
            with writer.as_default(step=0):
                tf.summary.text("config", f"```\n{config.to_json()}\n```")
        csv_path = self.run_dir / "losses.csv"
        last: dict[str, float] = {}
        began = time.time()
        bar = tqdm(total=config.iterations, initial=start, desc=f"{config.gan_type} {config.cogan_data}",
                   unit="it", dynamic_ncols=True)
        for batch in batches.take(config.iterations - start):
            metrics = step_fn(batch)
            step = int(self.step.assign_add(1))
            bar.update(1)
            if step % config.log_every == 0 or step == config.iterations:
                last = {k: float(v) for k, v in metrics.items()}
                self._log(writer, csv_path, step, time.time() - began, last)
                bar.set_postfix({k: f"{v:.3f}" for k, v in last.items() if "/" not in k}, refresh=False)
            if config.images_while_training and step % config.images_while_training == 0:
                self.save_samples(f"step_{step:06d}", writer)
            if step % config.checkpoint_every == 0:
                self.manager.save(checkpoint_number=step)
        bar.close()
        if self.manager.latest_checkpoint is None or not self.manager.latest_checkpoint.endswith(f"-{int(self.step)}"):
            self.manager.save(checkpoint_number=int(self.step))
        self.save_samples("final", writer)
        writer.flush()
        if csv_path.exists():
            plot_losses(csv_path, self.run_dir / "losses.png")
        self.export()
        return last

    def training_data(self, start_step: int) -> tf.data.Dataset:
        """The ``train_step`` inputs from step ``start_step`` on: per step, one tensor per
        domain of ``batches_per_step`` real batches."""
        config = self.config
        return training_batches(self.task.domains, config.batch_size, config.seed, self.batches_per_step,
                                start_step=start_step)

    @property
    def batches_per_step(self) -> int:
        """Real batches consumed per step (one per discriminator update)."""
        return self.config.disc_iters

    @staticmethod
    def _log(writer, csv_path: Path, step: int, seconds: float, values: dict[str, float]) -> None:
        with writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(name, value)
        new = not csv_path.exists()
        with open(csv_path, "a", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=["step", "seconds", *values])
            if new:
                out.writeheader()
            out.writerow({"step": step, "seconds": f"{seconds:.1f}", **values})
