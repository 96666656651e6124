"""RUN/resolved_config.json: what ran, every auto or default resolved, beside the typed config.json."""

import json
import subprocess
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from scogan import main
from scogan.utils.config import GAN_TYPE_DEFAULTS
from scogan.utils.resolved import RESOLVED_FILE
from scogan.utils.run_dir import load_run_config

ROOT = Path(__file__).resolve().parents[1]
# Small, but the network options left at their defaults (auto architectures, unset shared
# counts and --d_width, --disc_norm auto); only --data_source is pinned, to the bundled subset.
TINY = ["--width", "0.0625", "--batch_size", "8", "--log_every", "1", "--checkpoint_every", "2",
        "--images_while_training", "0", "--data_source", "bundled", "--iterations", "2"]
RESOLVED_FIELDS = ("g_arch", "d_arch", "shared_layers", "d_shared_layers", "width", "d_width", "disc_norm",
                   "upsample", "data_source", "data_dir", "image_size", "image_shapes", "channels", "noise_dim",
                   "gan_type_defaults", "environment")


def _train(run: Path, *argv: str) -> dict:
    assert main.main([*TINY, "--dir", str(run), *argv]) == 0
    return json.loads((run / RESOLVED_FILE).read_text())


def _shared_blocks(models: list[keras.Model]) -> int:
    """Blocks whose layer objects both domain models use (layers are named <block>_<layer>)."""
    common = {id(layer) for layer in models[0].layers} & {id(layer) for layer in models[1].layers}
    return len({layer.name.split("_")[0] for layer in models[0].layers
                if id(layer) in common and not isinstance(layer, keras.layers.InputLayer)})


def _git_head() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _text_tags(logs: Path) -> dict[str, list[int]]:
    """TensorBoard tag -> steps, over every event file in ``logs``."""
    tags: dict[str, list[int]] = {}
    for file in sorted(logs.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(file)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    return tags


def test_cogan_defaults_are_resolved_recorded_and_rewritten_on_resume(tmp_path):
    run = tmp_path / "run"
    resolved = _train(run)
    for name in RESOLVED_FIELDS:
        assert resolved[name] not in ("auto", None), name
    assert (resolved["g_arch"], resolved["d_arch"]) == ("digit", "digit")
    assert resolved["data_source"] == "bundled" and Path(resolved["data_dir"]).is_dir()
    assert resolved["image_shapes"] == [[32, 32, 1], [32, 32, 1]] and resolved["channels"] == [1, 1]
    assert resolved["d_width"] == 1.0 and resolved["disc_norm"] == "batch" and resolved["noise_dim"] == 100
    assert resolved["gan_type_defaults"] == {}

    # The shared counts are what the built networks share.
    config = load_run_config(run)
    from scogan.trainers import TRAINERS

    trainer = TRAINERS.get("cogan")(config, main.load_task_for(config), tmp_path / "rebuilt")
    for key in ("shared_layers", "d_shared_layers"):
        assert isinstance(resolved[key], int) and not isinstance(resolved[key], bool)
    assert resolved["shared_layers"] == _shared_blocks(trainer.generator.domain_models) == 5
    assert resolved["d_shared_layers"] == _shared_blocks(trainer.discriminator.domain_models) == 3

    environment = resolved["environment"]
    assert environment["tensorflow"] == tf.__version__ and environment["keras"] == keras.__version__
    assert all(environment[k] for k in ("python", "numpy", "scogan", "platform", "processor"))
    head = _git_head()
    if head is not None:
        assert environment["git_commit"] == head and isinstance(environment["git_dirty"], bool)
    else:
        assert environment["git_commit"] is None and environment["git_dirty"] is None

    # config.json still holds what was typed, and loads as before; beside it, what that resolved to.
    typed = json.loads((run / "config.json").read_text())
    assert (typed["g_arch"], typed["shared_layers"], typed["disc_norm"]) == ("auto", None, "auto")
    assert config.g_arch == "auto" and config.d_width is None
    assert typed["resolved"] == resolved

    # A resume rewrites the resolved file and logs it again, at the step it starts from.
    assert main.main(["--dir", str(run), "--resume", "--iterations", "3"]) == 0
    again = json.loads((run / RESOLVED_FILE).read_text())
    assert again["iterations"] == 3 and {k: again[k] for k in RESOLVED_FIELDS} == {k: resolved[k] for k in RESOLVED_FIELDS}
    tags = _text_tags(run / "logs")
    assert tags["config"] == [0] and sorted(tags["resolved_config"]) == [0, 2]
    assert json.loads((run / "config.json").read_text())["resolved"] == again


def test_scogan_resolves_its_gan_type_defaults_and_shares_nothing(tmp_path):
    resolved = _train(tmp_path / "run", "--gan_type", "scogan", "--gen_penalty", "feature")
    assert (resolved["g_arch"], resolved["d_arch"]) == ("digit", "digit")
    assert resolved["shared_layers"] == 0 and resolved["d_shared_layers"] == 0
    assert resolved["feature_layers"] == 3 and resolved["active_terms"] == ["feature"]
    assert resolved["disc_norm"] == "layer"  # --disc_norm auto with --penalty wgan-gp
    assert resolved["gan_type_defaults"] == GAN_TYPE_DEFAULTS["scogan"]
    assert resolved["data_source"] == "bundled"


def test_classifier_run_records_its_network(tmp_path):
    resolved = _train(tmp_path / "run", "--gan_type", "classifier", "--cogan_data", "mnist2negative")
    assert resolved["classifier_arch"] == "digit_classifier" and resolved["classifier_outputs"] == 10
    assert resolved["g_arch"] is None and resolved["d_arch"] is None  # no GAN networks: none built
    assert resolved["width"] == 0.0625 and resolved["data_source"] == "bundled"
    assert resolved["gan_type_defaults"] == GAN_TYPE_DEFAULTS["classifier"]
    assert resolved["environment"]["tensorflow"] == tf.__version__


@pytest.mark.parametrize("gan_type", ["gan", "uda"])
def test_other_gan_types_write_it(tmp_path, gan_type):
    resolved = _train(tmp_path / "run", "--gan_type", gan_type,
                      *(["--cogan_data", "mnist2negative", "--uda_protocol", "full"] if gan_type == "uda" else []))
    assert resolved["g_arch"] == "digit" and resolved["data_source"] == "bundled"
    if gan_type == "gan":
        assert resolved["shared_layers"] == 0 and resolved["channels"] == [1]
    else:
        assert resolved["d_shared_layers"] == 3
