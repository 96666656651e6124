"""The command line: every option documented, aliases, real flags, validation, --help."""

import dataclasses
import re

import pytest

from scogan.utils.config import Config, build_parser, field_types, parse_config


def test_help_documents_every_option():
    text = build_parser().format_help()
    for field in dataclasses.fields(Config):
        assert f"--{field.name}" in text, field.name
        assert field.metadata["help"], field.name


def test_field_types_convert_text_values_for_tools():
    types = field_types()
    assert set(types) == {f.name for f in dataclasses.fields(Config)}
    assert types["d_width"]("0.5") == 0.5 and types["shared_layers"]("3") == 3
    assert types["loss"]("wgan") == "wgan"
    assert types["resume"]("False") is False and types["resume"]("true") is True
    with pytest.raises(ValueError, match="true or false"):
        types["resume"]("0")


def test_thesis_aliases():
    config, given = parse_config(["--epochs", "7", "--disc_penalty", "wgan-gp"])
    assert config.iterations == 7 and config.penalty == "wgan-gp"
    assert given == {"iterations", "penalty"}


def test_boolean_options_are_real_flags():
    assert parse_config([])[0].resume is False
    assert parse_config(["--resume"])[0].resume is True
    with pytest.raises(SystemExit):
        parse_config(["--resume", "False"])


@pytest.mark.parametrize("argv", [["--batch_size", "0"], ["--lr_g", "-1"], ["--noise_type", "cauchy"],
                                  ["--shared_gradient", "max"], ["--gan_domain", "0"],
                                  ["--d_width", "0"]])
def test_bad_values_are_rejected(argv, capsys):
    with pytest.raises(SystemExit):
        parse_config(argv)
    assert "error" in capsys.readouterr().err


def test_config_is_immutable():
    config = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.iterations = 3


def test_unknown_keys_in_a_saved_config_are_an_error():
    with pytest.raises(ValueError, match="unknown configuration keys: learning_rate"):
        Config.from_dict({"learning_rate": 1.0})


def test_docs_document_every_option_as_the_parser_does():
    """docs/usage.md's options tables are generated (tools/options_table.py --write); they must not drift."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("options_table", root / "tools" / "options_table.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    block = tool.options_block((root / "docs" / "usage.md").read_text())
    assert block == tool.options_markdown(), "docs/usage.md options are stale: run python tools/options_table.py --write"


# -- --help as a guide ---------------------------------------------------------------------------

REGISTRY_OPTIONS = {"cogan_data": "TASKS", "loss": "LOSSES", "penalty": "DISCRIMINATOR_PENALTIES",
                    "gen_penalty": "GENERATOR_PENALTIES", "g_arch": "GENERATORS", "d_arch": "DISCRIMINATORS",
                    "metrics": "METRICS"}


@pytest.fixture(scope="module")
def help_output() -> str:
    return build_parser().format_help()


def _option_help(help_output: str, option: str) -> str:
    """The option's entry of --help, its lines joined."""
    lines = help_output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"  --{option}(\s|,|$)", line))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" " * 30) or not lines[i].strip())
    return " ".join(" ".join(lines[start:end]).split())


def test_help_lists_the_valid_names_of_every_registry_option(help_output):
    from scogan import data, losses, metrics, nets, penalties

    registries = {"cogan_data": data.TASKS, "loss": losses.LOSSES, "penalty": penalties.DISCRIMINATOR_PENALTIES,
                  "gen_penalty": penalties.GENERATOR_PENALTIES, "g_arch": nets.GENERATORS,
                  "d_arch": nets.DISCRIMINATORS, "metrics": metrics.METRICS}
    assert {f.name for f in dataclasses.fields(Config) if f.metadata["registry"]} == set(registries)
    for option, registry in registries.items():
        assert registry.names(), option
        assert ", ".join(registry.names()) in _option_help(help_output, option), option


def test_help_shows_each_default_once_and_never_none(help_output):
    assert "(default: None)" not in help_output and "(default: False)" not in help_output
    for f in dataclasses.fields(Config):
        entry = _option_help(help_output, f.name)
        if f.type == "bool":
            continue
        if f.default is None:  # the help says what None means
            assert "default" in entry.lower() or "required" in entry, f.name
        else:
            assert entry.count(f"(default: {f.default}") == 1, (f.name, entry)
    assert "(default: 0.0005; 0.0002 with --gan_type scogan; 0.001 with --gan_type classifier)" in \
        _option_help(help_output, "lr_d")


def test_help_says_what_b1_and_b2_do_for_every_optimizer(help_output):
    assert "momentum of sgd" in _option_help(help_output, "b1") and "rmsprop" in _option_help(help_output, "b1")
    assert "sgd and rmsprop have none" in _option_help(help_output, "b2")


def test_help_ends_with_examples(help_output):
    examples = help_output.split("examples:", 1)[1]
    for command in ("python main.py\n",
                    "python main.py --cogan_data horse2zebra --loss wgan --penalty wgan-gp\n",
                    "python main.py --gan_type scogan --gen_penalty feature --dir runs/fr\n",
                    "python main.py --mode evaluate --dir runs/fr"):
        assert command in examples, command
    assert "Two-domain task" not in help_output
    assert len(help_output.splitlines()) < 363  # shorter than before it listed names and examples


def test_help_examples_pass_the_applicability_check():
    from scogan.utils.applicability import check_applicability
    from scogan.utils.cli_help import EXAMPLES

    commands = [line.split("python main.py", 1)[1].split() for line in EXAMPLES.splitlines()
                if line.strip().startswith("python main.py")]
    assert len(commands) == 4
    for argv in commands:
        assert not check_applicability(*parse_config(argv)), argv
