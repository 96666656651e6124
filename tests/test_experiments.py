"""Reproduction presets: every preset is a valid command line at both scales."""

import json
from pathlib import Path

import pytest

from scogan.experiments import PRESETS, TABLES, presets_of
from scogan.experiments.__main__ import markdown_table
from scogan.utils.config import parse_config
from scogan.utils.records import append_evaluation


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


def test_full_scale_evaluates_on_the_thesis_pair_counts():
    from scogan.experiments.__main__ import DEFAULT_PAIRS, preset_pairs

    assert PRESETS.get("table5_1/fr").num_pairs("full") == 30000  # thesis Sec. 5.1
    assert PRESETS.get("table5_2/slcc").num_pairs("full") == 50000  # Sec. 5.2
    assert PRESETS.get("table5_3/pl").num_pairs("full") == 50000  # Sec. 5.3
    assert PRESETS.get("table5_4/pl_a2o").num_pairs("full") == 995  # Sec. 5.4
    assert PRESETS.get("table3.3").num_pairs("full") == 1000  # Sec. 3.3.1
    assert PRESETS.get("sweep/mnist2edge/g5d3").num_pairs("full") == 10000  # CoGAN paper Sec. 4
    assert PRESETS.get("table5_1/fr").num_pairs("cpu") is None
    assert preset_pairs(PRESETS.get("table5_2/cogan"), "full") == 50000
    assert preset_pairs(PRESETS.get("table5_2/cogan"), "cpu") == DEFAULT_PAIRS
    with pytest.raises(ValueError, match="full, cpu"):
        PRESETS.get("table5_1/fr").num_pairs("gpu")


def test_scogan_presets_share_nothing_between_the_domains():
    scogan = 0
    for name in PRESETS.names():
        for scale in ("full", "cpu"):
            config, _ = parse_config([*PRESETS.get(name).arguments(scale), "--dir", "x"])
            if config.gan_type == "scogan":
                scogan += 1
                assert config.d_shared_layers == 0, name
    assert scogan


def test_every_cell_of_the_thesis_2x2_tables_has_a_slot_and_its_number(tmp_path):
    rows = dict((key, label) for label, key in TABLES["table3"]["rows"])
    assert rows["lpips_gen1_real2"] == "Gen. domain 1 vs Real domain 2"
    assert rows["lpips_gen2_real1"] == "Gen. domain 2 vs Real domain 1"
    # Thesis Table 3.5 (horse2zebra 128x128): Gen. horses 0.8906 / 0.9594, Gen. zebras 0.6923 / 0.7024
    assert PRESETS.get("table3.5").published == dict(lpips_gen1_real1=0.8906, lpips_gen1_real2=0.9594,
                                                     lpips_gen2_real1=0.6923, lpips_gen2_real2=0.7024)
    for name in ("table3.3", "table3.4", "table3.5", "table3.6", "table3.7", "table3.8"):
        assert len(PRESETS.get(name).published) == 4, name
    text = markdown_table("table3", "full", tmp_path)
    assert "| Gen. domain 2 vs Real domain 1 | — [thesis: 0.7728] |" in text


def test_table_7_1_is_the_semantic_loss_column_of_table_5_2():
    sl = PRESETS.get("table5_2/sl")
    assert sl.column == "SL (Table 7.1)"
    assert sl.published == dict(lpips_gen1_gen2=0.3018, lpips_gen1_real1=0.1140, lpips_gen2_real2=0.2053,
                                lpips_real1_real2=0.3304)


def test_table_of_unfinished_runs_shows_published_numbers(tmp_path):
    text = markdown_table("table5_1", "cpu", tmp_path)
    assert "| Configuration | CoGAN | FR | SL | CC | PL |" in text
    assert "| Gen. domain 1 vs Gen. domain 2 | — [thesis: 0.1026] | — [thesis: 0.1227]" in text
    assert "| Samples (lowest seed) | — | — | — | — | — |" in text


def test_published_numbers_are_hidden_where_the_cpu_scale_changes_the_dataset(tmp_path):
    assert PRESETS.get("table5_2/cogan").option("cpu", "cogan_data") == "mnist2mnistm"
    text = markdown_table("table5_2", "cpu", tmp_path)
    assert "[thesis: 0.3400]" not in text
    assert "[thesis: 0.3400]" in markdown_table("table5_2", "full", tmp_path)


def test_table_copies_finished_grids_and_links_them_relatively(tmp_path):
    import json

    run = tmp_path / "runs" / "cpu" / "table5_1" / "cogan"
    (run / "samples").mkdir(parents=True)
    (run / "samples" / "final.png").write_bytes(b"png")
    append_evaluation(run, {"lpips_gen1_gen2": 0.25}, iteration=1000, checkpoint="ckpt-1000", num_pairs=3000)
    (run / "preset.json").write_text(json.dumps({"train_seconds": 300.0}))
    docs = tmp_path / "docs"
    text = markdown_table("table5_1", "cpu", tmp_path / "runs", docs / "images", docs)
    assert (docs / "images" / "table5_1_cogan_cpu.png").read_bytes() == b"png"
    assert "![CoGAN](images/table5_1_cogan_cpu.png)" in text
    assert "| Gen. domain 1 vs Gen. domain 2 | 0.2500 (n=1) [thesis: 0.1026] |" in text
    assert "| Iterations | 1000 |" in text
    assert "| Wall time per seed | 5 min |" in text


def test_table_reads_the_latest_records_and_shows_every_iteration_they_come_from(tmp_path):
    run = tmp_path / "cpu" / "table5_1" / "cogan"
    append_evaluation(run, {"lpips_gen1_gen2": 0.5, "lpips_gen1_real1": 0.4}, iteration=800,
                      checkpoint="ckpt-800", num_pairs=3000)
    append_evaluation(run, {"lpips_gen1_gen2": 0.25, "pixel_agreement": 0.9}, iteration=1000,
                      checkpoint="ckpt-1000", num_pairs=3000)
    text = markdown_table("table5_1", "cpu", tmp_path)
    assert "| Gen. domain 1 vs Gen. domain 2 | 0.2500 (n=1) [thesis: 0.1026] |" in text
    assert "| Gen. domain 1 vs Real domain 1 | 0.4000 (n=1)" in text
    assert "| Iterations | 1000 / 800 | — |" in text


def test_a_finished_preset_is_neither_retrained_nor_reevaluated(tmp_path, monkeypatch):
    from scogan import main
    from scogan.experiments.__main__ import run_preset

    run = tmp_path / "cpu" / "table5_1" / "classifier"
    run.mkdir(parents=True)
    (run / "preset.json").write_text('{"train_seconds": 90.0}')

    def refuse(argv):
        raise AssertionError(f"main.main called with {argv}")

    monkeypatch.setattr(main, "main", refuse)
    assert run_preset(PRESETS.get("table5_1/classifier"), "cpu", tmp_path, []) == run
    assert (run / "preset.json").read_text() == '{"train_seconds": 90.0}'


def test_a_diverged_preset_is_recorded_never_evaluated_and_shown_in_the_table(tmp_path, monkeypatch):
    from scogan import main
    from scogan.experiments.__main__ import run_preset
    from scogan.utils.run_dir import write_status

    calls = []

    def diverging(argv):
        calls.append(argv)
        assert "--mode" not in argv, "a diverged run was evaluated"
        run = Path(argv[argv.index("--dir") + 1])
        write_status(run, "diverged", 7, "training diverged at step 7: d_loss/1 is nan")
        return 3

    monkeypatch.setattr(main, "main", diverging)
    run = run_preset(PRESETS.get("table5_1/cogan"), "cpu", tmp_path, [])
    assert len(calls) == 1 and json.loads((run / "preset.json").read_text())["diverged"]["step"] == 7
    assert run_preset(PRESETS.get("table5_1/cogan"), "cpu", tmp_path, []) == run and len(calls) == 1
    assert "diverged (at step 7)" in markdown_table("table5_1", "cpu", tmp_path)


def _seed_run(runs: Path, preset: str, seed: int, values: dict, seconds: float = 60.0) -> Path:
    run = runs / "cpu" / preset / f"seed{seed}"
    append_evaluation(run, values, iteration=1000, checkpoint="ckpt-1000", num_pairs=3000)
    (run / "preset.json").write_text(json.dumps({"train_seconds": seconds, "seed": seed}))
    return run


def test_seeds_aggregate_to_mean_and_standard_deviation(tmp_path):
    for seed, value in ((0, 0.2), (1, 0.3), (2, 0.4)):
        _seed_run(tmp_path, "table5_1/cogan", seed, {"lpips_gen1_gen2": value}, seconds=60.0 * (seed + 1))
    _seed_run(tmp_path, "table5_1/fr", 5, {"lpips_gen1_gen2": 0.5})
    text = markdown_table("table5_1", "cpu", tmp_path)
    # mean 0.3, sample standard deviation 0.1 (hand-computed), 3 seeds; one seed for FR
    assert "| Gen. domain 1 vs Gen. domain 2 | 0.3000 ± 0.1000 (n=3) [thesis: 0.1026] | 0.5000 (n=1) [thesis:" in text
    assert "| Seeds | 0, 1, 2 | 5 |" in text
    assert "| Wall time per seed | 2 min (mean of 3) | 1 min |" in text
    # --seeds restricts the table to the seeds asked for
    assert "0.2500 ± 0.0707 (n=2)" in markdown_table("table5_1", "cpu", tmp_path, seeds=[0, 1])


def test_collapsed_generators_are_flagged(tmp_path):
    _seed_run(tmp_path, "table5_2/cogan", 0, {"pair_class_agreement": 0.99, "pair_class_entropy/1": 3.1,
                                              "pair_class_entropy/2": 0.2})
    _seed_run(tmp_path, "table5_2/fr", 0, {"pair_class_entropy/1": 3.0, "pair_class_entropy/2": 2.9})
    _seed_run(tmp_path, "table5_2/sl", 0, {"pair_class_entropy/1": 3.0, "recall/2": 0.01})
    _seed_run(tmp_path, "table5_2/slfr", 0, {"pair_class_entropy/1": 1.0, "recall/1": 0.05})
    row = next(line for line in markdown_table("table5_2", "cpu", tmp_path).splitlines()
               if line.startswith("| Collapse check"))
    cells = [c.strip() for c in row.split("|")[2:-1]]
    # few classes is a collapse; varied classes with recall near 0 are flagged apart
    assert cells[:4] == ["**collapsed**: pair_class_entropy/2 0.20 bits", "ok", "**low recall**: recall/2 0.010",
                         "**collapsed**: pair_class_entropy/1 1.00 bits, recall/1 0.050"]
    assert set(cells[4:]) == {"—"}


def test_the_runner_trains_each_seed_in_its_own_directory_and_one_shared_classifier(tmp_path, monkeypatch):
    from scogan import main
    from scogan.experiments.__main__ import main as experiments_main

    calls = []

    def fake(argv):
        calls.append(argv)
        run = Path(argv[argv.index("--dir") + 1])
        if "--mode" not in argv:
            run.mkdir(parents=True, exist_ok=True)
            (run / "config.json").write_text("{}")
        else:
            append_evaluation(run, {"pixel_agreement": 0.9}, iteration=1, checkpoint="ckpt-1", num_pairs=10)
        return 0

    monkeypatch.setattr(main, "main", fake)
    assert experiments_main(["run", "table5_2/sl", "--seeds", "0,1", "--runs_dir", str(tmp_path)]) == 0
    trained = [a[a.index("--dir") + 1] for a in calls if "--mode" not in a]
    assert trained == [str(tmp_path / "cpu" / "table5_2" / "classifier"),
                       str(tmp_path / "cpu" / "table5_2" / "sl" / "seed0"),
                       str(tmp_path / "cpu" / "table5_2" / "sl" / "seed1")]
    seeds = [a[a.index("--seed") + 1] for a in calls if "--mode" not in a and "--seed" in a]
    assert seeds == ["0", "1"]
    assert all(str(tmp_path / "cpu" / "table5_2" / "classifier" / "classifier.keras") in a
               for a in calls if "seed0" in " ".join(a) and "--mode" not in a)
    calls.clear()  # a second call redoes nothing
    assert experiments_main(["run", "table5_2/sl", "--seeds", "0,1", "--runs_dir", str(tmp_path)]) == 0
    assert calls == []


def test_seed_lists_are_checked():
    from scogan.experiments.__main__ import seed_list

    assert seed_list("0,1,2") == [0, 1, 2]
    for bad in ("a", "1,1", "-1", ""):
        with pytest.raises(Exception, match="seeds|integers"):
            seed_list(bad)


def test_a_started_run_resumes_from_its_checkpoint_and_one_without_checkpoints_starts_again(tmp_path, monkeypatch):
    from scogan import main
    from scogan.experiments.__main__ import run_preset

    calls = []

    def fake(argv):
        calls.append(argv)
        run = Path(argv[argv.index("--dir") + 1])
        if "--mode" in argv:
            append_evaluation(run, {"pixel_agreement": 0.9}, iteration=1, checkpoint="ckpt-1", num_pairs=10)
        else:
            run.mkdir(parents=True, exist_ok=True)
            (run / "config.json").write_text("{}")
        return 0

    monkeypatch.setattr(main, "main", fake)
    preset = PRESETS.get("table5_1/cogan")
    run = tmp_path / "cpu" / "table5_1" / "cogan" / "seed0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "checkpoints" / "ckpt-500.index").write_text("")
    assert run_preset(preset, "cpu", tmp_path, [], seed=0) == run
    assert "--resume" in calls[0]

    calls.clear()  # as a study committed to git arrives on another clone: no checkpoints, a stale file
    other = tmp_path / "cpu" / "table5_1" / "cogan" / "seed1"
    other.mkdir(parents=True)
    (other / "config.json").write_text("{}")
    (other / "losses.csv").write_text("step\n1\n")
    assert run_preset(preset, "cpu", tmp_path, [], seed=1) == other
    assert "--resume" not in calls[0] and "--seed" in calls[0]
    assert not (other / "losses.csv").exists() and (other / "preset.json").exists()


def test_a_study_kept_in_git_keeps_only_the_small_files_tables_read():
    import shutil
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    run = "results/cpu/table5_2/sl/seed0"
    kept = [f"{run}/{name}" for name in ("config.json", "resolved_config.json", "status.json", "preset.json",
                                         "metrics.jsonl", "metrics.json", "losses.csv", "samples/final.png")]
    kept.append("results/cpu/table5_2/classifier/classifier.keras")
    dropped = [f"{run}/{name}" for name in ("checkpoints/ckpt-1.index", "logs/events.out", "generators.keras",
                                            "generator1.keras", "samples/step_000100.png", ".lock")]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *kept, *dropped], cwd=root,
                             capture_output=True, text=True).stdout.split()
    assert sorted(ignored) == sorted(dropped)


def test_patterns_select_presets_in_registration_order():
    from scogan.experiments.__main__ import preset_names

    assert preset_names(["sweep/mnist2edge/g?d3"]) == [f"sweep/mnist2edge/g{k}d3" for k in range(1, 6)]
    assert preset_names(["table5_1/cogan", "table5_2_usps"])[:2] == ["table5_1/cogan", "table5_2_usps/cogan"]
    with pytest.raises(ValueError, match="no preset matches 'sweep/\\*/g9\\*'"):
        preset_names(["sweep/*/g9*"])


def test_table_5_2_runs_again_on_real_usps_with_its_own_classifier_and_no_thesis_numbers(tmp_path):
    for scale in ("cpu", "full"):
        config, _ = parse_config([*PRESETS.get("table5_2_usps/slfr").arguments(scale), "--dir", "x"])
        assert config.cogan_data == "mnist2usps" and config.semantic_loss and config.gen_penalty == "feature"
        assert PRESETS.get("table5_2_usps/slfr").classifier == "table5_2_usps/classifier"
        classifier, _ = parse_config([*PRESETS.get("table5_2_usps/classifier").arguments(scale), "--dir", "x"])
        assert (classifier.cogan_data, classifier.classifier_domains) == ("mnist2usps", "all")
    assert [p.column for p in presets_of("table5_2_usps")] == ["CoGAN", "FR", "SL", "SLFR", "SLCC", "FRCC", "PL"]
    assert "thesis:" not in markdown_table("table5_2_usps", "cpu", tmp_path)
    for name in ("table5_1/fr", "table5_2/fr", "table5_2_usps/pl"):  # recall beside every study table
        assert "precision_recall" in PRESETS.get(name).metrics


def test_the_sharing_sweep_plots_mean_and_sd_per_curve(tmp_path):
    from scogan.experiments.__main__ import main as experiments_main
    from scogan.experiments.plots import plot_sweep, sweep_points

    with pytest.raises(ValueError, match="no finished run of cogan_sweep"):
        plot_sweep("cogan_sweep", "cpu", tmp_path, tmp_path / "none.png")
    for seed, value in ((0, 0.80), (1, 0.90)):
        _seed_run(tmp_path, "sweep/mnist2edge/g1d3", seed, {"pixel_agreement": value,
                                                             "pixel_agreement_shuffled": 0.5})
    _seed_run(tmp_path, "sweep/mnist2edge/g4d3", 0, {"pixel_agreement": 0.95})
    _seed_run(tmp_path, "sweep/mnist2negative/g2d0", 0, {"pixel_agreement": 0.7})
    points = sweep_points("cogan_sweep", "cpu", tmp_path)
    assert points == {("mnist2edge", 3): [(1, [0.80, 0.90], [0.5, 0.5]), (4, [0.95], [])],
                      ("mnist2negative", 0): [(2, [0.7], [])]}
    out = tmp_path / "figs" / "sweep.png"
    assert experiments_main(["plot", "cogan_sweep", "--runs_dir", str(tmp_path), "--out", str(out)]) == 0
    from PIL import Image

    assert Image.open(out).size[0] == 1000  # two panels of 5 inches at 100 dpi


def test_the_report_holds_every_study_table_and_a_verdict_per_claim(tmp_path):
    from scogan.experiments.__main__ import main as experiments_main
    from scogan.experiments.verdicts import CLAIMS

    for seed, (cogan, pl) in enumerate(((0.100, 0.101), (0.110, 0.108), (0.105, 0.104))):
        _seed_run(tmp_path, "table5_1/cogan", seed, {"lpips_gen1_gen2": cogan, "pixel_agreement": 0.9 + cogan})
        _seed_run(tmp_path, "table5_1/pl", seed, {"lpips_gen1_gen2": pl, "pixel_agreement": 0.9 + pl})
    out = tmp_path / "docs" / "RESULTS.md"
    assert experiments_main(["report", "--runs_dir", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert sum(line.startswith("| ") and "**" in line for line in text.split("## Verdicts")[1]
               .split("\n## ")[0].splitlines()) == len(CLAIMS)
    assert "| PL matches CoGAN on MNISTedge | thesis Sec. 5.1" in text
    assert "| **reproduced** | lpips_gen1_gen2: table5_1/pl equal to table5_1/cogan: difference" in text
    assert "**not run yet**" in text
    for title in ("Collapse diagnosis", "Thesis Table 5.1", "Thesis Table 5.2", "MNIST2USPS", "pixel agreement vs shared"):
        assert title in text
    assert "No figure yet: no finished run of cogan_sweep" in text
    assert "sweep/mnist2edge/g1d0" not in text and "mnist2edge G1 D3" in text  # the CPU curve only


def test_the_baseline_command_prints_each_domains_real_vs_real_precision_and_recall(capsys):
    from scogan.experiments.__main__ import main as experiments_main

    assert experiments_main(["baseline", "mnist2edge", "--num_pairs", "16"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["task"] == "mnist2edge" and printed["num_pairs"] == 16
    for key in ("precision_real/1", "recall_real/1", "precision_real/2", "recall_real/2"):
        assert 0.0 <= printed[key] <= 1.0
    assert printed["recall_real/1"] > 0.5  # two samples of one distribution cover each other
