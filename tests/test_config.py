"""The command line: every option documented, aliases, real flags, validation."""

import dataclasses

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
