"""Training on several devices or machines (``--strategy``): tf.distribute for the custom loop.

``default`` is no strategy at all (``tf.distribute.get_strategy()``): the single-device step
of ``trainers.base``, unchanged. ``mirrored`` is ``tf.distribute.MirroredStrategy`` over this
machine's GPUs (all visible ones; ``CUDA_VISIBLE_DEVICES`` chooses), or its logical CPUs when it
has none; ``multiworker`` is ``tf.distribute.MultiWorkerMirroredStrategy`` over the machines
``TF_CONFIG`` lists. Under either, one step runs as follows (docs/distributed.md):

* **Batch.** ``--batch_size`` (per domain) is the global batch, split evenly over the R
  replicas. Every worker reads the global batch of each step from the same stream a
  single-device run reads and keeps its replicas' rows (``distribute_steps``), so the data
  of a step does not depend on R.
* **Losses.** Each replica's loss terms are means over its rows. Keras 3's TensorFlow
  optimizer sums the gradients over replicas inside ``apply_gradients``
  (``TFOptimizer._all_reduce_sum_gradients``), so the trainer scales each loss by 1/R before
  differentiating (``trainers.loss_scaling.gradients``): the sum over replicas is then the gradient of the
  global-batch mean. Terms that do not depend on the batch (weight decay) are computed on
  every replica and so count once. Logged values are averaged over replicas.
* **Random numbers.** A ``tf.random.Generator`` created in a strategy's scope gives each
  replica its own stream (it folds the replica id into the key). The latent vectors and the
  gradient penalty's interpolation weights are drawn here instead as ONE global batch on
  every replica (each replica's copy of the generator state is identical and advances
  identically), of which each replica keeps its rows (``replica_rows_of_draw``): the numbers
  a single device draws. Dropout masks (Keras seed-generator states, ``trainers.base.seed_states``)
  are drawn per replica, with the replica id added to the seed for the step
  (``replica_dropout_seeds``), so replicas drop independent units; the states advance as on
  one device.
* **BatchNorm.** By default each replica normalises with the statistics of its own rows
  (Keras' ``BatchNormalization(synchronized=False)``: no communication). Keras 3 creates the
  moving mean and variance with aggregation NONE, so each replica would update its own copy
  and the copies would drift apart (a checkpoint saves replica 0's); they are averaged over
  replicas at the end of every step (``average_moving_statistics``; the update is linear, so
  that is the moving average of the replica-averaged batch statistics). ``--sync_batch_norm``
  sets ``synchronized=True``: statistics of the global batch (one all-reduce per BatchNorm
  call), and a distributed step computes what a single device computes on the same batch.
* **Divergence guard.** Every logged value is averaged and every ``finite/`` flag ANDed over
  replicas (``reduce_step``), so all replicas and workers stop or roll back together. The
  loop's own requests (a checkpoint due by the clock, a signal) are ORed over workers in the
  same all-reduce, so every worker saves and stops at the same step.
* **Checkpoints.** Networks, optimizers, the step counter and the generator are created in
  ``strategy.scope()`` (mirrored variables); a checkpoint holds one copy, restorable under any
  strategy. With ``multiworker`` only the chief writes the run directory; the other workers
  run the same steps (saving included: all workers take part) in a temporary directory, as
  TensorFlow's multi-worker guide advises, and on ``--resume`` read the chief's checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator

import keras
import tensorflow as tf

from scogan.utils.config import ConfigurationError

STRATEGIES = ("default", "mirrored", "multiworker")
TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}\'')
# Added (times the replica id) to the first word of each dropout seed during a step: any odd
# constant gives distinct seeds for up to 2^32 replicas.
REPLICA_SEED_STRIDE = 0x9E3779B1
_STRATEGIES: dict[str, tf.distribute.Strategy] = {}


def strategy_for(name: str) -> tf.distribute.Strategy:
    """The strategy ``--strategy name`` trains under; one per process (a second call returns the
    first: MultiWorkerMirroredStrategy configures the runtime once).

    ConfigurationError for an unknown name, or ``multiworker`` without a usable ``TF_CONFIG``.
    """
    if name not in STRATEGIES:
        raise ConfigurationError(f"unknown --strategy {name!r}; valid choices: {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in _STRATEGIES:
        if name == "multiworker":
            check_tf_config()
            _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            _STRATEGIES[name] = tf.distribute.MirroredStrategy(local_devices())
    return _STRATEGIES[name]


def local_devices() -> list[str]:
    """The devices ``mirrored`` replicates over: every logical GPU, else every logical CPU (one,
    unless the process split it with ``tf.config.set_logical_device_configuration``)."""
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


def check_tf_config() -> dict:
    """The parsed ``TF_CONFIG`` of this worker; ConfigurationError saying what is missing."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        raise ConfigurationError(f"--strategy multiworker needs the TF_CONFIG environment variable in every "
                                 f"worker: the cluster and this worker's place in it, e.g. {TF_CONFIG_EXAMPLE} "
                                 "on the first machine and index 1 on the second (docs/distributed.md)")
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(f"TF_CONFIG is not valid JSON ({error}); expected e.g. {TF_CONFIG_EXAMPLE}") from None
    cluster, task = spec.get("cluster"), spec.get("task")
    if not isinstance(cluster, dict) or not isinstance(task, dict) or not cluster.get("worker"):
        raise ConfigurationError(f"TF_CONFIG needs a \"cluster\" with a \"worker\" list and a \"task\"; got {text!r}; "
                                 f"expected e.g. {TF_CONFIG_EXAMPLE}")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise ConfigurationError(f"TF_CONFIG's task {task} is not in its cluster {cluster}")
    return spec


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory: always, except under multiworker, where
    only the chief does (task "chief", or worker 0 of a cluster without one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    kind, index = resolver.task_type, resolver.task_id
    if kind is None or kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in resolver.cluster_spec().as_dict()


def check_divisible(batch_size: int, replicas: int, name: str) -> None:
    """ConfigurationError unless the global batch splits evenly over the replicas."""
    if batch_size % replicas:
        low, high = batch_size // replicas * replicas, (batch_size // replicas + 1) * replicas
        raise ConfigurationError(f"--batch_size {batch_size} is the global batch and must split evenly over the "
                                 f"{replicas} replicas of --strategy {name}; use a multiple of {replicas} "
                                 f"(e.g. {low or high} or {high})")


# -- data --------------------------------------------------------------------------------------
def distribute_steps(strategy: tf.distribute.Strategy, make_dataset: Callable[[], tf.data.Dataset],
                     batch_axis: int) -> tf.distribute.DistributedDataset:
    """The per-step dataset ``make_dataset()`` (global batches; every tensor has the batch on
    ``batch_axis``) as a distributed dataset: replica r gets rows [r*b, (r+1)*b) of every
    tensor, b = batch / R. Each worker reads the whole stream and keeps its replicas' rows
    (its replicas take consecutive elements of its dataset), so the batches are those of a
    single-device run."""
    replicas = strategy.num_replicas_in_sync

    def per_worker(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = context.num_replicas_in_sync // context.num_input_pipelines
        first = context.input_pipeline_id * local

        def rows(tensor: tf.Tensor) -> tf.Tensor:
            return tf.stack(tf.split(tensor, replicas, axis=batch_axis)[first:first + local])

        return make_dataset().map(lambda *element: tf.nest.map_structure(rows, element)).unbatch()

    return strategy.distribute_datasets_from_function(per_worker)


# -- random numbers ----------------------------------------------------------------------------
def draw_unfolded(rng: tf.random.Generator, shape: list[int], distribution: str, minval: float = 0.0,
                  maxval: float = 1.0) -> tf.Tensor:
    """``rng.uniform(shape, minval, maxval)`` (``distribution`` "uniform") or ``rng.normal(shape)``
    without the replica id folded into the key: the same numbers on every replica, equal bit
    for bit to that call outside any strategy, and (this replica's copy of) the state advanced
    exactly as that call advances it."""
    counter_key = rng.skip(tf.reduce_prod(shape))  # the state before the skip
    counter_size = 1 if rng.algorithm == tf.random.Algorithm.THREEFRY.value else 2
    counter = tf.bitcast(counter_key[:counter_size], tf.uint64)
    key = tf.bitcast(counter_key[counter_size:counter_size + 1], tf.uint64)
    alg = tf.constant(rng.algorithm, tf.int32)
    if distribution == "uniform":  # as Generator.uniform and Generator.normal finish them
        unit = tf.raw_ops.StatelessRandomUniformV2(shape=shape, key=key, counter=counter, alg=alg)
        low, high = tf.constant(minval, tf.float32), tf.constant(maxval, tf.float32)
        return unit * (high - low) + low
    if distribution == "normal":
        return tf.raw_ops.StatelessRandomNormalV2(shape=shape, key=key, counter=counter, alg=alg) * 1.0 + 0.0
    raise ValueError(f"unknown distribution {distribution!r}; valid: uniform, normal")


def replica_rows(values: tf.Tensor) -> tf.Tensor:
    """This replica's rows of a global-batch tensor (rows [r*b, (r+1)*b), as ``distribute_steps``
    gives it its data)."""
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync
    split = tf.reshape(values, [replicas, values.shape[0] // replicas, *values.shape[1:]])
    return tf.gather(split, context.replica_id_in_sync_group)


def replica_rows_of_draw(rng: tf.random.Generator, shape: list[int], distribution: str, minval: float = 0.0,
                         maxval: float = 1.0) -> tf.Tensor:
    """This replica's rows of one ``draw_unfolded`` of the global ``shape`` (first axis the
    global batch)."""
    return replica_rows(draw_unfolded(rng, list(shape), distribution, minval, maxval))


@contextlib.contextmanager
def replica_dropout_seeds(states: list) -> Iterator[None]:
    """Within a replica: the dropout seed states (``trainers.base.seed_states``, [seed, counter])
    offset by the replica id, so each replica draws its own masks; the offset is removed on
    exit (the counters advanced as one device's would). Replica 0 draws what one device would
    for its first rows' shape."""
    if not states:
        yield
        return
    context = tf.distribute.get_replica_context()
    replica = tf.cast(context.replica_id_in_sync_group, tf.uint32)
    shifts = []
    for state in states:
        shift = tf.cast(tf.stack([replica * tf.constant(REPLICA_SEED_STRIDE, tf.uint32),
                                  tf.constant(0, tf.uint32)]), state.dtype)
        state.assign(state.value + shift)
        shifts.append(shift)
    yield
    for state, shift in zip(states, shifts):
        state.assign(state.value - shift)


# -- BatchNorm ---------------------------------------------------------------------------------
def batch_norm_layers(models: Iterable[keras.Model]) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer of ``models`` and the models nested in them, once each."""
    found: dict[int, keras.layers.BatchNormalization] = {}

    def visit(layer) -> None:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.setdefault(id(layer), layer)
        for inner in getattr(layer, "layers", None) or []:
            visit(inner)

    for model in models:
        visit(model)
    return list(found.values())


def average_moving_statistics(layers: list[keras.layers.BatchNormalization]) -> None:
    """Within a replica: set every replica's moving mean and variance to their mean over
    replicas (one all-reduce for all of them)."""
    variables = [v for layer in layers for v in (layer.moving_mean, layer.moving_variance)]
    if not variables:
        return
    # tf.identity: this replica's value as a tensor (an all-reduce of the variable itself fails
    # under MultiWorkerMirroredStrategy: "destinations can not be empty").
    means = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.MEAN,
                                                           [tf.identity(v.value) for v in variables])
    for variable, mean in zip(variables, means):
        variable.assign(mean)


# -- the step's outputs ------------------------------------------------------------------------
def reduce_step(metrics: dict[str, tf.Tensor], flags: dict[str, tf.Tensor], healthy: tf.Tensor,
                requests: tf.Tensor) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor], tf.Tensor, tf.Tensor]:
    """Within a replica, one all-reduce: the scalar ``metrics`` averaged over replicas, each of
    ``flags`` and ``healthy`` true only if true on every replica, and ``requests`` (bool
    vector: the loop's checkpoint and stop requests) true if true on any worker."""
    context = tf.distribute.get_replica_context()
    names, flag_names = list(metrics), list(flags)
    values = tf.stack([tf.reshape(tf.cast(metrics[k], tf.float32), []) for k in names]) if names else tf.zeros([0])
    failed = tf.cast(tf.logical_not(tf.stack([*(flags[k] for k in flag_names), healthy])), tf.float32)
    summed = context.all_reduce(tf.distribute.ReduceOp.SUM, [values, failed, tf.cast(requests, tf.float32)])
    mean = summed[0] / context.num_replicas_in_sync
    reduced = {k: mean[i] for i, k in enumerate(names)}
    ok = tf.equal(summed[1], 0.0)
    return reduced, {k: ok[i] for i, k in enumerate(flag_names)}, ok[-1], summed[2] > 0.0


__all__ = [
    "STRATEGIES", "average_moving_statistics", "batch_norm_layers", "check_divisible", "check_tf_config",
    "distribute_steps", "draw_unfolded", "is_chief", "reduce_step", "replica_dropout_seeds", "replica_rows",
    "replica_rows_of_draw", "strategy_for",
]
