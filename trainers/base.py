"""The training loop every trainer shares: run directory, checkpoints, logging, samples.

A subclass builds its networks and optimizers in ``build`` and implements
``train_step(batches) -> dict of scalars``; this class owns the rest (StyleGAN2's
split of loss and loop). ``training_data`` (what each step reads) and ``save_samples``
may be overridden: the classifier trainer reads labelled batches and draws no samples.
``build`` runs under the ``--precision`` dtype policy (``utils.precision``), each update goes
through ``trainers.updates.apply_update`` (loss-scaled under float16), and ``--jit``
XLA-compiles the checked step (``trainers.xla``).
Under ``--strategy mirrored`` or ``multiworker`` the same loop runs the step on every
replica (``trainers.distribute`` says what that changes, and what it does not).
Everything a run produces sits in its directory:

    config.json        the immutable configuration, as typed
    resolved_config.json  what ran: every auto/default resolved, versions, commit (utils.resolved)
    checkpoints/       tf.train.CheckpointManager (periodic and final); --resume continues
    samples/           sample grids (fixed z), step_XXXXXX.png and final.png
    logs/              TensorBoard events: every loss term, learning rates, iterations per second, sample
                       grids, the config (typed and resolved), HParams, eval/<metric> (utils.summaries)
    losses.csv/.png    the logged losses and their plot
    *.keras            exported networks
    metrics.jsonl      evaluation records (--mode evaluate), summarised in metrics.json
    status.json        training, finished, interrupted, diverged or failed (utils.run_dir)
"""

from __future__ import annotations

import abc
import contextlib
import csv
import signal
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from scogan.data import Task, training_batches
from scogan.trainers import distribute, loss_scaling
from scogan.trainers.checkpoints import CheckpointError, CheckpointStore
from scogan.trainers.guard import Diverged, Interrupted, TrainingStopped, first_non_finite
from scogan.trainers.progress import Speedometer, progress_fields, restart_clock
from scogan.trainers.updates import learning_rate
from scogan.trainers.xla import compile_step, first_call
from scogan.utils.config import Config, ConfigurationError
from scogan.utils.images import pair_grid, save_image
from scogan.utils.log import LOGGER, progress_enabled
from scogan.utils.plots import plot_losses
from scogan.utils.precision import dtype_policy, warn_if_slow
from scogan.utils.resolved import write_resolved_config
from scogan.utils.run_dir import write_status
from scogan.utils.signals import EXIT_CODES, StopRequests, Terminated
from scogan.utils.summaries import LOGS_DIR, SPEED_TAG, lr_tag, write_experiment, write_hparams

GRID_ROWS, GRID_COLS = 4, 8


def truncate_log(csv_path: Path, step: int) -> None:
    """Drop the rows of losses.csv after ``step``: a resumed or rolled-back run logs them again."""
    if not csv_path.exists():
        return
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= step]
    if len(kept) != len(rows):
        with open(csv_path, "w", newline="") as handle:
            csv.writer(handle).writerows(kept)


def seed_states(*models: keras.Model) -> list[tf.Variable]:
    """Dropout seed-generator states: Keras keeps them out of checkpoints, we keep them in."""
    return [v for m in models for v in m.variables if "seed_generator_state" in v.path]


class Trainer(abc.ABC):
    """Base class: owns the loop; subclasses own the networks and the step."""

    def __init__(self, config: Config, task: Task, run_dir: str | Path) -> None:
        self.config = config
        self.task = task
        self.run_dir = Path(run_dir)
        # --strategy (trainers.distribute): "default" is no strategy, the single-device path.
        self.strategy = distribute.strategy_for(config.strategy)
        self.distributed = config.strategy != "default"
        self.replicas = self.strategy.num_replicas_in_sync
        distribute.check_divisible(config.batch_size, self.replicas, config.strategy)
        if self.distributed and config.jit:  # a resume may add --strategy to a --jit run
            raise ConfigurationError(f"--jit cannot compile the replicas of --strategy {config.strategy} yet "
                                     "(each replica's variables live on its own device); drop one of them")
        # The step counter is the loop's (read and advanced outside the replicas): one copy.
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # The policy holds only while the networks are built: each layer keeps the one it was
        # created with, and nothing built later in this process inherits it (utils.precision).
        warn_if_slow(config.precision)
        with self.scope(), dtype_policy(config.precision):  # a strategy's variables are mirrored
            keras.utils.set_random_seed(config.seed)
            self.rng = tf.random.Generator.from_seed(config.seed)
            self.build()
        self._averaged_norms: list[keras.layers.BatchNormalization] = []
        if self.distributed:
            norms = distribute.batch_norm_layers(self.models())
            for layer in norms:
                layer.synchronized = config.sync_batch_norm
            self._averaged_norms = [] if config.sync_batch_norm else norms
        self.checkpoint = tf.train.Checkpoint(step=self.step, rng=self.rng, **self.trackables())
        self.checkpoints = CheckpointStore(self.checkpoint, self.run_dir / "checkpoints", max_to_keep=3)
        self.restored_checkpoint: str | None = None
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
        from scogan.metrics import EvaluationContext, evaluate

        config = self.config if classifier_path is None else self.config.replace(classifier_path=classifier_path)
        context = EvaluationContext(self.generate, self.noise, self.task, str(self.run_dir), config)
        return evaluate(context, metric_names, num_pairs)

    # -- shared machinery -------------------------------------------------------------------
    def noise(self, n: int, rng: tf.random.Generator | None = None) -> tf.Tensor:
        """Latent vectors (n, noise_dim): uniform in [-1, 1] or standard normal.

        Inside a replica of a strategy, ``n`` is the global batch and the result this
        replica's rows of it (``trainers.distribute``: the numbers one device would draw)."""
        shape = (n, self.config.noise_dim)
        if rng is None and self._in_replica():
            if self.config.noise_type == "uniform":
                return distribute.replica_rows_of_draw(self.rng, shape, "uniform", -1.0, 1.0)
            return distribute.replica_rows_of_draw(self.rng, shape, "normal")
        rng = rng or self.rng
        if self.config.noise_type == "uniform":
            return rng.uniform(shape, -1.0, 1.0)
        return rng.normal(shape)

    def interpolation_weights(self) -> tf.Tensor:
        """The gradient penalty's per-example weights epsilon ~ U[0, 1), (batch, 1, 1, 1); in a
        replica, its rows of the global batch's (as ``noise``)."""
        shape = [self.config.batch_size, 1, 1, 1]
        if self._in_replica():
            return distribute.replica_rows_of_draw(self.rng, shape, "uniform")
        return self.rng.uniform(shape)

    def scope(self):
        """The strategy's scope (nothing for ``--strategy default``): where variables are made."""
        return self.strategy.scope() if self.distributed else contextlib.nullcontext()

    def models(self) -> list[keras.Model]:
        """The trained Keras models among the checkpointed objects."""
        return [o for o in self.trackables().values() if isinstance(o, keras.Model)]

    def _in_replica(self) -> bool:
        """Inside ``strategy.run`` of this trainer's (non-default) strategy."""
        if not self.distributed:
            return False
        context = tf.distribute.get_replica_context()
        return context is not None and context.strategy is self.strategy

    @property
    def manager(self) -> tf.train.CheckpointManager:
        return self.checkpoints.manager

    def restore(self, required: bool = True) -> int:
        """Restore the newest readable checkpoint (``trainers.checkpoints``); returns its step,
        0 when there is none and it is not ``required``. ``restored_checkpoint`` names it."""
        self.restored_checkpoint = self.checkpoints.restore_latest()
        if self.restored_checkpoint is None:
            if required:
                raise CheckpointError(f"no checkpoint in {self.run_dir / 'checkpoints'}: nothing to resume "
                                      "or evaluate")
            return 0
        return int(self.step)

    def restore_from(self, directory: str | Path) -> int:
        """Restore the newest readable checkpoint of another run directory's ``checkpoints``
        (a multiworker non-chief resuming from the chief's), writing nothing there; returns its
        step. ``CheckpointError`` when there is none."""
        self.restored_checkpoint = CheckpointStore(self.checkpoint, directory, read_only=True).restore_latest()
        if self.restored_checkpoint is None:
            raise CheckpointError(f"no checkpoint in {directory}: nothing to resume")
        return int(self.step)

    def restore_checkpoint(self, prefix: str) -> int:
        """Restore the checkpoint ``prefix`` (``RUN/checkpoints/ckpt-<step>``); returns its step.
        ``CheckpointError`` when it cannot be read."""
        self.checkpoints.restore(prefix)
        self.restored_checkpoint = prefix
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
        """Run (or continue) training to ``config.iterations``; returns the last logged losses.

        With ``config.resume`` a usable checkpoint is required. Every step is checked for
        non-finite losses, gradients and weights (``Diverged``, or a rollback with
        ``--on_nan rollback``); SIGINT/SIGTERM end the step, checkpoint and raise
        ``Interrupted``. RUN/status.json says which way the run ended.
        """
        config = self.config
        # main.py restores before it rewrites anything in a resumed run; no need to read it twice.
        start = int(self.step) if self.restored_checkpoint else self.restore(required=config.resume)
        if start >= config.iterations:
            LOGGER.info("%s: already trained for %d iterations", self.run_dir, start)
            write_status(self.run_dir, "finished", start, f"trained for {start} iterations")
            return {}
        write_status(self.run_dir, "training", start, f"training to {config.iterations} iterations")
        try:
            return self._train_from(start)
        except TrainingStopped:
            raise  # it wrote its own status
        except (KeyboardInterrupt, Terminated):  # a second Ctrl-C: the newest checkpoint stands
            write_status(self.run_dir, "interrupted", int(self.step), "interrupted without a checkpoint of "
                         "this step; --resume continues from the newest readable one")
            raise
        except BaseException as error:
            write_status(self.run_dir, "failed", int(self.step), f"{type(error).__name__}: {error}"[:500])
            raise

    def _train_from(self, start: int) -> dict[str, float]:
        config = self.config
        step_fn = self.step_function()
        writer = tf.summary.create_file_writer(str(self.run_dir / LOGS_DIR))
        resolved = write_resolved_config(self, writer, start)  # what runs, rewritten by each start and resume
        hparams = write_hparams(writer, resolved)
        if start == 0:
            with writer.as_default(step=0):
                tf.summary.text("config", f"```\n{config.to_json()}\n```")
            self.checkpoints.save(0)  # a finite starting point to fall back to
        csv_path = self.run_dir / "losses.csv"
        truncate_log(csv_path, start)
        last: dict[str, float] = {}
        rollbacks = 0
        began = saved_at = time.time()
        bar = tqdm(total=config.iterations, initial=start, desc=f"{config.gan_type} {config.cogan_data}",
                   unit="it", dynamic_ncols=True, disable=not progress_enabled())
        speed = Speedometer()
        traced = False
        batches = self._batches(start)
        LOGGER.debug("tracing the training step (the first step of a start takes longer)")
        with StopRequests() as stop:
            while int(self.step) < config.iterations:
                metrics, flags, healthy, clock_due, stopping = self._call_step(
                    step_fn, self._next_batch(batches), traced,
                    lambda since=saved_at: (time.time() - since >= 60 * config.checkpoint_minutes, stop.requested))
                step = int(self.step.assign_add(1))
                if not bool(healthy):
                    term, value = self.diagnose(metrics, flags)
                    if config.on_nan == "rollback" and rollbacks < config.nan_rollbacks:
                        rollbacks += 1
                        step = self._roll_back(step, term, value, rollbacks)
                        truncate_log(csv_path, step)
                        restart_clock(bar, step)
                        speed.restart(step)
                        batches = self._batches(step)
                        continue
                    self._diverged(step, term, value, bar)
                if traced:
                    bar.update(1)
                else:  # the first step traced the tf.function: speed and ETA count from its end
                    traced = True
                    LOGGER.debug("first step (tracing the tf.function) took %.1f s", time.time() - began)
                    restart_clock(bar, step)
                    speed.restart(step)
                    self._declare_metrics(writer, hparams, list(metrics))
                if step % config.log_every == 0 or step == config.iterations:
                    last = {k: float(v) for k, v in metrics.items()}
                    self._log(writer, csv_path, step, time.time() - began, last)
                    self._log_schedule(writer, step, speed.rate(step))
                    bar.set_postfix(progress_fields(last), refresh=False)
                if config.images_while_training and step % config.images_while_training == 0:
                    self.save_samples(f"step_{step:06d}", writer)
                due = step % config.checkpoint_every == 0 or clock_due
                if due or stopping:
                    self.checkpoints.save(step)
                    LOGGER.debug("checkpoint ckpt-%d written", step)
                    saved_at = time.time()
                if stopping:
                    bar.close()
                    writer.flush()
                    cause = stop.name or "a signal to another worker"  # multiworker: all stop together
                    message = (f"interrupted by {cause} at step {step} of {config.iterations}; checkpoint "
                               f"ckpt-{step} written; continue with: python main.py --resume --dir {self.run_dir}")
                    write_status(self.run_dir, "interrupted", step, message)
                    raise Interrupted(message, EXIT_CODES[stop.signum or signal.SIGTERM])
            bar.close()
            if not (self.checkpoints.latest or "").endswith(f"-{int(self.step)}"):
                self.checkpoints.save(int(self.step))
            self.save_samples("final", writer)
            writer.flush()
            if csv_path.exists():
                plot_losses(csv_path, self.run_dir / "losses.png")
            self.export_networks()
        write_status(self.run_dir, "finished", int(self.step), f"trained for {int(self.step)} iterations")
        return last

    def _call_step(self, step_fn, batch, traced: bool, requests):
        """One training step: ``(metrics, flags, healthy, clock_due, stopping)``, where
        ``requests()`` is the loop's ``(checkpoint clock due, stop requested)``, read after the
        step. Under a strategy they are read before it, go into the step and come back agreed
        by all workers, so every worker checkpoints and stops at the same step."""
        arguments = (batch, tf.constant(requests())) if self.distributed else (batch,)
        outputs = step_fn(*arguments) if traced else first_call(step_fn, arguments, self.config.jit)
        if not self.distributed:
            return (*outputs, *requests())
        metrics, flags, healthy, agreed = outputs
        return (metrics, flags, healthy, *(bool(x) for x in agreed.numpy()))

    def step_function(self):
        """The checked training step as a ``tf.function`` (on every replica under a strategy);
        XLA-compiled with ``--jit`` (``trainers.xla``)."""
        return compile_step(self._distributed_step if self.distributed else self._checked_step, self.config.jit)

    def _checked_step(self, batch) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor], tf.Tensor]:
        """``train_step``, its gradient flags (the ``finite/<what>`` entries it returns, popped
        from the logged metrics) and one flag: every logged value, gradient and checkpointed
        float variable is finite after the step."""
        metrics = dict(self.train_step(batch))
        flags = {k[len("finite/"):]: metrics.pop(k) for k in sorted(metrics) if k.startswith("finite/")}
        for name, optimizer in self.named_optimizers().items():
            if loss_scaling.is_loss_scaled(optimizer):
                metrics[f"loss_scale/{name}"] = loss_scaling.loss_scale(optimizer)
        values = [tf.reduce_all(tf.math.is_finite(tf.cast(v, tf.float32))) for v in metrics.values()]
        weights = [tf.reduce_all(tf.math.is_finite(v)) for v in self._float_variables()]
        return metrics, flags, tf.reduce_all(tf.stack([*values, *flags.values(), *weights]))

    def _distributed_step(self, batch, requests: tf.Tensor):
        """``_checked_step`` on every replica (``batch`` a distributed value), with the outputs
        reduced over replicas and ``requests`` (the loop's checkpoint and stop requests) ORed
        over workers; returns them as one value (they are equal on every replica)."""
        outputs = self.strategy.run(self._replica_step, (batch, requests))
        return tf.nest.map_structure(lambda value: self.strategy.experimental_local_results(value)[0], outputs)

    def _replica_step(self, batch, requests: tf.Tensor):
        with distribute.replica_dropout_seeds(self.trackables().get("dropout_seeds", [])):
            metrics, flags, healthy = self._checked_step(batch)
        distribute.average_moving_statistics(self._averaged_norms)
        return distribute.reduce_step(metrics, flags, healthy, requests)

    def _float_variables(self) -> list[tf.Variable]:
        return [v for v in self.checkpoint_variables() if tf.as_dtype(v.dtype).is_floating]

    def diagnose(self, metrics: dict[str, tf.Tensor], flags: dict[str, tf.Tensor]) -> tuple[str, float]:
        """The first non-finite term of a step (``trainers.guard.first_non_finite``)."""
        return first_non_finite(metrics, flags, self._float_variables())

    def _diverged(self, step: int, term: str, value: float, bar) -> None:
        bar.close()
        last = self.checkpoints.latest
        where = f"its last finite checkpoint {Path(last).name} is intact" if last else "no checkpoint was written"
        message = (f"training diverged at step {step}: {term} is {value}; {where}. Lower the learning rates "
                   f"(--lr_d, --lr_g) or pass --on_nan rollback")
        write_status(self.run_dir, "diverged", step, message, term=term,
                     checkpoint=Path(last).name if last else None)
        raise Diverged(message)

    def _roll_back(self, step: int, term: str, value: float, count: int) -> int:
        """Restore the last checkpoint and lower every optimizer's learning rate; returns the
        step training continues from."""
        self.restore(required=True)
        factor = self.config.nan_lr_factor
        rates = []
        for optimizer in self.optimizers():
            optimizer.learning_rate = learning_rate(optimizer) * factor
            rates.append(f"{learning_rate(optimizer):.3g}")
        restored = int(self.step)
        LOGGER.warning("%s is %s at step %d; rollback %d of %d: restored %s, learning rates now %s", term, value,
                       step, count, self.config.nan_rollbacks, Path(self.restored_checkpoint).name, ", ".join(rates))
        return restored

    def optimizers(self) -> list[keras.optimizers.Optimizer]:
        """The optimizers among the checkpointed objects."""
        return list(self.named_optimizers().values())

    def named_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """The optimizers by the name their learning rate is logged under (``lr/<name>``): the
        checkpoint key without ``_optimizer`` (``d``, ``g``, SCoGAN's encoder ``e``)."""
        return {key.removesuffix("_optimizer"): o for key, o in self.trackables().items()
                if isinstance(o, keras.optimizers.Optimizer)}

    def _declare_metrics(self, writer, hparams: dict, training_tags: list[str]) -> None:
        """The HParams experiment summary: the run's hyperparameters, and as metrics the losses
        the step logs, the speed and the evaluation keys of the run's ``--metrics``."""
        from scogan.metrics import headline_keys, metric_names

        config = self.config
        named = config.metrics != Config().metrics
        eval_keys = headline_keys(metric_names(config.metrics, config.gan_type, named=named), self.task.num_domains)
        tags = write_experiment(writer, hparams, [*training_tags, SPEED_TAG], eval_keys)
        LOGGER.debug("HParams: %d hyperparameters, metrics %s", len(hparams), ", ".join(tags))

    def _log_schedule(self, writer, step: int, iterations_per_second: float | None) -> None:
        """Each optimizer's learning rate as it applies it now (``lr/<name>``; a rollback lowers
        it) and the training speed since the last log."""
        with writer.as_default(step=step):
            for name, optimizer in self.named_optimizers().items():
                tf.summary.scalar(lr_tag(name), learning_rate(optimizer))
            if iterations_per_second is not None:
                tf.summary.scalar(SPEED_TAG, iterations_per_second)

    def _next_batch(self, batches):
        try:
            return next(batches)
        except StopIteration:
            raise RuntimeError("the training data ran out before --iterations") from None
        except tf.errors.OpError as error:
            from scogan.data.sources import DataError

            damaged = self.task.undecodable_files() if hasattr(self.task, "undecodable_files") else []
            named = f"; damaged file(s): {', '.join(damaged[:5])}" if damaged else ""
            raise DataError(f"reading training images failed at step {int(self.step) + 1}: "
                            f"{error.message.splitlines()[0][:200]}{named}") from None

    def _batches(self, start_step: int):
        """An iterator over ``training_data(start_step)``; under a strategy, each replica's rows
        of it (``trainers.distribute.distribute_steps``)."""
        if not self.distributed:
            return iter(self.training_data(start_step))
        return iter(distribute.distribute_steps(self.strategy, lambda: self.training_data(start_step),
                                                self.batch_axis))

    @property
    def batch_axis(self) -> int:
        """The batch axis of every tensor ``training_data`` yields: 1 after the stacked
        discriminator updates (``batches_per_step``)."""
        return 1

    def export_networks(self) -> None:
        """``export``, with BatchNorm unsynchronised in the saved files (``--sync_batch_norm``
        is how this run trained, not a property of the networks)."""
        norms = distribute.batch_norm_layers(self.models()) if self.distributed else []
        synchronized = [layer.synchronized for layer in norms]
        for layer in norms:
            layer.synchronized = False
        try:
            self.export()
        finally:
            for layer, value in zip(norms, synchronized):
                layer.synchronized = value

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
