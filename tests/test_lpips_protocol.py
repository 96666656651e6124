"""The thesis' LPIPS protocol on a run: keys, baselines, extremes written as images."""

import json

import numpy as np
import pytest

from scogan.metrics.lpips_protocol import lpips_scores, save_extremes
from scogan.utils.records import latest_values


def _l2(a, b):
    return np.mean((a - b) ** 2, axis=(1, 2, 3))


def test_protocol_keys_and_values_with_a_known_distance():
    gen = [np.zeros((4, 8, 8, 1)), np.ones((4, 8, 8, 1))]
    real = [np.zeros((4, 8, 8, 1)), np.full((4, 8, 8, 1), 0.5)]
    results, pairs = lpips_scores(_l2, gen, real)
    # _l2 is the mean squared difference: gen1 0 vs real2 0.5 -> 0.25, gen2 1 vs real1 0 -> 1
    assert results == pytest.approx({"lpips_gen1_gen2": 1.0, "lpips_real1_real2": 0.25,
                                     "lpips_gen1_real1": 0.0, "lpips_gen2_real2": 0.25,
                                     "lpips_gen1_real2": 0.25, "lpips_gen2_real1": 1.0})
    np.testing.assert_allclose(pairs, 1.0)


def test_grayscale_and_rgb_domains_are_compared_in_rgb():
    gen = [np.zeros((2, 8, 8, 1)), np.zeros((2, 8, 8, 3))]
    results, _ = lpips_scores(_l2, gen, gen)
    assert results["lpips_gen1_gen2"] == 0.0


def test_extremes_are_saved_lowest_first(tmp_path):
    gen = [np.random.default_rng(0).uniform(-1, 1, (10, 8, 8, 1)) for _ in range(2)]
    distances = np.arange(10, dtype=float)[::-1]
    save_extremes(gen, distances, tmp_path)
    assert json.loads((tmp_path / "lpips_extremes" / "lowest.json").read_text())[0] == 0.0
    assert json.loads((tmp_path / "lpips_extremes" / "highest.json").read_text())[0] == 9.0
    assert (tmp_path / "lpips_extremes" / "highest.png").exists()


def test_evaluate_mode_writes_the_lpips_keys(tmp_path):
    from scogan import main

    run = tmp_path / "run"
    tiny = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "1", "--images_while_training", "0",
            "--data_source", "bundled", "--dir", str(run)]
    assert main.main(tiny) == 0
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--metrics", "lpips,pixel_agreement",
                      "--num_pairs", "40"]) == 0
    metrics = latest_values(run)
    for key in ("lpips_gen1_gen2", "lpips_gen1_real1", "lpips_gen2_real2", "lpips_real1_real2", "pixel_agreement"):
        assert 0.0 <= metrics[key] <= 1.5, key
    assert (run / "lpips_extremes" / "lowest.png").exists()


@pytest.mark.parametrize("gan_type", ["gan", "scogan"])
def test_evaluate_mode_on_gan_and_scogan_runs(tmp_path, gan_type):
    from scogan import main

    run = tmp_path / "run"
    tiny = ["--gan_type", gan_type, "--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "1",
            "--images_while_training", "0", "--data_source", "bundled", "--dir", str(run)]
    if gan_type == "scogan":
        tiny += ["--gen_penalty", "feature", "--disc_iters", "1"]
    assert main.main(tiny) == 0
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--metrics", "lpips", "--num_pairs", "40"]) == 0
    metrics = latest_values(run)
    expected = {"lpips_gen1_real1"} if gan_type == "gan" else {
        "lpips_gen1_gen2", "lpips_gen1_real1", "lpips_gen2_real2", "lpips_real1_real2"}
    assert expected <= set(metrics) and not {"lpips_gen2_real2"} & (set(metrics) - expected)
    assert (run / "lpips_extremes").exists() == (gan_type == "scogan")
