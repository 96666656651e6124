"""A training-step benchmark that explains itself: time, memory, FLOPs and their share of the
machine's matmul rate, the eager ratio and the input pipeline's share, per network size.

    python benchmarks/bench_explain.py [--configs digit_default,digit_cpu,digit_full,faces64,faces128]
                                       [--precisions float32,mixed_bfloat16,mixed_float16]
                                       [--jit off|on|both] [--steps 20] [--eager_steps 5] [--markdown]
    python benchmarks/bench_explain.py --configs faces64_files,faces128_files --cache none,memory,disk

The ``*_files`` configurations read 256 JPEGs per domain through a folders task, once per
``--cache`` mode (data.cache), so the input-wait column shows what decoding costs the step.

Each configuration runs in its own subprocess (so "peak RSS" is that configuration's own
peak resident memory) and prints, for a CoGAN on real-looking batches:

* ms per iteration and iterations per second of the compiled step (``tf.function``),
  after one traced warm-up step;
* the FLOPs of one iteration, counted by TensorFlow's profiler on the traced step's
  graph (forward and backward of every network, every discriminator update), and the
  achieved FLOP/s as a share of the rate a 2048 x 2048 fp32 ``tf.matmul`` reaches in the
  same process (the machine's practical peak);
* the ratio of the same step run eagerly (no ``tf.function``, as a thesis-style eager
  loop runs it) to the compiled one;
* the share of the loop's wall time spent waiting on the input pipeline (``next`` on the
  ``tf.data`` iterator).

``--precisions`` and ``--jit`` run each configuration in every combination of
``--precision`` and XLA (``--jit on``: the step compiled with ``jit_compile=True``, as
``main.py --jit`` does; ``both``: with and without), and the column ``× f32`` is the
variant's iterations per second over those of float32 without XLA for the same
configuration (run as well when not asked for). The eager ratio is against the variant's
compiled step (eager never uses XLA). The matmul peak stays float32's.

Numbers depend on the processor: print the machine line with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name: (task, Config fields). Faces use the tfds-free "folders" layout of random images.
CONFIGS: dict[str, tuple[str, dict[str, object]]] = {
    "digit_default": ("mnist2edge", dict(width=0.125, batch_size=32)),  # d_width defaults to 1.0
    "digit_cpu": ("mnist2edge", dict(width=0.25, d_width=0.25, batch_size=32)),
    "digit_full": ("mnist2edge", dict(width=1.0, d_width=1.0, batch_size=64)),
    "faces64": ("faces", dict(width=0.125, batch_size=16, image_size=64, upsample="resize", disc_norm="none")),
    "faces128": ("faces", dict(width=1.0, batch_size=64, image_size=128)),
    # The same nets reading JPEG files (a folders task), to show the input pipeline's share
    # with the decoded-image cache (--cache memory / disk) and without it (--cache none).
    "faces64_files": ("faces_files", dict(width=0.125, batch_size=16, image_size=64, upsample="resize",
                                          disc_norm="none")),
    "faces128_files": ("faces_files", dict(width=1.0, batch_size=64, image_size=128)),
}


def matmul_rate(n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of an n x n fp32 matmul (2 n^3 FLOPs), best of ``repeats``."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    float(matmul(a, b))
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        float(matmul(a, b))
        best = min(best, time.perf_counter() - began)
    return 2 * n**3 / best


def step_flops(step: object, batch: object) -> float | None:
    """FLOPs of one call of the ``tf.function`` ``step`` on ``batch``, from the profiler's
    per-op float-operation counts on its graph (None if the profiler cannot count)."""
    import tensorflow as tf

    graph = step.get_concrete_function(batch).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    try:
        profile = tf.compat.v1.profiler.profile(graph, options=options)
    except Exception:  # noqa: BLE001 - an op without shape information
        return None
    return float(profile.total_float_ops) or None


def cpu_precision_flags() -> str:
    """Which 16-bit instruction sets /proc/cpuinfo lists (what mixed precision needs on a CPU)."""
    from scogan.utils.precision import CPU_BF16_FLAGS, cpu_flags

    present = sorted(cpu_flags() & {*CPU_BF16_FLAGS, "avx512_fp16", "amx_fp16", "avx512f"})
    return "16-bit flags: " + (", ".join(present) if present else "none")


def faces_task(size: int):
    """Two domains of 256 random RGB images (speed only depends on the shapes)."""
    import numpy as np

    from scogan.data.task import Domain, Task

    rng = np.random.default_rng(0)
    return Task("faces", tuple(Domain(f"faces{d}", (size, size, 3),
                                      images=rng.integers(0, 256, (256, size, size, 3), dtype=np.uint8))
                               for d in range(2)))


def faces_files_task(size: int, folder: str, cache: str):
    """Two folders of 256 random 178x218 JPEGs (CelebA's file size), read as a folders task,
    centre-cropped and resized to ``size`` by its decoder, through ``--cache cache``."""
    import numpy as np
    from PIL import Image

    from scogan.data import DataOptions, load_task
    from scogan.data.cache import cache_task

    rng = np.random.default_rng(0)
    dirs = []
    for d in range(2):
        path = Path(folder) / f"faces{d}"
        path.mkdir(parents=True)
        for i in range(256):
            Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(path / f"{i}.jpg", quality=90)
        dirs.append(str(path))
    task = load_task("folders", DataOptions(domain_dirs=tuple(dirs), image_size=size))
    return cache_task(task, cache, Path(folder) / "cache")


def measure(name: str, steps: int, eager_steps: int, cache: str = "none", precision: str = "float32",
            jit: bool = False) -> dict[str, object]:
    """Run one configuration in this process and return its figures."""
    import tensorflow as tf

    from scogan.data import DataOptions, load_task, training_batches
    from scogan.trainers import TRAINERS
    from scogan.utils.config import Config

    task_name, fields = CONFIGS[name]
    config = Config(gan_type="cogan", precision=precision, jit=jit, **fields)
    files = tempfile.TemporaryDirectory()
    if task_name == "faces":
        task = faces_task(int(fields["image_size"]))
    elif task_name == "faces_files":
        task = faces_files_task(int(fields["image_size"]), files.name, cache)
    else:
        task = load_task(task_name, DataOptions(source="bundled"))
    with files, tempfile.TemporaryDirectory() as run_dir:
        trainer = TRAINERS.get("cogan")(config, task, run_dir)
        batches = iter(training_batches(task.domains, config.batch_size, 0, config.disc_iters).repeat())
        step = tf.function(trainer.train_step, jit_compile=True if jit else None)
        first = next(batches)
        flops = step_flops(step, first)
        float(step(first)["g_total"])  # trace and warm up
        waited = 0.0
        began = time.perf_counter()
        for _ in range(steps):
            fetch = time.perf_counter()
            batch = next(batches)
            waited += time.perf_counter() - fetch
            out = step(batch)
        float(out["g_total"])
        seconds = (time.perf_counter() - began) / steps
        eager_began = time.perf_counter()
        for _ in range(eager_steps):
            out = trainer.train_step(next(batches))
        float(out["g_total"])
        eager = (time.perf_counter() - eager_began) / max(eager_steps, 1)
    peak = matmul_rate()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if task_name == "faces_files":
        name = f"{name} (cache {cache})"
    return dict(config=name, variant=variant_name(precision, jit), ms=1000 * seconds, its=1 / seconds,
                rss_mib=rss, gflop=(flops or 0) / 1e9,
                gflops=(flops or 0) / seconds / 1e9, matmul_gflops=peak / 1e9,
                share=(flops or 0) / seconds / peak, eager_ratio=eager / seconds if eager_steps else None,
                input_share=waited / (seconds * steps), fields=fields)


def variant_name(precision: str, jit: bool) -> str:
    return precision + ("+jit" if jit else "")


def variants(precisions: list[str], jit: str) -> list[tuple[str, bool]]:
    """(precision, jit) pairs to run, float32 without XLA first (the ratios' baseline)."""
    jits = {"off": [False], "on": [True], "both": [False, True]}[jit]
    pairs = [(p, j) for p in precisions for j in jits]
    return [("float32", False), *[pair for pair in pairs if pair != ("float32", False)]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="digit_default,digit_cpu,digit_full,faces64")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--eager_steps", type=int, default=5)
    parser.add_argument("--precisions", default="float32",
                        help="comma-separated --precision values to run each configuration with")
    parser.add_argument("--jit", choices=("off", "on", "both"), default="off",
                        help="XLA-compile the step (on), not (off), or run both")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--cache", default="none,memory",
                        help="for the *_files configs: the --cache modes to compare (none, memory, disk)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one config, print JSON
    parser.add_argument("--one_precision", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--one_jit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.steps, args.eager_steps, args.cache, args.one_precision,
                                 args.one_jit)))
        return
    from scogan.utils.config import PRECISIONS

    names = [n for n in args.configs.split(",") if n]
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configs {unknown}; valid: {', '.join(CONFIGS)}")
    precisions = [p for p in args.precisions.split(",") if p]
    if not precisions or set(precisions) - set(PRECISIONS):
        parser.error(f"--precisions takes a comma-separated list of {', '.join(PRECISIONS)}")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    flags = cpu_precision_flags()
    print(f"machine: {cpu}, {os.cpu_count()} cores ({flags}); steps {args.steps}, eager steps {args.eager_steps}")
    rows = []
    jobs = [(name, cache) for name in names
            for cache in (args.cache.split(",") if CONFIGS[name][0] == "faces_files" else ["none"])]
    for name, cache in jobs:
        base = None
        for precision, jit in variants(precisions, args.jit):
            command = [sys.executable, __file__, "--one", name, "--steps", str(args.steps),
                       "--eager_steps", str(args.eager_steps), "--cache", cache, "--one_precision", precision]
            done = subprocess.run(command + (["--one_jit"] if jit else []), capture_output=True, text=True)
            if done.returncode:
                print(f"{name} {variant_name(precision, jit)}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            base = row["its"] if (precision, jit) == ("float32", False) else base
            row["speedup"] = row["its"] / base if base else None
            rows.append(row)
    header = ["config", "variant", "ms/it", "it/s", "× f32", "peak RSS MiB", "GFLOP/it", "GFLOP/s",
              "matmul GFLOP/s", "share", "eager ×", "input wait"]
    lines = [header] + [[r["config"], r["variant"], f"{r['ms']:.1f}", f"{r['its']:.2f}",
                         f"{r['speedup']:.2f}" if r["speedup"] else "—", f"{r['rss_mib']:.0f}",
                         f"{r['gflop']:.2f}", f"{r['gflops']:.1f}", f"{r['matmul_gflops']:.0f}",
                         f"{100 * r['share']:.0f}%", f"{r['eager_ratio']:.2f}" if r["eager_ratio"] else "—",
                         f"{100 * r['input_share']:.1f}%"] for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for line in lines[1:]:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        for line in lines:
            print("  ".join(cell.rjust(w) for cell, w in zip(line, widths)))


if __name__ == "__main__":
    main()
