"""Reproduction presets: every preset is a valid command line at both scales."""

import pytest

from experiments import PRESETS, TABLES, presets_of
from experiments.__main__ import markdown_table
from utils.config import parse_config


@pytest.mark.parametrize("scale", ["full", "cpu"])
def test_every_preset_parses(scale):
    for name in PRESETS.names():
        config, _ = parse_config([*PRESETS.get(name).arguments(scale), "--dir", "x"])
        assert config.iterations >= 1, name


def test_full_scale_is_the_thesis_size_and_cpu_scale_is_smaller():
    full, _ = parse_config(PRESETS.get("table5_1/cogan").arguments("full"))
    cpu, _ = parse_config(PRESETS.get("table5_1/cogan").arguments("cpu"))
    assert (full.width, full.iterations, full.batch_size) == (1.0, 20000, 128)
    assert cpu.width < 1.0 and cpu.iterations < full.iterations
    assert full.loss == "wgan" and full.penalty == "wgan-gp" and full.disc_iters == 5


def test_every_table_has_presets_and_published_numbers():
    for table in TABLES:
        assert presets_of(table), table
    assert PRESETS.get("table5_2/slfr").published["lpips_gen1_gen2"] == 0.3016


def test_table_of_unfinished_runs_shows_published_numbers(tmp_path):
    text = markdown_table("table5_1", "cpu", tmp_path)
    assert "| Configuration | CoGAN | FR | SL | CC | PL |" in text
    assert "| Gen. domain 1 vs Gen. domain 2 | — (0.1026) | — (0.1227)" in text
