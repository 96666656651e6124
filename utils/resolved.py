"""The resolved configuration: what a run actually ran, written as RUN/resolved_config.json.

RUN/config.json keeps what was typed (``g_arch "auto"``, ``shared_layers null``, ...) and is
what ``--resume`` and ``--mode evaluate`` load. This file is a record only, never read
back: the same keys with every ``auto`` or unset value replaced by what the trainer built
(read from its networks and its task, not worked out again from the options), a few
keys of its own (per-domain image shapes, data sources, the ``--gan_type`` defaults in
force, the networks' compute dtype and loss scaling) and ``environment`` (library
versions, platform, the git commit of the code).
Each start of training, new or resumed, rewrites it and logs it to TensorBoard as text.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from scogan.utils.config import GAN_TYPE_DEFAULTS, RESOLVED_KEY
from scogan.utils.run_dir import CONFIG_FILE, write_json_atomic

RESOLVED_FILE = "resolved_config.json"
CODE_ROOT = Path(__file__).resolve().parents[1]  # the folder holding main.py
GIT_TIMEOUT = 5.0  # seconds


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=CODE_ROOT, capture_output=True, text=True,
                                timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):  # no git, or it hangs
        return None
    return result.stdout if result.returncode == 0 else None


def code_version() -> dict[str, Any]:
    """``git_commit`` (HEAD of the checkout holding main.py) and ``git_dirty`` (uncommitted
    changes); both None when the code is not a git checkout or git cannot be run."""
    commit = _git("rev-parse", "HEAD")
    if not commit or not commit.strip():
        return {"git_commit": None, "git_dirty": None}
    status = _git("status", "--porcelain")
    return {"git_commit": commit.strip(), "git_dirty": None if status is None else bool(status.strip())}


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def environment() -> dict[str, Any]:
    """Versions of Python, the libraries and the project, the platform, and the code's commit."""
    import keras
    import numpy as np
    import tensorflow as tf

    return {
        "python": platform.python_version(), "python_executable": sys.executable,
        "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
        "scogan": _version("scogan"),
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        **code_version(),
    }


def _data(trainer) -> dict[str, Any]:
    config, task = trainer.config, trainer.task
    sources = dict(getattr(task, "sources", {}) or {})
    kinds = sorted(set(sources.values()))
    data_dir = config.resolved_data_dir
    if data_dir is None and kinds == ["bundled"]:
        from scogan.data.mnist import BUNDLED

        data_dir = str(BUNDLED.parent)
    shapes = [list(map(int, shape)) for shape in task.image_shapes]
    # One source for every dataset, else dataset=source pairs (e.g. mnist=raw,svhn=tfds).
    source = kinds[0] if len(kinds) == 1 else ",".join(f"{k}={v}" for k, v in sorted(sources.items()))
    return {
        "data_source": source or None,
        "data_sources": sources,
        "data_dir": data_dir,
        "image_size": shapes[0][0],
        "image_shapes": shapes,
        "channels": [shape[2] for shape in shapes],
        "domains": [{"name": d.name, "images": len(d), "image_shape": list(map(int, d.image_shape))}
                    for d in task.domains],
        "cache": getattr(task, "cache", "none"),  # --cache auto resolved (data.cache)
        "cache_dir": getattr(task, "cache_dir", None),
    }


def _networks(trainer) -> dict[str, Any]:
    generator = getattr(trainer, "generator", None)
    discriminator = getattr(trainer, "discriminator", None)
    if generator is None or discriminator is None:  # the classifier trainer: one network
        model, options = trainer.model, trainer.options
        return {"g_arch": None, "d_arch": None, "shared_layers": None, "d_shared_layers": None,
                "classifier_arch": model.name, "classifier_outputs": int(model.output_shape[-1]),
                "width": options.width, "d_width": None, "weight_init": options.weight_init,
                "disc_norm": None, "upsample": None, "noise_dim": None}
    g_options, d_options = trainer.g_options, trainer.d_options
    values = {
        "g_arch": generator.arch, "d_arch": discriminator.arch,
        "shared_layers": int(generator.shared_layers), "d_shared_layers": int(discriminator.shared_layers),
        "generator_blocks": int(generator.num_blocks),
        "width": g_options.width, "d_width": d_options.width,
        "weight_init": g_options.weight_init, "prelu_init": g_options.prelu_init,
        "disc_norm": d_options.disc_norm, "upsample": g_options.upsample,
        "noise_dim": int(generator.model.input_shape[-1]),
    }
    if hasattr(trainer, "feature_layers"):  # SCoGAN: K of the feature regulariser (0: off)
        values["feature_layers"] = int(trainer.feature_layers)
        values["active_terms"] = list(trainer.active_terms)
    return values


def _precision(trainer) -> dict[str, Any]:
    """What ``--precision`` built: the dtype the networks compute in (read from the main
    network's first layer with weights) and whether the optimizers scale the loss."""
    from scogan.trainers.loss_scaling import is_loss_scaled
    from scogan.utils.precision import compute_dtype

    generator = getattr(trainer, "generator", None)
    model = generator.model if generator is not None else trainer.model
    return {"compute_dtype": compute_dtype(model), "variable_dtype": model.dtype_policy.variable_dtype,
            "loss_scaling": any(is_loss_scaled(o) for o in trainer.optimizers())}


def resolved_config(trainer) -> dict[str, Any]:
    """The run's configuration with every ``auto``/unset value replaced by what ``trainer``
    built, plus ``gan_type_defaults`` and ``environment`` (see the module docstring)."""
    config = trainer.config
    values = json.loads(config.to_json())
    values.update(_data(trainer))
    values.update(_networks(trainer))
    values.update(_precision(trainer))
    replicas = int(getattr(trainer, "replicas", 1))  # --strategy (trainers.distribute)
    values.update(replicas=replicas, batch_size_per_replica=config.batch_size // replicas)
    # The --gan_type defaults in force: those the run's values equal (one typed equal to
    # its default counts as the default, as it changes nothing).
    values["gan_type_defaults"] = {name: value for name, value in GAN_TYPE_DEFAULTS.get(config.gan_type, {}).items()
                                   if getattr(config, name) == value}
    values["environment"] = environment()
    return values


def write_resolved_config(trainer, writer, step: int) -> dict[str, Any]:
    """Write ``resolved_config(trainer)`` to RUN/resolved_config.json (atomically), into
    RUN/config.json under the key ``resolved`` (beside the typed options, which are what
    ``--resume`` and ``--mode evaluate`` reload; ``Config.load`` skips the key) and to
    TensorBoard as text (``resolved_config``, at ``step``); returns it."""
    import tensorflow as tf

    values = resolved_config(trainer)
    write_json_atomic(Path(trainer.run_dir) / RESOLVED_FILE, values)
    typed_file = Path(trainer.run_dir) / CONFIG_FILE
    if typed_file.exists():  # config.json: what was typed (what a resume reloads), and what it resolved to
        typed = json.loads(typed_file.read_text())
        write_json_atomic(typed_file, {**typed, RESOLVED_KEY: values})
    with writer.as_default(step=step):
        tf.summary.text("resolved_config", f"```\n{json.dumps(values, indent=2, sort_keys=True)}\n```")
    return values


__all__ = ["RESOLVED_FILE", "RESOLVED_KEY", "code_version", "environment", "resolved_config", "write_resolved_config"]
