"""main.py end to end: the CLI trains, refuses to overwrite, resumes, evaluates, explains errors."""

import json

import numpy as np
import pytest

from scogan import main
from scogan.utils.records import RECORDS_FILE, latest_metrics, read_records

TINY = ["--width", "0.0625", "--batch_size", "8", "--log_every", "2", "--checkpoint_every", "2",
        "--images_while_training", "0", "--data_source", "bundled"]


def test_train_then_evaluate_writes_metrics(tmp_path, capsys):
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", "2", "--dir", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["iterations"] == 2 and saved["dir"] == str(run)
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "50"]) == 0
    metrics = latest_metrics(run)
    assert {"pixel_agreement", "pixel_agreement_shuffled", "stroke_agreement"} <= set(metrics)
    assert 0.0 <= metrics["pixel_agreement"]["value"] <= 1.0
    assert {(m["iteration"], m["checkpoint"], m["num_pairs"]) for m in metrics.values()} == {(2, "ckpt-2", 50)}
    assert json.loads((run / "metrics.json").read_text()) == metrics  # the summary
    assert "pixel_agreement_shuffled" in capsys.readouterr().out


def test_existing_run_directory_is_never_overwritten(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "keep.txt").write_text("precious")
    assert main.main([*TINY, "--iterations", "1", "--dir", str(run)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (run / "keep.txt").read_text() == "precious" and not (run / "config.json").exists()


def test_resume_continues_to_more_iterations(tmp_path):
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", "2", "--dir", str(run)]) == 0
    assert main.main(["--dir", str(run), "--resume", "--iterations", "4"]) == 0
    assert json.loads((run / "config.json").read_text())["iterations"] == 4
    assert (run / "checkpoints" / "ckpt-4.index").exists()


def test_resume_refuses_a_changed_configuration(tmp_path, capsys):
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", "2", "--dir", str(run)]) == 0
    assert main.main(["--dir", str(run), "--resume", "--loss", "wgan"]) == 2
    assert "differ" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--cogan_data", "mnist2nothing"], "unknown dataset 'mnist2nothing'; valid choices:"),
    (["--loss", "hinge"], "unknown loss 'hinge'; valid choices: ce, minimax, wgan"),
    (["--penalty", "r1"], "unknown discriminator penalty 'r1'; valid choices:"),
    (["--g_arch", "dcgan"], "unknown generator architecture 'dcgan'; valid choices:"),
    (["--data_source", "raw", "--data_dir", "/nonexistent"], "/nonexistent/mnist/train-images-idx3-ubyte.gz"),
])
def test_bad_input_is_explained(tmp_path, capsys, argv, message):
    assert main.main([*TINY, "--iterations", "1", "--dir", str(tmp_path / "run"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_impossible_sharing_states_the_range(tmp_path, capsys):
    assert main.main([*TINY, "--iterations", "1", "--dir", str(tmp_path / "run"), "--shared_layers", "9"]) == 2
    assert "allowed range is 0..5" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_evaluate_needs_a_run(tmp_path, capsys):
    assert main.main(["--mode", "evaluate", "--dir", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_evaluate_replaces_only_the_data_options_given(tmp_path, monkeypatch):
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", "1", "--dir", str(run)]) == 0
    seen = []
    load = main.load_task_for
    monkeypatch.setattr(main, "load_task_for", lambda config: seen.append(config) or load(config))
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "20",
                      "--data_dir", str(tmp_path / "elsewhere")]) == 0
    assert (seen[-1].data_dir, seen[-1].data_source) == (str(tmp_path / "elsewhere"), "bundled")


# -- evaluation never records garbage ------------------------------------------------------------

FAST = [*TINY, "--d_width", "0.0625", "--iterations", "2"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny CoGAN run trained for 2 iterations (copied by each test that changes it)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main.main([*FAST, "--dir", str(run)]) == 0
    return run


def _copy(run, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "dir": str(copy)}))
    return copy


def test_evaluations_at_different_iterations_are_all_kept(trained_run, tmp_path):
    run = _copy(trained_run, tmp_path)
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "20"]) == 0
    assert main.main(["--dir", str(run), "--resume", "--iterations", "4"]) == 0
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "30"]) == 0
    scores = [(r["iteration"], r["checkpoint"], r["num_pairs"]) for r in read_records(run)
              if r["metric"] == "pixel_agreement"]
    assert scores == [(2, "ckpt-2", 20), (4, "ckpt-4", 30)]
    assert latest_metrics(run)["pixel_agreement"]["iteration"] == 4


def test_generators_that_output_nan_are_refused(trained_run, tmp_path, capsys):
    from scogan.data import DataOptions, load_task
    from scogan.trainers import TRAINERS
    from scogan.utils.run_dir import load_run_config

    run = _copy(trained_run, tmp_path)
    config = load_run_config(run)
    trainer = TRAINERS.get(config.gan_type)(config, load_task("mnist2edge", DataOptions(source="bundled")), run)
    trainer.restore(required=True)
    weight = trainer.generator.trainable_variables[0]
    weight.assign(np.full(weight.shape, np.nan, np.float32))
    trainer.step.assign_add(1)
    trainer.manager.save(checkpoint_number=int(trainer.step))
    capsys.readouterr()
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ckpt-3 (iteration 3): the generators of")
    assert "output NaN/Inf (domain 1: 20 of 20, domain 2: 20 of 20 images)" in err and "diverged" in err
    assert not (run / RECORDS_FILE).exists() and not (run / "metrics.json").exists()


def test_a_run_marked_diverged_is_not_evaluated(trained_run, tmp_path, capsys):
    run = _copy(trained_run, tmp_path)
    (run / "status.json").write_text(json.dumps({"state": "diverged", "step": 2,
                                                 "message": "loss d_loss is nan at step 2"}))
    capsys.readouterr()
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "20"]) == 2
    err = capsys.readouterr().err
    assert "diverged" in err and "step 2" in err and "loss d_loss is nan" in err
    assert not (run / RECORDS_FILE).exists()


def test_metrics_a_gan_run_cannot_support_are_explained(tmp_path, capsys):
    run = tmp_path / "gan"
    assert main.main([*FAST, "--gan_type", "gan", "--iterations", "1", "--dir", str(run)]) == 0
    capsys.readouterr()
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--metrics", "pixel_agreement"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --metrics pixel_agreement needs") and "Traceback" not in err
    assert "'mnist2edge[1]' (1 domain, --gan_type gan)" in err and "use --metrics lpips" in err
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--metrics", "pair_class_agreement"]) == 2
    err = capsys.readouterr().err
    assert "--metrics pair_class_agreement needs two or more domains" in err and "mnist2edge[1]" in err
    assert not (run / RECORDS_FILE).exists()


def test_lpips_on_images_it_cannot_read_is_explained():
    from scogan.data import Domain, Task
    from scogan.metrics import METRICS, EvaluationContext, MetricError

    small = Task("folders", tuple(Domain(n, (16, 16, 3), images=np.zeros((4, 16, 16, 3), np.uint8)) for n in "ab"))
    with pytest.raises(MetricError, match=r"--metrics lpips needs images of at least 32x32.*'folders'.*--image_size 32"):
        METRICS.get("lpips")(EvaluationContext(None, None, small, "/tmp"), 10)


def test_generated_images_are_checked_for_nan_and_inf():
    import tensorflow as tf

    from scogan.metrics import EvaluationContext, NonFiniteOutputError
    from scogan.metrics.errors import MetricError

    def generate_batch(z):
        return [z[:, :, None, None], tf.where(z > 0.9, np.inf, z)[:, :, None, None]]

    context = EvaluationContext(generate_batch, lambda n, rng: rng.uniform((n, 4)), None, "RUN", batch_size=8)
    with pytest.raises(NonFiniteOutputError, match=r"generators of RUN output NaN/Inf \(domain 2: \d+ of 20 images\)"):
        context.generate(20, seed=1)
    assert issubclass(NonFiniteOutputError, MetricError) and issubclass(MetricError, ValueError)
