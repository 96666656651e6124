"""Command-line entry point: train or evaluate a GAN, CoGAN or SCoGAN.

    python main.py                                   # CoGAN on mnist2edge, CPU-sized
    python main.py --cogan_data horse2zebra --loss wgan --penalty wgan-gp --data_dir DATA
    python main.py --mode evaluate --dir runs/RUN    # writes RUN/metrics.json
    python main.py --gan_type classifier --cogan_data mnist2mnistm --data_dir DATA  # Table B.1

``python main.py --help`` documents every option.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from utils.config import Config, ConfigurationError, parse_config  # noqa: E402


class UsageError(Exception):
    """A problem with the command line or its inputs, reported without a traceback."""


def check_names(config: Config) -> None:
    """Fail fast, before any data is loaded, on a name no registry knows."""
    import data
    import losses
    import nets
    import penalties
    import trainers

    trainers.TRAINERS.get(config.gan_type)
    data.TASKS.get(config.cogan_data)
    losses.LOSSES.get(config.loss)
    penalties.DISCRIMINATOR_PENALTIES.get(config.penalty)
    penalties.GENERATOR_PENALTIES.get(config.gen_penalty)
    for name, registry in ((config.g_arch, nets.GENERATORS), (config.d_arch, nets.DISCRIMINATORS)):
        if name != "auto":
            registry.get(name)
    coupling = [flag for flag, on in (("--gen_penalty", config.gen_penalty != "none"),
                                      ("--semantic_loss", config.semantic_loss),
                                      ("--use_cycle", config.use_cycle),
                                      ("--perceptual_loss", config.perceptual_loss)) if on]
    if coupling and config.gan_type != "scogan":
        raise UsageError(f"{', '.join(coupling)}: SCoGAN regularisers need --gan_type scogan "
                         f"(got --gan_type {config.gan_type})")


def load_task_for(config: Config):
    from data import DataOptions, load_task

    options = DataOptions(
        data_dir=config.resolved_data_dir, source=config.data_source, seed=config.seed,
        image_size=config.image_size, attribute=config.attribute, domain_dirs=config.domain_dirs,
        background_dir=config.background_dir, classifier_path=config.classifier_path,
    )
    task = load_task(config.cogan_data, options)
    if config.gan_type == "gan":
        task = task.select(config.gan_domain - 1)
    return task


def train(config: Config, given: set[str]) -> None:
    from trainers import TRAINERS
    from utils.run_dir import claim_run_dir, load_run_config, write_config

    if config.resume:
        if not config.dir:
            raise UsageError("--resume needs --dir RUN")
        saved = load_run_config(config.dir)
        changed = sorted(k for k in given - {"resume", "dir", "iterations", "data_dir", "data_source"}
                         if getattr(config, k) != getattr(saved, k))
        if changed:
            raise UsageError(f"--resume continues the saved configuration; these options differ from "
                             f"{config.dir}/config.json: {', '.join(changed)}")
        config = saved.replace(
            resume=True,
            iterations=config.iterations if "iterations" in given else saved.iterations,
            data_dir=config.data_dir or saved.data_dir, data_source=config.data_source,
        )
        run_dir = write_config(Path(config.dir), config) and config.dir
    else:
        check_names(config)
        run_dir = claim_run_dir(config)
    task = load_task_for(config)
    trainer = TRAINERS.get(config.gan_type)(config, task, run_dir)
    if not config.resume:
        config = write_config(run_dir, config)
    print(f"Run directory: {run_dir}  (tensorboard --logdir {run_dir}/logs)")
    trainer.train()
    outputs = "" if config.gan_type == "classifier" else f"samples in {run_dir}/samples, "
    print(f"Done: {outputs}checkpoints in {run_dir}/checkpoints")


def evaluate(config: Config, given: set[str]) -> dict[str, float]:
    from trainers import TRAINERS
    from utils.run_dir import load_run_config, update_metrics

    if not config.dir:
        raise UsageError("--mode evaluate needs --dir RUN")
    saved = load_run_config(config.dir)
    # Where the data lives may differ on the evaluating machine; each given option replaces
    # only its own saved value.
    saved = saved.replace(**{k: getattr(config, k) for k in ("data_dir", "data_source") if k in given})
    names = [m.strip() for m in config.metrics.split(",") if m.strip()]
    if saved.gan_type == "classifier" and "metrics" not in given:
        names = ["classifier_accuracy"]  # a classifier run has no generators to score
    from metrics import METRICS

    for name in names:
        METRICS.get(name)
    task = load_task_for(saved)
    trainer = TRAINERS.get(saved.gan_type)(saved, task, config.dir)
    step = trainer.restore(required=True)
    # --classifier_path here replaces the run's for the classifier metrics only.
    override = config.classifier_path if "classifier_path" in given else None
    results = trainer.evaluate(names, config.num_pairs, classifier_path=override)
    results = {**results, "iteration": step, "num_pairs": config.num_pairs}
    update_metrics(config.dir, results)
    width = max(len(k) for k in results)
    print(f"{'metric':<{width}}  value")
    for key, value in sorted(results.items()):
        print(f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    print(f"(appended to {config.dir}/metrics.json)")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    config, given = parse_config(argv)
    from data import DataNotFoundError
    from utils.registry import UnknownNameError
    from utils.run_dir import RunDirectoryError

    try:
        if config.mode == "evaluate":
            evaluate(config, given)
        else:
            train(config, given)
    except (UsageError, ConfigurationError, UnknownNameError, DataNotFoundError, RunDirectoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
