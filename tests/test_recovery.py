"""Runs that are never lost and never certify garbage: divergence, interruption, damaged
checkpoints, a full disk, one writer per run directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from scogan import main
from scogan.trainers import CoGANTrainer
from scogan.trainers.checkpoints import CheckpointError
from scogan.trainers.guard import Diverged
from scogan.utils.run_dir import RunLock, read_status
from tests.conftest import ROOT, tiny_config

TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--log_every", "1",
        "--checkpoint_every", "1000", "--images_while_training", "0", "--data_source", "bundled"]


def _weights(run: Path, config) -> list[np.ndarray]:
    from scogan.data import DataOptions, load_task

    trainer = CoGANTrainer(config, load_task("mnist2edge", DataOptions(source="bundled")), run)
    trainer.restore(required=True)
    return [v.numpy() for v in trainer.checkpoint_variables()]


def _steps(run: Path) -> list[int]:
    return [int(line.split(",")[0]) for line in (run / "losses.csv").read_text().splitlines()[1:]]


# -- divergence ---------------------------------------------------------------------------------

def test_huge_learning_rates_stop_the_run_as_diverged_with_a_finite_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", "20", "--lr_d", "1e6", "--lr_g", "1e6", "--dir", str(run)]) == 3
    err = capsys.readouterr().err
    status = read_status(run)
    assert status["state"] == "diverged" and f"diverged at step {status['step']}" in err
    assert status["step"] < 20 and status["checkpoint"] == "ckpt-0"
    assert "is nan" in err or "is inf" in err
    # nothing looks finished: no final checkpoint, no exported generators, no final grid
    assert not list(run.glob("*.keras")) and not (run / "samples" / "final.png").exists()
    assert sorted(p.name for p in (run / "checkpoints").glob("*.index")) == ["ckpt-0.index"]
    config = tiny_config(lr_d=1e6, lr_g=1e6, iterations=20)
    assert all(np.isfinite(w).all() for w in _weights(run, config) if w.dtype.kind == "f")
    # and evaluate refuses it
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "10"]) == 2
    assert "diverged" in capsys.readouterr().err


def _poison(trainer: CoGANTrainer, from_step: int) -> None:
    """Make the generator loss NaN from step ``from_step`` (1-based) on, inside the compiled step."""
    import dataclasses

    original = trainer.loss.generator

    def poisoned(fake_logits):
        return tf.where(trainer.step + 1 >= from_step, tf.constant(float("nan")), original(fake_logits))

    trainer.loss = dataclasses.replace(trainer.loss, generator=poisoned)


def test_divergence_names_the_term_and_the_step(edge_task, tmp_path):
    trainer = CoGANTrainer(tiny_config(iterations=8, checkpoint_every=2), edge_task, tmp_path)
    _poison(trainer, from_step=5)
    with pytest.raises(Diverged, match=r"diverged at step 5: g_loss/1 is nan; its last finite checkpoint ckpt-4"):
        trainer.train()
    assert read_status(tmp_path)["term"] == "g_loss/1"


def test_rollback_restores_the_last_checkpoint_and_lowers_the_learning_rates(tmp_path, capsys):
    run = tmp_path / "run"
    # At 1e6 the first steps diverge; one rollback to ckpt-0 with the rates times 1e-9 recovers.
    assert main.main([*TINY, "--iterations", "12", "--lr_d", "1e6", "--lr_g", "1e6", "--on_nan", "rollback",
                      "--nan_lr_factor", "1e-9", "--dir", str(run)]) == 0
    assert "rollback 1 of 3: restored ckpt-0" in capsys.readouterr().err
    assert read_status(run)["state"] == "finished"
    assert _steps(run) == list(range(1, 13))  # each step logged once
    from scogan.data import DataOptions, load_task

    trainer = CoGANTrainer(tiny_config(iterations=12), load_task("mnist2edge", DataOptions(source="bundled")), run)
    trainer.restore()
    assert float(trainer.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(1e-3)


@pytest.mark.parametrize("option", ["--lr_d nan", "--lr_g inf", "--lr_d 0", "--clip -1", "--width nan",
                                    "--semantic_weight nan", "--penalty_weight_d inf", "--b2 1",
                                    "--checkpoint_minutes 0", "--nan_lr_factor 2"])
def test_non_finite_or_non_positive_settings_are_usage_errors(option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(option.split())
    assert exit_.value.code == 2
    assert f"{option.split()[0]} must be" in capsys.readouterr().err


# -- interruption -------------------------------------------------------------------------------

def _start(run: Path, iterations: int) -> subprocess.Popen:
    env = {**os.environ, "TF_DETERMINISTIC_OPS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *TINY, "--seed", "7", "--iterations",
                             str(iterations), "--dir", str(run)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_step(run: Path, process: subprocess.Popen, step: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if (run / "losses.csv").exists() and len(_steps(run)) >= step:
            return
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the run did not reach step {step}: {process.communicate()[1][-2000:]}")


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_checkpoints_and_resume_reaches_the_uninterrupted_weights(tmp_path, signum, code, op_determinism):
    run = tmp_path / "interrupted"
    process = _start(run, 400)
    _wait_for_step(run, process, 3)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err[-2000:]
    status = read_status(run)
    stopped = status["step"]
    assert status["state"] == "interrupted" and 3 <= stopped < 400
    assert f"--resume --dir {run}" in err and "Traceback" not in err
    assert (run / "checkpoints" / f"ckpt-{stopped}.index").exists()

    total = stopped + 3
    assert main.main(["--resume", "--dir", str(run), "--iterations", str(total)]) == 0
    straight = tmp_path / "straight"
    assert main.main([*TINY, "--seed", "7", "--iterations", str(total), "--dir", str(straight)]) == 0
    config = tiny_config(seed=7, iterations=total)
    for a, b in zip(_weights(run, config), _weights(straight, config)):
        np.testing.assert_array_equal(a, b)
    assert _steps(run) == list(range(1, total + 1))  # each step once in losses.csv


def test_sigterm_before_training_is_a_message_and_exit_143(tmp_path):
    process = _start(tmp_path / "run", 400)
    time.sleep(1.5)  # main.py is still importing TensorFlow or loading data
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err[-2000:]
    assert "interrupted by SIGTERM" in err and "Traceback" not in err


def test_checkpoint_minutes_bounds_the_work_at_risk(edge_task, tmp_path):
    trainer = CoGANTrainer(tiny_config(iterations=3, checkpoint_every=1000, checkpoint_minutes=1e-9),
                           edge_task, tmp_path)
    trainer.train()
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.index")) == [
        "ckpt-1.index", "ckpt-2.index", "ckpt-3.index"]  # every step, as the interval has always passed


# -- checkpoints --------------------------------------------------------------------------------

def _trained(tmp_path: Path, iterations: int = 6) -> Path:
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", str(iterations), "--checkpoint_every", "2", "--dir", str(run)]) == 0
    return run


def _truncate(prefix: Path) -> None:
    data = Path(f"{prefix}.data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:100])


def test_resume_without_a_checkpoint_is_an_error_and_rewrites_nothing(tmp_path, capsys):
    run = _trained(tmp_path)
    for f in (run / "checkpoints").iterdir():
        f.unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main.main(["--resume", "--dir", str(run), "--iterations", "8"]) == 1
    assert "no checkpoint" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_missing_state_file_and_a_truncated_newest_checkpoint_fall_back_with_a_warning(tmp_path, capsys):
    run = _trained(tmp_path)
    (run / "checkpoints" / "checkpoint").unlink()
    _truncate(run / "checkpoints" / "ckpt-6")
    with pytest.warns(UserWarning, match=r"ckpt-6 .*restored ckpt-4 instead"):
        assert main.main(["--resume", "--dir", str(run), "--iterations", "8"]) == 0
    assert "Resuming" in capsys.readouterr().out and read_status(run)["step"] == 8
    names = sorted(p.name for p in (run / "checkpoints").glob("*.index"))
    assert {"ckpt-4.index", "ckpt-6.index", "ckpt-8.index"} <= set(names)  # nothing deleted


def test_no_readable_checkpoint_is_an_error_naming_them(tmp_path, capsys):
    run = _trained(tmp_path, iterations=2)
    for prefix in ("ckpt-0", "ckpt-2"):
        _truncate(run / "checkpoints" / prefix)
    assert main.main(["--resume", "--dir", str(run), "--iterations", "4"]) == 1
    err = capsys.readouterr().err
    assert "no readable checkpoint" in err and "ckpt-2" in err and "ckpt-0" in err


def test_a_full_disk_at_a_checkpoint_reports_itself_and_keeps_the_earlier_ones(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    original = tf.train.CheckpointManager.save

    def full_disk(self, checkpoint_number=None, **kwargs):
        if checkpoint_number == 4:
            Path(self.directory, "ckpt-4_temp").mkdir()
            raise tf.errors.ResourceExhaustedError(None, None, "ckpt-4_temp/part-00000; No space left on device")
        return original(self, checkpoint_number=checkpoint_number, **kwargs)

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full_disk)
    assert main.main([*TINY, "--iterations", "6", "--checkpoint_every", "2", "--dir", str(run)]) == 1
    err = capsys.readouterr().err
    assert "could not write checkpoint ckpt-4" in err and "No space left on device" in err
    assert "ckpt-2" in err and "Traceback" not in err
    assert not (run / "checkpoints" / "ckpt-4_temp").exists()
    assert read_status(run)["state"] == "failed"
    monkeypatch.undo()
    assert main.main(["--resume", "--dir", str(run)]) == 0
    assert read_status(run)["state"] == "finished"


# -- one writer ---------------------------------------------------------------------------------

def test_a_locked_run_directory_refuses_a_second_process(tmp_path, capsys):
    run = _trained(tmp_path, iterations=2)
    with RunLock(run):
        assert main.main(["--resume", "--dir", str(run), "--iterations", "4"]) == 2
        assert f"in use by process {os.getpid()}" in capsys.readouterr().err
        assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "10"]) == 2
        assert f"in use by process {os.getpid()}" in capsys.readouterr().err
    empty = tmp_path / "new"
    empty.mkdir()
    with RunLock(empty):  # another process claimed it a moment ago
        assert main.main([*TINY, "--iterations", "2", "--dir", str(empty)]) == 2
        assert "in use by process" in capsys.readouterr().err
    assert not (empty / "config.json").exists()


def test_the_lock_is_released_when_the_holder_dies(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
                               "from utils.run_dir import RunLock; lock = RunLock(sys.argv[2]).acquire();"
                               "print('locked', flush=True); time.sleep(60)", str(ROOT), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(Exception, match=f"in use by process {holder.pid}"):
        RunLock(tmp_path).acquire()
    holder.kill()
    holder.wait()
    RunLock(tmp_path).acquire().release()


# -- clear errors -------------------------------------------------------------------------------

def test_a_run_directory_under_a_file_is_refused_before_any_data_is_read(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(main, "load_task_for", lambda config: pytest.fail("data was loaded"))
    assert main.main([*TINY, "--dir", str(tmp_path / "file" / "run")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_a_damaged_config_is_a_clear_error(tmp_path, capsys):
    run = _trained(tmp_path, iterations=2)
    (run / "config.json").write_text('{"gan_type": "cogan", ')
    for argv in (["--resume", "--dir", str(run)], ["--mode", "evaluate", "--dir", str(run)]):
        assert main.main(argv) == 2
        assert "config.json is damaged" in capsys.readouterr().err


def test_a_setup_failure_leaves_no_empty_run_directory(tmp_path, capsys):
    run = tmp_path / "run"
    assert main.main([*TINY[:-2], "--data_source", "raw", "--data_dir", str(tmp_path), "--dir", str(run)]) == 2
    assert not run.exists()
    assert json.dumps(capsys.readouterr().err)  # a message, checked in test_main


def test_checkpoint_store_raises_on_unreadable_only(tmp_path):
    from scogan.trainers.checkpoints import CheckpointStore

    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    store = CheckpointStore(checkpoint, tmp_path)
    assert store.restore_latest() is None
    store.save(1)
    _truncate(tmp_path / "ckpt-1")
    with pytest.raises(CheckpointError, match="ckpt-1"):
        store.restore_latest()


def test_resume_must_read_the_same_data(tmp_path, capsys, shared_datasets):
    run = _trained(tmp_path, iterations=2)  # on the bundled subset
    config = (run / "config.json").read_text()
    assert json.loads((run / "data.json").read_text())["sources"] == {"mnist": "bundled"}
    assert main.main(["--resume", "--dir", str(run), "--iterations", "4", "--data_source", "auto",
                      "--data_dir", str(shared_datasets)]) == 2
    err = capsys.readouterr().err
    assert "must read the same data" in err and "mnist from bundled" in err and "mnist from raw" in err
    assert (run / "config.json").read_text() == config and read_status(run)["step"] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main.main(["--resume", "--dir", str(run), "--data_source", "auto", "--data_dir", str(empty)]) == 2
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err
