"""--strategy (trainers.distribute): a distributed step computes the single-device step.

The mirrored runs need two devices: the one CPU is split into two logical devices, which
must happen before TensorFlow initialises its devices, so they run in a process of their
own (tests/distributed_runs.py, which documents each check). The multi-worker run is two
processes of ``python -m scogan.main`` on localhost. The rest runs here, on the default
strategy.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from scogan import main
from scogan.trainers import distribute
from scogan.utils.config import ConfigurationError
from tests.conftest import ROOT, tiny_config

SCRIPT = ROOT / "tests" / "distributed_runs.py"
TIMEOUT = 600  # seconds of wall time for one subprocess (the CPU may be shared)
# float32 rounding of the same sums taken in another order, after 2-3 SGD steps (measured:
# at most 6e-8); a wrong loss scale or a wrong slice of the batch or the noise moves the
# weights by as much as training does (5e-2 here).
TOLERANCE = 1e-6
TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--log_every", "1",
        "--checkpoint_every", "1000", "--images_while_training", "0", "--data_source", "bundled"]


def run_check(check: str, out: Path) -> dict:
    result = subprocess.run([sys.executable, str(SCRIPT), check, str(out)], capture_output=True, text=True,
                            timeout=TIMEOUT, env=os.environ.copy())
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])[check]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory) -> dict:
    return run_check("resume", tmp_path_factory.mktemp("resume"))


# -- two mirrored replicas against one device ---------------------------------------------------

def test_two_mirrored_replicas_train_the_weights_one_device_trains(tmp_path):
    results = run_check("equivalence", tmp_path)
    assert set(results) == {"cogan", "scogan", "uda", "classifier"}
    for name, case in results.items():
        assert case["replicas"] == 2, name
        assert case["difference"] <= TOLERANCE, (name, case)
        assert case["moved"] > 100 * case["difference"], (name, case)  # the steps did change the weights
        assert case["copies_agree"], name


def test_a_mirrored_scogan_run_resumes_to_the_weights_of_an_uninterrupted_one(resumed):
    assert resumed["restored"] == "ckpt-2" and resumed["step"] == 4
    assert resumed["moved"] > 0.01  # steps 3 and 4 changed the weights...
    assert resumed["difference"] == 0.0  # ...exactly as the uninterrupted run's
    # per-replica BatchNorm statistics and dropout: every replica still holds the same values
    assert resumed["copies_agree"]


def test_each_replica_draws_its_rows_of_one_global_draw_and_its_own_dropout_masks(resumed):
    draws = resumed["draws"]
    assert draws["noise_rows"] and draws["alpha_rows"]  # concatenated: one device's draw
    assert draws["rng_states_agree"]  # the generator advanced as one device's
    assert draws["masks_without_offset_equal"]  # Keras alone: the same mask on every replica
    assert draws["masks_differ"] and draws["seed_states_agree"]


def test_mixed_precision_trains_under_two_mirrored_replicas_as_on_one_device(resumed):
    """16-bit layer arithmetic summed in another order: measured 7.8e-5 (float16) and 8.0e-5
    (bfloat16) after 2 SGD steps, against weights moving by about 5e-2; the bound is 12 times
    the measured difference. A wrong 1/R factor or loss scale moves them by as much as training."""
    for precision, case in resumed["mixed"].items():
        assert case["difference"] <= 1e-3, (precision, case)
        assert case["moved"] > 10 * case["difference"], (precision, case)
        assert case["copies_agree"], precision


def test_jit_under_a_strategy_is_refused_before_anything_runs(tmp_path, capsys):
    args = [*TINY, "--jit", "--strategy", "mirrored", "--dir", str(tmp_path / "run")]
    assert main.main(args) == 2
    assert "XLA-compiled step cannot run the replicas of --strategy mirrored" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_divergence_guard_stops_a_mirrored_run(resumed):
    verdict = resumed["diverged"]
    assert verdict, "the run with learning rates 1e6 did not diverge"
    assert verdict["status"]["state"] == "diverged" and verdict["status"]["checkpoint"] == "ckpt-0"
    assert f"training diverged at step {verdict['status']['step']}" in verdict["message"]
    assert " is nan" in verdict["message"] or " is inf" in verdict["message"]


def test_a_global_batch_the_replicas_cannot_share_is_refused(resumed):
    message = resumed["odd_batch_error"]
    assert "--batch_size 7 is the global batch" in message and "2 replicas" in message
    assert "6 or 8" in message


# -- two workers on localhost -------------------------------------------------------------------

def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_two_workers_train_and_only_the_chief_writes_the_run(tmp_path):
    from scogan.data import DataOptions, load_task
    from scogan.trainers import CoGANTrainer
    from scogan.utils.config import Config

    run, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        env = {**os.environ, "TMPDIR": str(scratch),
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "scogan.main", *TINY, "--iterations", "2", "--strategy", "multiworker",
             "--dir", str(run)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [worker.communicate(timeout=TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    assert "2 replicas, 4 images per domain on each" in outputs[0][0]  # progress messages: stdout
    assert f"training in {scratch}" in outputs[1][0]  # worker 1 wrote to a temporary directory...
    assert not list(scratch.glob("scogan_worker_*"))  # ...removed at the end
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert sorted(p.name for p in (run / "checkpoints").glob("*.index")) == ["ckpt-0.index", "ckpt-2.index"]
    rows = (run / "losses.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["1", "2"]  # one writer
    # the checkpoint holds one copy of every variable, restorable without any strategy
    config = Config.load(run / "config.json").replace(strategy="default")
    trainer = CoGANTrainer(config, load_task("mnist2edge", DataOptions(source="bundled")), tmp_path / "restored")
    assert trainer.restore_from(run / "checkpoints") == 2
    values = [np.asarray(v.numpy()) for v in trainer.checkpoint_variables()]
    assert all(np.isfinite(x).all() for x in values if x.dtype.kind == "f")


# -- bad input ----------------------------------------------------------------------------------

def test_multiworker_without_tf_config_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert main.main([*TINY, "--strategy", "multiworker", "--dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "--strategy multiworker needs the TF_CONFIG environment variable" in err
    assert not (tmp_path / "run").exists()


def test_multiworker_needs_the_run_directory_named(monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["localhost:1"]},
                                                "task": {"type": "worker", "index": 0}}))
    assert main.main([*TINY, "--strategy", "multiworker"]) == 2
    assert "--strategy multiworker needs --dir RUN" in capsys.readouterr().err


@pytest.mark.parametrize("text, expected", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'needs a "cluster" with a "worker" list'),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "is not in its cluster"),
])
def test_a_malformed_tf_config_says_what_is_wrong(monkeypatch, text, expected):
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(ConfigurationError, match=expected):
        distribute.check_tf_config()


def test_the_divisibility_message_suggests_batches_that_split():
    distribute.check_divisible(64, 8, "mirrored")
    with pytest.raises(ConfigurationError, match=r"--batch_size 30 .* 4 replicas .* \(e.g. 28 or 32\)"):
        distribute.check_divisible(30, 4, "mirrored")


def test_resume_takes_the_strategy_of_the_command_not_the_saved_one(tmp_path):
    from scogan.utils.config import Config, parse_config
    from scogan.utils.run_dir import load_run_config

    (tmp_path / "config.json").write_text(Config(strategy="multiworker", sync_batch_norm=True).to_json())
    config, given = parse_config(["--resume", "--dir", str(tmp_path)])
    resumed = main.resumed_config(config, given)
    assert resumed.strategy == "default" and resumed.sync_batch_norm  # how it runs; what it is
    config, given = parse_config(["--resume", "--dir", str(tmp_path), "--strategy", "mirrored"])
    assert main.resumed_config(config, given).strategy == "mirrored"
    # evaluation and inference load the run on one device (no TF_CONFIG needed)
    assert load_run_config(tmp_path).strategy == "default"


# -- the pieces, on one device ------------------------------------------------------------------

@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_the_unfolded_draw_is_the_generators_own_draw(distribution):
    ours, theirs = tf.random.Generator.from_seed(5), tf.random.Generator.from_seed(5)
    for shape in ([8, 3], [4, 1, 1, 1]):
        drawn = distribute.draw_unfolded(ours, shape, distribution, -1.0, 1.0) if distribution == "uniform" \
            else distribute.draw_unfolded(ours, shape, distribution)
        expected = theirs.uniform(shape, -1.0, 1.0) if distribution == "uniform" else theirs.normal(shape)
        np.testing.assert_array_equal(drawn.numpy(), expected.numpy())
        np.testing.assert_array_equal(ours.state.numpy(), theirs.state.numpy())


def test_the_default_strategy_keeps_the_single_device_trainer(edge_task, tmp_path):
    from scogan.trainers import CoGANTrainer

    trainer = CoGANTrainer(tiny_config(), edge_task, tmp_path)
    assert not trainer.distributed and trainer.replicas == 1
    assert not isinstance(trainer.generator.model.trainable_variables[0].value, tf.distribute.DistributedValues)
    expected = tf.random.Generator.from_seed(0).uniform([8, 1, 1, 1])  # the rng's first draw
    np.testing.assert_array_equal(trainer.interpolation_weights().numpy(), expected.numpy())

