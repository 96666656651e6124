"""Command-line entry point: train or evaluate a GAN, CoGAN or SCoGAN.

    python main.py                                   # CoGAN on mnist2edge, CPU-sized
    python main.py --cogan_data horse2zebra --loss wgan --penalty wgan-gp --data_dir DATA
    python main.py --mode evaluate --dir runs/RUN    # appends to RUN/metrics.jsonl
    python main.py --mode evaluate --dir runs/RUN --checkpoints all   # every kept checkpoint
    python main.py --gan_type classifier --cogan_data mnist2mnistm --data_dir DATA  # Table B.1
    python main.py --mode sample --dir runs/RUN --num 100 --out samples/       # inference/
    python main.py --mode interpolate --dir runs/RUN --out walks/
    python main.py --mode translate --dir runs/RUN --inputs digit.png --out translated/

``python main.py --help`` documents every option. Messages go through the ``scogan`` logger
(``utils.log``: ``--quiet``, ``--verbose``); the results of a mode are printed on stdout.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scogan.utils.config import Config, ConfigurationError, checkpoint_selection, parse_config  # noqa: E402
from scogan.utils.log import LOGGER, configure_logging, route_warnings, verbosity_of, warnings_once  # noqa: E402


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


def cached(task, config: Config):
    """The task the trainer reads: its file-backed domains decoded once (``data.cache``). The
    run records (data.json, the resume check) keep the task as loaded, files and all."""
    from scogan.data.cache import cache_task

    return cache_task(task, config.cache, config.cache_dir)


def train(config: Config, given: set[str]) -> None:
    """Train a new run, or continue one with ``--resume``.

    The run directory is created and locked (``utils.run_dir.RunLock``) before any data is
    loaded. A resume rewrites nothing in the run (config.json included) until its data
    matches the run's and a checkpoint has been restored. Under ``--strategy multiworker``
    only the chief does this; the other workers train in a temporary directory
    (``_train_worker``).
    """
    from scogan.trainers import TRAINERS
    from scogan.utils.run_dir import (
        RunLock,
        claim_run_dir,
        remove_unstarted,
        write_config,
    )

    if config.strategy != "default":
        from scogan.trainers.distribute import is_chief, strategy_for

        if config.strategy == "multiworker" and not config.dir:
            raise UsageError("--strategy multiworker needs --dir RUN, the same on every worker (on storage "
                             "every worker can read, for --resume)")
        strategy = strategy_for(config.strategy)  # first: MultiWorkerMirroredStrategy sets up the runtime
        LOGGER.info("--strategy %s: %d replicas, %d images per domain on each", config.strategy,
                    strategy.num_replicas_in_sync, config.batch_size // strategy.num_replicas_in_sync)
        if strategy.num_replicas_in_sync == 1:
            LOGGER.warning("--strategy %s found one device: it trains one replica, with the strategy's "
                           "overhead; --strategy default is faster here", config.strategy)
        if not is_chief(strategy):
            _train_worker(config, given)
            return
    if config.resume:
        config = resumed_config(config, given)
        run_dir = Path(config.dir)
        with RunLock(run_dir):
            task = load_task_for(config)
            check_same_data(run_dir, task)
            trainer = TRAINERS.get(config.gan_type)(config, cached(task, config), run_dir)
            step = trainer.restore(required=True)
            LOGGER.info("Resuming %s from %s (step %d)", run_dir, Path(trainer.restored_checkpoint).name, step)
            write_config(run_dir, config)
            _run(trainer, config, run_dir)
        return
    check_names(config)
    run_dir, lock, created = claim_run_dir(config)
    try:
        task = load_task_for(config)
        trainer = TRAINERS.get(config.gan_type)(config, cached(task, config), run_dir)
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


# Options of one invocation, not of the run: a resume may change them (the console's
# verbosity, the devices it trains on).
CONSOLE = ("quiet", "verbose", "strategy")
CACHING = ("cache", "cache_dir")  # how images are read, not what is learnt: a resume may change them


def resumed_config(config: Config, given: set[str]) -> Config:
    """The saved configuration of the run in ``--dir``, with what a resume may change
    (``--iterations``, where the data is and how it is cached, ``CONSOLE``); UsageError for any other typed option
    whose value differs from the saved one."""
    from scogan.utils.run_dir import load_run_config

    if not config.dir:
        raise UsageError("--resume needs --dir RUN")
    saved = load_run_config(Path(config.dir))
    changed = sorted(k for k in given - {"resume", "dir", "iterations", "data_dir", "data_source", *CACHING,
                                         *CONSOLE}
                     if getattr(config, k) != getattr(saved, k))
    if changed:
        raise UsageError(f"--resume continues the saved configuration; these options differ from "
                         f"{config.dir}/config.json: {', '.join(changed)}")
    return saved.replace(
        resume=True,
        iterations=config.iterations if "iterations" in given else saved.iterations,
        data_dir=config.data_dir or saved.data_dir,
        data_source=config.data_source if "data_source" in given else saved.data_source,
        **{k: getattr(config, k) for k in (*CONSOLE, *CACHING) if k in given or k in CONSOLE},
    )


def _train_worker(config: Config, given: set[str]) -> None:
    """A ``--strategy multiworker`` worker other than the chief: the chief's steps (each step,
    and each checkpoint save, takes all workers), but everything it writes goes to a temporary
    directory, removed at the end (TensorFlow's multi-worker advice); the run directory --dir
    belongs to the chief. ``--resume`` restores from the chief's checkpoints there."""
    import shutil
    import tempfile

    from scogan.trainers import TRAINERS

    if config.resume:
        config = resumed_config(config, given)
    if config.gan_type == "classifier":  # its --classifier_path is the chief's output
        config = config.replace(classifier_path=None)
    task = load_task_for(config)
    if config.resume:
        check_same_data(Path(config.dir), task)
    scratch = Path(tempfile.mkdtemp(prefix="scogan_worker_"))
    try:
        trainer = TRAINERS.get(config.gan_type)(config, cached(task, config), scratch)
        if config.resume:
            trainer.restore_from(Path(config.dir) / "checkpoints")
        LOGGER.info("worker (not the chief): training in %s; the chief writes %s", scratch, config.dir)
        trainer.train()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(trainer, config: Config, run_dir: Path) -> None:
    LOGGER.info("Run directory: %s  (tensorboard --logdir %s/logs)", run_dir, run_dir)
    trainer.train()
    outputs = "" if config.gan_type == "classifier" else f"samples in {run_dir}/samples, "
    LOGGER.info("Done: %scheckpoints in %s/checkpoints", outputs, run_dir)


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
    """Score the run's checkpoints chosen by ``--checkpoints`` (default the latest) with
    ``--metrics`` (default: the run's own, see ``metrics.metric_names``), oldest first. Each
    checkpoint's values are appended to RUN/metrics.jsonl (with iteration, checkpoint and
    ``--num_pairs``), summarised in RUN/metrics.json, logged to TensorBoard as ``eval/<key>``
    at the checkpoint's iteration, and every record is drawn in
    RUN/plots/metrics_vs_iteration.png. A run marked diverged, or generators that output
    NaN/Inf, are refused. Returns the values of the newest checkpoint scored."""
    from scogan.metrics import METRICS, NonFiniteOutputError, metric_names
    from scogan.trainers import TRAINERS
    from scogan.trainers.checkpoints import CheckpointError
    from scogan.utils.plots import METRICS_PLOT, plot_metrics
    from scogan.utils.records import RECORDS_FILE, SUMMARY_FILE, append_evaluation, read_records
    from scogan.utils.run_dir import load_run_config, read_status
    from scogan.utils.summaries import evaluation_writer, write_evaluation

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
    if "metrics" in given:
        names = metric_names(config.metrics, saved.gan_type, named=True)
    else:  # the run's own --metrics, as it declared them to TensorBoard's HParams
        names = metric_names(saved.metrics, saved.gan_type, named=saved.metrics != Config().metrics)
    if not names:
        raise UsageError("--metrics is empty; name at least one metric (e.g. --metrics pixel_agreement)")
    for name in names:
        METRICS.get(name)
    chosen, skip_unreadable = _chosen_checkpoints(Path(config.dir), config.checkpoints)  # before any data is read
    task = load_task_for(saved)
    trainer = TRAINERS.get(saved.gan_type)(saved, task, config.dir)
    # --classifier_path here replaces the run's for the classifier metrics only.
    override = config.classifier_path if "classifier_path" in given else None
    writer = evaluation_writer(config.dir)
    results: dict[str, float] = {}
    scored = 0
    try:
        for prefix in chosen:
            if prefix is None:  # latest: the newest readable one, as --resume takes
                step = trainer.restore(required=True)
                restored = getattr(trainer, "restored_checkpoint", None) or trainer.manager.latest_checkpoint
            else:
                try:
                    step, restored = trainer.restore_checkpoint(prefix), prefix
                except CheckpointError as error:
                    if not skip_unreadable:
                        raise
                    LOGGER.warning("skipped %s", error)
                    continue
            checkpoint = Path(restored).name if restored else None
            LOGGER.debug("scoring %s (iteration %d) with %s", checkpoint, step, ", ".join(names))
            try:
                results = trainer.evaluate(names, config.num_pairs, classifier_path=override)
            except NonFiniteOutputError as error:
                kept = f" (the {scored} checkpoint(s) before it were recorded)" if scored else ""
                raise NonFiniteOutputError(f"{checkpoint} (iteration {step}): {error}; nothing recorded"
                                           f"{kept}") from None
            append_evaluation(config.dir, results, iteration=step, checkpoint=checkpoint, num_pairs=config.num_pairs)
            write_evaluation(writer, results, step)
            scored += 1
            width = max(len(k) for k in results)
            print(f"{'metric':<{width}}  value   ({checkpoint}, iteration {step}, {config.num_pairs} pairs)")
            for key, value in sorted(results.items()):
                print(f"{key:<{width}}  {value:.4f}")
    finally:
        writer.close()
    if not scored:
        raise CheckpointError(f"no readable checkpoint in {Path(config.dir) / 'checkpoints'}: nothing evaluated")
    plot_metrics(read_records(config.dir), Path(config.dir) / METRICS_PLOT)
    LOGGER.info("(appended to %s/%s; latest per metric in %s/%s; TensorBoard eval/<metric>; plot %s/%s)",
                config.dir, RECORDS_FILE, config.dir, SUMMARY_FILE, config.dir, METRICS_PLOT)
    return results


def _chosen_checkpoints(run_dir: Path, text: str) -> tuple[list[str | None], bool]:
    """The checkpoint prefixes ``--checkpoints`` names, oldest first (``[None]`` for latest),
    and whether one that cannot be read is skipped (with a warning; ``all``) rather than an
    error (a listed one). A listed number that is not kept is a UsageError naming the kept ones."""
    from scogan.trainers.checkpoints import CheckpointError, checkpoints_in

    selection = checkpoint_selection(text)
    if selection == "latest":
        return [None], False
    directory = run_dir / "checkpoints"
    kept = sorted(checkpoints_in(directory))
    if not kept:
        raise CheckpointError(f"no checkpoint in {directory}: nothing to evaluate")
    if selection == "all":
        return [prefix for _, prefix in kept], True
    steps = {step: prefix for step, prefix in kept}
    unknown = [number for number in selection if number not in steps]
    if unknown:
        names = ", ".join(f"ckpt-{n}" for n in unknown)
        raise UsageError(f"--checkpoints {text}: no {names} in {directory}; the kept checkpoints are "
                         f"{', '.join(f'ckpt-{n}' for n in steps)} (or pass --checkpoints all or latest)")
    return [steps[number] for number in selection], False


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

    configure_logging()  # until the options are parsed
    try:
        with warnings_once():
            return _main(argv)
    except (KeyboardInterrupt, Terminated) as error:
        # Outside the training loop (which checkpoints and explains itself), or a second Ctrl-C.
        signum = signal.SIGTERM if isinstance(error, Terminated) else signal.SIGINT
        LOGGER.error("\ninterrupted by %s; a run whose training had started continues from its newest "
                     "readable checkpoint with: python main.py --resume --dir RUN", signal.Signals(signum).name,
                     extra={"prefix": ""})
        return EXIT_CODES[signum]


def _main(argv: Sequence[str] | None) -> int:
    config, given = parse_config(argv)
    configure_logging(verbosity_of(config.quiet, config.verbose))
    if not applicable(config, given):
        return 2
    from scogan.data.sources import DataError
    from scogan.inference.errors import InferenceError
    from scogan.metrics.errors import MetricError
    from scogan.metrics.lpips_weights import LPIPSWeightsUnavailable
    from scogan.trainers.checkpoints import CheckpointError
    from scogan.trainers.guard import TrainingStopped
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
        LOGGER.error("%s", error)
        return 2
    except CheckpointError as error:
        LOGGER.error("%s", error)
        return 1
    except TrainingStopped as error:
        LOGGER.error("\n%s", error, extra={"prefix": ""})
        return error.exit_code
    return 0


def cli() -> int:
    """The ``scogan`` command (and ``python main.py``): the command line of :func:`main`."""
    from scogan.utils.signals import terminate_as_exception

    terminate_as_exception()  # SIGTERM before or after the training loop: a message and exit 143
    route_warnings()  # warnings as "warning: ..." lines of the scogan logger, each once
    return main()


if __name__ == "__main__":
    sys.exit(cli())
