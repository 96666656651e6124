"""main.py end to end: the CLI trains, refuses to overwrite, resumes, evaluates, explains errors."""

import json

import pytest

import main

TINY = ["--width", "0.0625", "--batch_size", "8", "--log_every", "2", "--checkpoint_every", "2",
        "--images_while_training", "0", "--data_source", "bundled"]


def test_train_then_evaluate_writes_metrics(tmp_path, capsys):
    run = tmp_path / "run"
    assert main.main([*TINY, "--iterations", "2", "--dir", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["iterations"] == 2 and saved["dir"] == str(run)
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--num_pairs", "50"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"pixel_agreement", "pixel_agreement_shuffled", "iteration", "num_pairs"} <= set(metrics)
    assert 0.0 <= metrics["pixel_agreement"] <= 1.0 and metrics["iteration"] == 2
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
