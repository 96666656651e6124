"""Prints training-step throughput (iterations/second) for a few net widths and batch sizes.

    python benchmarks/bench_step.py [--widths 0.125,0.25,1.0] [--batch_sizes 32,64] [--steps 20]
                                    [--extra precision=mixed_bfloat16,jit=true]
    python benchmarks/bench_step.py --extra strategy=mirrored             # every GPU (docs/distributed.md)
    python benchmarks/bench_step.py --extra strategy=mirrored --logical_cpus 2   # the CPU split in two

``--extra`` sets any Config field; ``precision`` and ``jit`` apply as in training (the step
XLA-compiled with ``jit=true``). ``benchmarks/bench_explain.py --precisions ... --jit both``
prints the ratios to float32 without XLA.

With a strategy the batch is the global batch and the step is the distributed one
(``Trainer._distributed_step``: all-reduces and the replicas' reductions included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402

from scogan.data import DataOptions, load_task, training_batches  # noqa: E402
from scogan.trainers import TRAINERS  # noqa: E402
from scogan.utils.config import Config, field_types  # noqa: E402

FIELD_TYPES = field_types()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", default="0.125,0.25")
    parser.add_argument("--batch_sizes", default="32,64")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--gan_type", default="cogan")
    parser.add_argument("--extra", default="", help="extra Config fields, e.g. 'loss=wgan,penalty=wgan-gp,disc_iters=5' or 'd_width=1.0'")
    parser.add_argument("--logical_cpus", type=int, default=0,
                        help="split the CPU into this many logical devices first (for strategy=mirrored without GPUs)")
    args = parser.parse_args()
    if args.logical_cpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
    extra = dict(kv.split("=") for kv in args.extra.split(",") if kv)
    task = load_task("mnist2edge", DataOptions(source="bundled"))
    print(f"{'width':>6} {'batch':>6} {'it/s':>8}  ({args.gan_type}, {extra or 'defaults'})")
    for width in map(float, args.widths.split(",")):
        for batch in map(int, args.batch_sizes.split(",")):
            fields = {f: FIELD_TYPES[f](v) for f, v in extra.items()}
            config = Config(width=width, batch_size=batch, gan_type=args.gan_type, **fields)
            with tempfile.TemporaryDirectory() as run_dir:
                trainer = TRAINERS.get(config.gan_type)(config, task, run_dir)
                if trainer.distributed:
                    distributed = tf.function(trainer._distributed_step, autograph=False,
                                              jit_compile=True if config.jit else None)
                    requests = tf.constant([False, False])

                    def step(batches, distributed=distributed, requests=requests):
                        return distributed(batches, requests)[0]
                    it = trainer._batches(0)
                else:
                    step = tf.function(trainer.train_step, jit_compile=True if config.jit else None)
                    it = iter(training_batches(task.domains, batch, 0, config.disc_iters))
                step(next(it))  # trace
                began = time.perf_counter()
                for _ in range(args.steps):
                    out = step(next(it))
                float(out["g_total"])
                rate = args.steps / (time.perf_counter() - began)
            print(f"{width:>6} {batch:>6} {rate:>8.2f}")


if __name__ == "__main__":
    main()
