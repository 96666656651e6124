"""The installed distribution: the ``scogan`` command, and nothing named ``data``, ``utils`` or
``main`` in site-packages, so it works from a folder that holds its own ``utils.py``,
``data/`` and ``main.py`` (the repository keeps the thesis' top-level layout; installed it is
the one package ``scogan``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).parent / "scogan"
TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--log_every", "1",
        "--checkpoint_every", "1000", "--images_while_training", "0", "--data_source", "bundled"]


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A researcher's folder whose own modules shadow the repository's top-level names."""
    (tmp_path / "utils.py").write_text("raise ImportError('the user utils.py was imported')\n")
    (tmp_path / "main.py").write_text("raise ImportError('the user main.py was imported')\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "__init__.py").write_text("raise ImportError('the user data/ was imported')\n")
    return tmp_path


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def test_the_command_is_installed():
    assert COMMAND.exists(), f"{COMMAND} missing: install the project with pip install -e '.[test]'"


def test_no_top_level_project_modules_are_importable_outside_the_checkout(user_folder):
    script = ("import importlib.util, json; print(json.dumps({n: importlib.util.find_spec(n) is not None "
              "for n in ['nets', 'trainers', 'losses', 'penalties', 'metrics', 'inference', "
              "'experiments', 'scogan.trainers.cogan', 'scogan.main']}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=user_folder, env=_clean_env(),
                         capture_output=True, text=True, timeout=60, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found.pop("scogan.trainers.cogan") and found.pop("scogan.main")
    assert not any(found.values()), f"top-level project packages visible outside the checkout: {found}"


def test_the_command_trains_from_a_folder_with_its_own_utils_data_and_main(user_folder):
    run = user_folder / "run"
    result = subprocess.run([str(COMMAND), *TINY, "--iterations", "2", "--dir", str(run)],
                            cwd=user_folder, env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert (run / "generators.keras").exists()


def test_the_command_reports_usage_errors_like_main_py(user_folder):
    result = subprocess.run([str(COMMAND), "--iterations", "0"], cwd=user_folder, env=_clean_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
