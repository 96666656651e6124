"""TensorBoard for comparing runs, read back from the event files: HParams, eval/<metric> at
each checkpoint's iteration (--checkpoints), learning rates and speed; and the console
(--quiet, --verbose, warnings once).

One tiny run (4 iterations, checkpoints 0, 2 and 4 kept) is trained quietly and scored at
every kept checkpoint once for the module; tests that evaluate again work on a copy.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from scogan import main
from scogan.utils.records import RECORDS_FILE, latest_metrics, read_records

TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "4", "--log_every", "1",
        "--checkpoint_every", "2", "--images_while_training", "0", "--data_source", "bundled"]
KEPT = [0, 2, 4]  # ckpt-0 (before the first step), ckpt-2, ckpt-4
METRIC_KEYS = {"pixel_agreement", "pixel_agreement_shuffled", "stroke_agreement", "stroke_agreement_shuffled"}


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
    """(run directory, stdout and stderr of its quiet training)."""
    run = tmp_path_factory.mktemp("tensorboard") / "run"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main.main([*TINY, "--quiet", "--dir", str(run)]) == 0
    assert sorted(int(p.stem.split("-")[1]) for p in (run / "checkpoints").glob("ckpt-*.index")) == KEPT
    with contextlib.redirect_stdout(io.StringIO()):
        assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "16", "--checkpoints", "all"]) == 0
    return run, out.getvalue(), err.getvalue()


def _events(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run / "logs"), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def _scalars(events, tag: str) -> dict[int, float]:
    """TF2 writes scalars as tensor events: {step: value} (the last one written per step)."""
    import tensorflow as tf

    return {event.step: float(tf.make_ndarray(event.tensor_proto)) for event in events.Tensors(tag)}


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns(".lock"))
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "dir": str(copy)}))
    return copy


# -- HParams ---------------------------------------------------------------------------------------

def test_hparams_session_and_experiment_hold_the_runs_values(scored_run):
    from tensorboard.plugins.hparams import metadata

    run, _, _ = scored_run
    events = _events(run)
    session = metadata.parse_session_start_info_plugin_data(
        events.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content)
    values = {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
              for name, value in session.hparams.items()}
    resolved = json.loads((run / "resolved_config.json").read_text())
    assert {"gan_type": "cogan", "cogan_data": "mnist2edge", "loss": "ce", "penalty": "none", "gen_penalty": "none",
            "batch_size": 8, "iterations": 4, "seed": 0, "width": 0.0625, "d_width": 0.0625, "lr_d": 5e-4,
            "lr_g": 5e-4, "b1": 0.5, "b2": 0.999, "semantic_loss": False, "g_arch": resolved["g_arch"],
            "d_arch": resolved["d_arch"], "shared_layers": resolved["shared_layers"],
            "d_shared_layers": resolved["d_shared_layers"]}.items() <= values.items()
    assert "dir" not in values and "environment" not in values  # hyperparameters only

    experiment = metadata.parse_experiment_plugin_data(
        events.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content)
    assert {info.name for info in experiment.hparam_infos} == set(values)
    declared = {info.name.tag for info in experiment.metric_infos}
    assert {"d_loss/1", "g_loss/2", "speed/iterations_per_second"} | {f"eval/{k}" for k in METRIC_KEYS} <= declared
    assert declared <= set(events.Tags()["tensors"])  # every declared metric is a scalar in the logs


# -- training scalars ------------------------------------------------------------------------------

def test_learning_rates_and_speed_are_logged_while_training(scored_run):
    run, _, _ = scored_run
    events = _events(run)
    for tag in ("lr/d", "lr/g"):
        assert _scalars(events, tag) == pytest.approx({1: 5e-4, 2: 5e-4, 3: 5e-4, 4: 5e-4})
    speed = _scalars(events, "speed/iterations_per_second")
    assert sorted(speed) == [2, 3, 4]  # from the end of the first (tracing) step on
    assert all(value > 0 for value in speed.values())


# -- evaluation at every kept checkpoint -----------------------------------------------------------

def test_checkpoints_all_records_and_logs_every_kept_checkpoint(scored_run):
    run, _, _ = scored_run
    records = read_records(run)
    assert {r["metric"] for r in records} == METRIC_KEYS
    for key in METRIC_KEYS:
        mine = [r for r in records if r["metric"] == key]
        assert [(r["iteration"], r["checkpoint"]) for r in mine] == [(n, f"ckpt-{n}") for n in KEPT]
    events = _events(run)
    for key in METRIC_KEYS:
        scalars = _scalars(events, f"eval/{key}")
        assert scalars == pytest.approx({r["iteration"]: r["value"] for r in records if r["metric"] == key})
    assert {entry["iteration"] for entry in latest_metrics(run).values()} == {4}
    plot = run / "plots" / "metrics_vs_iteration.png"
    assert plot.stat().st_size > 0 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_older_checkpoint_scored_later_does_not_become_the_latest(scored_run, tmp_path, capsys):
    run = _copy(scored_run[0], tmp_path)
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "16", "--checkpoints", "ckpt-2"]) == 0
    assert "(ckpt-2, iteration 2, 16 pairs)" in capsys.readouterr().out
    assert [r["iteration"] for r in read_records(run) if r["metric"] == "pixel_agreement"] == [*KEPT, 2]
    summary = json.loads((run / "metrics.json").read_text())
    assert {entry["iteration"] for entry in summary.values()} == {4}  # the newest iteration, not the last record
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "16"]) == 0  # default: latest
    assert "(ckpt-4, iteration 4, 16 pairs)" in capsys.readouterr().out
    assert [r["iteration"] for r in read_records(run) if r["metric"] == "pixel_agreement"][-1] == 4


def test_an_unknown_checkpoint_is_a_usage_error_naming_the_kept_ones(scored_run, tmp_path, capsys):
    run = _copy(scored_run[0], tmp_path)
    before = (run / RECORDS_FILE).read_text()
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--checkpoints", "2,3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --checkpoints 2,3: no ckpt-3 in ") and "kept checkpoints are ckpt-0, ckpt-2, ckpt-4" in err
    assert (run / RECORDS_FILE).read_text() == before
    with pytest.raises(SystemExit) as exit_:
        main.main(["--mode", "evaluate", "--dir", str(run), "--checkpoints", "newest"])
    assert exit_.value.code == 2
    assert "--checkpoints takes latest, all, or comma-separated checkpoint numbers" in capsys.readouterr().err


# -- console ---------------------------------------------------------------------------------------

def test_quiet_prints_no_progress_bar_and_no_progress_messages(scored_run):
    _, out, err = scored_run
    assert "it/s" not in err and "s/it" not in err and "%|" not in err
    assert "Run directory" not in out and "Done:" not in out


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(["--quiet", "--verbose", "--iterations", "1"])
    assert exit_.value.code == 2
    assert "--quiet and --verbose exclude each other" in capsys.readouterr().err


def test_a_warning_is_shown_once_even_after_the_filters_change():
    from scogan.utils.log import warnings_once

    text = f"a test warning {os.getpid()} {id(object())}"  # never warned before in this process
    with warnings.catch_warnings(record=True) as caught:
        with warnings_once():
            for where in ("one.py", "another.py"):
                warnings.warn_explicit(text, UserWarning, where, 1, module="scogan.somewhere", registry={})
                warnings.filterwarnings("ignore", category=DeprecationWarning)  # as TensorFlow's imports do
        warnings.warn_explicit(text, UserWarning, "one.py", 1, registry={})  # outside: Python's own rules
    assert [str(w.message) for w in caught].count(text) == 2


def test_the_command_line_shows_each_warning_once_through_the_logger(scored_run, tmp_path):
    """Two modes in one process both read the bundled MNIST subset (as the experiments
    runner does): its warning is shown once, as a ``warning:`` line."""
    run, _, _ = scored_run
    script = (
        "import sys\n"
        "from scogan import main\n"
        "from scogan.utils.log import route_warnings\n"
        "route_warnings()\n"
        "for out in sys.argv[2:]:\n"
        "    assert main.main(['--mode', 'sample', '--dir', sys.argv[1], '--num', '2', '--out', out]) == 0\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(run), str(tmp_path / "a"), str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if "MNIST subset bundled" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: using the MNIST subset bundled"), done.stderr[-2000:]
    assert (tmp_path / "a" / "samples.npz").exists() and (tmp_path / "b" / "samples.npz").exists()
