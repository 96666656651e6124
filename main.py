"""Command-line entry point: train or evaluate a GAN, CoGAN or SCoGAN.

    python main.py                                   # CoGAN on mnist2edge, CPU-sized
    python main.py --cogan_data horse2zebra --loss wgan --penalty wgan-gp --data_dir DATA
    python main.py --mode evaluate --dir runs/RUN    # appends to RUN/metrics.jsonl
    python main.py --gan_type classifier --cogan_data mnist2mnistm --data_dir DATA  # Table B.1
    python main.py --mode sample --dir runs/RUN --num 100 --out samples/       # inference/
    python main.py --mode interpolate --dir runs/RUN --out walks/
    python main.py --mode translate --dir runs/RUN --inputs digit.png --out translated/

``python main.py --help`` documents every option.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scogan.utils.config import Config, ConfigurationError, parse_config  # noqa: E402


class UsageError(Exception):
    """A problem with the command line or its inputs, reported without a traceback."""


def check_names(config: Config) -> None:
    """Fail fast, before any data is loaded, on a name no registry knows."""
    from scogan import data, losses, nets, penalties, trainers

    trainers.TRAINERS.get(config.gan_type)
    data.TASKS.get(config.cogan_data)
    losses.LOSSES.get(config.loss)
    penalties.DISCRIMINATOR_PENALTIES.get(config.penalty)
    penalties.GENERATOR_PENALTIES.get(config.gen_penalty)
    for name, registry in ((config.g_arch, nets.GENERATORS), (config.d_arch, nets.DISCRIMINATORS)):
        if name != "auto":
            registry.get(name)
    if config.image_size is not None:  # before any data is read
        nets.check_image_size(config.image_size, config.g_arch, config.d_arch)
    coupling = [flag for flag, on in (("--gen_penalty", config.gen_penalty != "none"),
                                      ("--semantic_loss", config.semantic_loss),
                                      ("--use_cycle", config.use_cycle),
                                      ("--perceptual_loss", config.perceptual_loss)) if on]
    if coupling and config.gan_type != "scogan":
        raise UsageError(f"{', '.join(coupling)}: SCoGAN regularisers need --gan_type scogan "
                         f"(got --gan_type {config.gan_type})")


def load_task_for(config: Config):
    from scogan.data import DataOptions, load_task

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
    """Train a new run, or continue one with ``--resume``.

    The run directory is created and locked (``utils.run_dir.RunLock``) before any data is
    loaded. A resume rewrites nothing in the run (config.json included) until its data
    matches the run's and a checkpoint has been restored.
    """
    from scogan.trainers import TRAINERS
    from scogan.utils.run_dir import (
        RunLock,
        claim_run_dir,
        load_run_config,
        remove_unstarted,
        write_config,
    )

    if config.resume:
        if not config.dir:
            raise UsageError("--resume needs --dir RUN")
        run_dir = Path(config.dir)
        saved = load_run_config(run_dir)
        changed = sorted(k for k in given - {"resume", "dir", "iterations", "data_dir", "data_source"}
                         if getattr(config, k) != getattr(saved, k))
        if changed:
            raise UsageError(f"--resume continues the saved configuration; these options differ from "
                             f"{config.dir}/config.json: {', '.join(changed)}")
        config = saved.replace(
            resume=True,
            iterations=config.iterations if "iterations" in given else saved.iterations,
            data_dir=config.data_dir or saved.data_dir,
            data_source=config.data_source if "data_source" in given else saved.data_source,
        )
        with RunLock(run_dir):
            task = load_task_for(config)
            check_same_data(run_dir, task)
            trainer = TRAINERS.get(config.gan_type)(config, task, run_dir)
            step = trainer.restore(required=True)
            print(f"Resuming {run_dir} from {Path(trainer.restored_checkpoint).name} (step {step})")
            write_config(run_dir, config)
            _run(trainer, config, run_dir)
        return
    check_names(config)
    run_dir, lock, created = claim_run_dir(config)
    try:
        task = load_task_for(config)
        trainer = TRAINERS.get(config.gan_type)(config, task, run_dir)
    except BaseException:
        if created:
            remove_unstarted(run_dir, lock)
        raise
    try:
        config = write_config(run_dir, config)
        record_data(run_dir, task)
        _run(trainer, config, run_dir)
    finally:
        lock.release()


def _run(trainer, config: Config, run_dir: Path) -> None:
    print(f"Run directory: {run_dir}  (tensorboard --logdir {run_dir}/logs)")
    trainer.train()
    outputs = "" if config.gan_type == "classifier" else f"samples in {run_dir}/samples, "
    print(f"Done: {outputs}checkpoints in {run_dir}/checkpoints")


def data_record(task) -> dict:
    """What a run read: the source of each dataset and a fingerprint of the images."""
    return {"sources": dict(getattr(task, "sources", {}) or {}),
            "fingerprint": task.fingerprint() if hasattr(task, "fingerprint") else None}


def record_data(run_dir: Path, task) -> None:
    from scogan.utils.run_dir import DATA_FILE, write_json_atomic

    write_json_atomic(run_dir / DATA_FILE, data_record(task))


def check_same_data(run_dir: Path, task) -> None:
    """A resume must read the data the run was trained on (RUN/data.json, when recorded)."""
    import json

    from scogan.utils.run_dir import DATA_FILE

    file = run_dir / DATA_FILE
    if not file.exists():
        return  # a run from before data.json existed
    try:
        recorded = json.loads(file.read_text())
    except ValueError:
        raise UsageError(f"{file} is damaged; cannot tell whether this is the run's data") from None
    now = data_record(task)
    if recorded.get("fingerprint") != now["fingerprint"] or recorded.get("sources") != now["sources"]:
        raise UsageError(
            f"--resume must read the same data as the run in {run_dir}: it was trained on "
            f"{_describe(recorded)}, but the data found now is {_describe(now)}; pass the run's "
            "--data_dir (or --data_source)")


def _describe(record: dict) -> str:
    sources = ", ".join(f"{k} from {v}" for k, v in sorted((record.get("sources") or {}).items())) or "unknown sources"
    counts = [f"{d.get('name')}: {d.get('images')}" for d in (record.get("fingerprint") or {}).get("domains", [])
              if isinstance(d, dict)]
    return f"{sources}" + (f" ({', '.join(counts)} images)" if counts else "")


def evaluate(config: Config, given: set[str]) -> dict[str, float]:
    """``_evaluate`` holding the run's lock (one process trains or evaluates a run at a time)."""
    from scogan.utils.run_dir import RunLock, load_run_config

    if not config.dir:
        raise UsageError("--mode evaluate needs --dir RUN")
    load_run_config(config.dir)  # a clear error, and no lock file, for a folder that is not a run
    with RunLock(config.dir):
        return _evaluate(config, given)


def _evaluate(config: Config, given: set[str]) -> dict[str, float]:
    """Score the run's latest checkpoint with ``--metrics``; the values are appended to
    RUN/metrics.jsonl (with iteration, checkpoint and ``--num_pairs``) and summarised in
    RUN/metrics.json. A run marked diverged, or generators that output NaN/Inf, are refused."""
    from scogan.metrics import NonFiniteOutputError
    from scogan.trainers import TRAINERS
    from scogan.utils.records import RECORDS_FILE, SUMMARY_FILE, append_evaluation
    from scogan.utils.run_dir import load_run_config, read_status

    if not config.dir:
        raise UsageError("--mode evaluate needs --dir RUN")
    saved = load_run_config(config.dir)
    status = read_status(config.dir)
    if status is not None and status.get("state") == "diverged":
        raise UsageError(f"{config.dir} diverged in training (status.json: step {status.get('step')}, "
                         f"{status.get('message') or 'no message'}); its networks are not scored. Train it "
                         "again, e.g. with a lower learning rate or --on_nan rollback")
    # Where the data lives may differ on the evaluating machine; each given option replaces
    # only its own saved value.
    saved = saved.replace(**{k: getattr(config, k) for k in ("data_dir", "data_source") if k in given})
    names = [m.strip() for m in config.metrics.split(",") if m.strip()]
    if saved.gan_type == "classifier" and "metrics" not in given:
        names = ["classifier_accuracy"]  # a classifier run has no generators to score
    if saved.gan_type == "uda" and "metrics" not in given:
        names = ["target_accuracy", "source_accuracy"]  # what an adaptation run is for
    if not names:
        raise UsageError("--metrics is empty; name at least one metric (e.g. --metrics pixel_agreement)")
    from scogan.metrics import METRICS

    for name in names:
        METRICS.get(name)
    task = load_task_for(saved)
    trainer = TRAINERS.get(saved.gan_type)(saved, task, config.dir)
    step = trainer.restore(required=True)
    restored = getattr(trainer, "restored_checkpoint", None) or trainer.manager.latest_checkpoint
    checkpoint = Path(restored).name if restored else None
    # --classifier_path here replaces the run's for the classifier metrics only.
    override = config.classifier_path if "classifier_path" in given else None
    try:
        results = trainer.evaluate(names, config.num_pairs, classifier_path=override)
    except NonFiniteOutputError as error:
        raise NonFiniteOutputError(f"{checkpoint} (iteration {step}): {error}; nothing recorded") from None
    append_evaluation(config.dir, results, iteration=step, checkpoint=checkpoint, num_pairs=config.num_pairs)
    width = max(len(k) for k in results)
    print(f"{'metric':<{width}}  value   ({checkpoint}, iteration {step}, {config.num_pairs} pairs)")
    for key, value in sorted(results.items()):
        print(f"{key:<{width}}  {value:.4f}")
    print(f"(appended to {config.dir}/{RECORDS_FILE}; latest per metric in {config.dir}/{SUMMARY_FILE})")
    return results


def sample(config: Config, given: set[str]) -> None:
    """``--mode sample``: ``--num`` generated tuples of the run in --dir (``inference.sample``)."""
    from scogan.inference import load_trained_run, write_samples
    from scogan.inference.run import check_out_dir

    out = check_out_dir(config.out, "sample")
    run = load_trained_run(config, given, "sample")
    result = write_samples(run, out, config.num, config.seed)
    print(f"{result.num} tuples from {run.checkpoint} (iteration {run.step}) in {', '.join(map(str, result.folders))}"
          f" and {out}/samples.npz")


def interpolate(config: Config, given: set[str]) -> None:
    """``--mode interpolate``: latent walks of the run in --dir (``inference.interpolate``)."""
    from scogan.inference import load_trained_run, write_latent_walks
    from scogan.inference.run import check_out_dir

    out = check_out_dir(config.out, "interpolate")
    run = load_trained_run(config, given, "interpolate")
    result = write_latent_walks(run, out, config.walks, config.walk_steps, config.interpolation, config.seed)
    print(f"{config.walks} {config.interpolation} walks of {config.walk_steps} steps from {run.checkpoint} "
          f"(iteration {run.step}): {result.grid}, {result.gif} ({result.frames} frames)")


def translate(config: Config, given: set[str]) -> None:
    """``--mode translate``: real images of --from_domain rendered in the other domains
    (``inference.translate``)."""
    from scogan.inference import load_trained_run, write_translations
    from scogan.inference.run import check_out_dir

    out = check_out_dir(config.out, "translate")
    if not config.inputs:
        raise UsageError("--mode translate needs --inputs PATH ..., image files or .npz files of the input domain")
    run = load_trained_run(config, given, "translate")
    result = write_translations(run, out, list(config.inputs), config.from_domain, config.translate_loss,
                                config.translate_optimizer, config.translate_steps, config.restarts,
                                config.translate_lr, config.seed)
    print(f"{result.count} images of {run.domain_names[config.from_domain - 1]} translated with {run.checkpoint} "
          f"(iteration {run.step}) in {result.seconds:.1f} s; reconstruction MSE mean {result.mse.mean():.4f}, "
          f"max {result.mse.max():.4f}: {out}/translation.png, {out}/errors.csv")


def applicable(config: Config, given: set[str]) -> bool:
    """Report the typed options that do not apply (``utils.applicability``) on stderr, one
    line per reason; False when any of them is refused (an error, exit 2)."""
    from scogan.utils.applicability import ERROR, check_applicability, describe

    issues = check_applicability(config, given)
    for line in describe(issues):
        print(line, file=sys.stderr)
    return not any(issue.action == ERROR for issue in issues)


INFERENCE_MODES = {"sample": sample, "interpolate": interpolate, "translate": translate}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status: 0 done, 2 a usage or input error (one
    line on stderr per problem, never a traceback; typed options that cannot apply are
    refused before anything is created, ``utils.applicability``), 1 a checkpoint that
    cannot be read or written, 3 training diverged, 130 / 143 interrupted by SIGINT / SIGTERM."""
    from scogan.utils.signals import EXIT_CODES, Terminated

    try:
        return _main(argv)
    except (KeyboardInterrupt, Terminated) as error:
        # Outside the training loop (which checkpoints and explains itself), or a second Ctrl-C.
        signum = signal.SIGTERM if isinstance(error, Terminated) else signal.SIGINT
        print(f"\ninterrupted by {signal.Signals(signum).name}; a run whose training had started "
              "continues from its newest readable checkpoint with: python main.py --resume --dir RUN",
              file=sys.stderr)
        return EXIT_CODES[signum]


def _main(argv: Sequence[str] | None) -> int:
    config, given = parse_config(argv)
    if not applicable(config, given):
        return 2
    from scogan.data.sources import DataError
    from scogan.inference.errors import InferenceError
    from scogan.metrics.errors import MetricError
    from scogan.metrics.lpips_weights import LPIPSWeightsUnavailable
    from scogan.trainers.base import TrainingStopped
    from scogan.trainers.checkpoints import CheckpointError
    from scogan.utils.registry import UnknownNameError
    from scogan.utils.run_dir import RunDirectoryError

    try:
        if config.mode == "evaluate":
            evaluate(config, given)
        elif config.mode in INFERENCE_MODES:
            INFERENCE_MODES[config.mode](config, given)
        else:
            train(config, given)
    except (UsageError, ConfigurationError, UnknownNameError, DataError, RunDirectoryError,
            MetricError, LPIPSWeightsUnavailable, InferenceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except TrainingStopped as error:
        print(f"\n{error}", file=sys.stderr)
        return error.exit_code
    return 0


def cli() -> int:
    """The ``scogan`` command (and ``python main.py``): the command line of :func:`main`."""
    from scogan.utils.signals import terminate_as_exception

    terminate_as_exception()  # SIGTERM before or after the training loop: a message and exit 143
    return main()


if __name__ == "__main__":
    sys.exit(cli())
