"""tools/make_sample_grids.py: the folders grid reads real CelebA faces split by sex."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("make_sample_grids", ROOT / "tools" / "make_sample_grids.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_faces_are_linked_into_female_and_male_folders_by_the_attribute(shared_datasets, tmp_path):
    from scogan.data.celeba import ATTRIBUTES, read_attributes

    tool = _tool()
    target = tool.link_faces_by_sex(shared_datasets, tmp_path / "faces")
    names, values = read_attributes(shared_datasets / "celeba" / "list_attr_celeba.txt")
    male = {n for n, row in zip(names, values) if row[ATTRIBUTES.index("Male")] > 0}
    on_disk = {p.name for p in (shared_datasets / "celeba" / "img_align_celeba").glob("*.jpg")}
    assert {p.name for p in (target / "male").iterdir()} == male & on_disk
    assert {p.name for p in (target / "female").iterdir()} == on_disk - male
    assert 0 < len(male & on_disk) < len(on_disk)
    tool.link_faces_by_sex(shared_datasets, target)  # a second call keeps the links


def test_every_grid_is_a_valid_command_line_and_unknown_names_are_refused(tmp_path, capsys):
    from scogan.utils.config import parse_config

    tool = _tool()
    for name, options in tool.GRIDS.items():
        config, _ = parse_config([o.format(folders=tmp_path) for o in options])
        assert config.cogan_data in (name, "folders", "celeba"), name
    with pytest.raises(SystemExit):
        tool.main(["mnist2nothing", "--data_dir", str(tmp_path)])
    assert "valid choices: mnist2edge" in capsys.readouterr().err
