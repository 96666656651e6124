"""Property-based: random and malformed options and image files thrown at main.py.

Every outcome must be exit 0, a clean usage error (exit 2, from argparse or a one-line
``error:`` message), or one of main's documented statuses (1 a checkpoint problem, 3
diverged), never a Python traceback; and a run directory never looks finished when it
is not (status.json ``finished`` only with the final checkpoint and exported nets).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scogan import main

BASE = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "2", "--log_every", "1",
        "--checkpoint_every", "1000", "--images_while_training", "0", "--data_source", "bundled"]
# --num_pairs is an evaluation option (a training command refuses it, utils.applicability).
EVALUATE = ["--num_pairs", "16"]

# Malformed or small values only: a valid but enormous width or noise_dim would just be slow.
NUMBERS = ["0", "-1", "1", "2", "0.5", "nan", "inf", "-inf", "1e-9", "abc", "", "3.5", "1e400"]
VALUES: dict[str, list[str]] = {
    "--lr_d": NUMBERS + ["1e6"], "--lr_g": NUMBERS + ["1e6"], "--width": NUMBERS, "--d_width": NUMBERS,
    "--batch_size": NUMBERS + ["100000"], "--iterations": NUMBERS, "--disc_iters": NUMBERS,
    "--noise_dim": NUMBERS, "--shared_layers": NUMBERS + ["9"], "--d_shared_layers": NUMBERS + ["9"],
    "--image_size": NUMBERS + ["33", "64", "28"], "--clip": NUMBERS, "--weight_decay": NUMBERS,
    "--penalty_weight_d": NUMBERS, "--b1": NUMBERS, "--b2": NUMBERS, "--seed": NUMBERS + ["-5", "4294967296"],
    "--num_pairs": NUMBERS, "--checkpoint_every": NUMBERS, "--log_every": NUMBERS,
    "--checkpoint_minutes": NUMBERS, "--prelu_init": NUMBERS, "--gan_domain": NUMBERS + ["3"],
    "--loss": ["ce", "wgan", "minimax", "hinge", ""], "--penalty": ["none", "wgan-gp", "clip", "r1"],
    "--gan_type": ["gan", "cogan", "scogan", "classifier", "vae"],
    "--cogan_data": ["mnist2edge", "mnist2negative", "mnist2usps", "celeba", "horse2zebra", "folders", "x"],
    "--metrics": ["pixel_agreement", "classifier_accuracy", "pair_class_agreement", "nope", ""],
    "--noise_type": ["uniform", "normal", "cauchy"], "--upsample": ["transpose", "resize", "x"],
    "--g_arch": ["auto", "digit", "faces", "resnet", "x"], "--data_source": ["auto", "raw", "tfds", "bundled"],
    "--on_nan": ["stop", "rollback", "x"], "--nan_lr_factor": NUMBERS,
}

# Image files for --cogan_data folders: valid, empty, truncated, not images, damaged inside.
PNG_1x1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a1d7e3d20000000049454e44ae426082")
FILES = st.sampled_from([
    PNG_1x1, b"", b"not an image at all", PNG_1x1[:30], PNG_1x1[:20] + b"\0" * 40 + PNG_1x1[-12:],
    b"\xff\xd8\xff\xe0" + b"\x13" * 300 + b"\xff\xd9",
])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "run"
    assert main.main([*BASE, "--dir", str(run)]) == 0
    return run


def _check_run_directory(run: Path, code: int) -> None:
    status_file = run / "status.json"
    if not status_file.exists():
        return
    status = json.loads(status_file.read_text())
    if status["state"] == "finished":
        assert code == 0, status
        assert (run / "checkpoints" / f"ckpt-{status['step']}.index").exists()
        config = json.loads((run / "config.json").read_text())
        if config["gan_type"] != "classifier":
            assert list(run.glob("generator*.keras")) and (run / "samples" / "final.png").exists()
    else:
        assert code != 0 or status["state"] == "training", status


def _invoke(argv: list[str], capsys) -> int:
    try:
        code = main.main(argv)
    except SystemExit as exit_:  # argparse: --help is 0, a usage error 2
        code = exit_.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code in (0, 1, 2, 3), (code, argv, err[-1500:])
    if code:
        assert err.strip(), argv
    return code


# CI runs a fixed sample of 14 cases; set CLI_PROPERTY_EXAMPLES=200 for a longer, random search.
EXAMPLES = int(os.environ.get("CLI_PROPERTY_EXAMPLES", "0")) or None


@settings(max_examples=EXAMPLES or 14, deadline=None, derandomize=EXAMPLES is None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(options=st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=3, unique=True), data=st.data(),
       files=st.lists(FILES, min_size=1, max_size=10), training=st.booleans())
def test_random_options_and_files_end_in_a_result_or_a_clean_error(options, data, files, training, trained_run,
                                                                  capsys):
    chosen = [(name, data.draw(st.sampled_from(VALUES[name]), label=name)) for name in options]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        folders = []
        for d in ("a", "b"):
            (scratch / d).mkdir()
            for i, content in enumerate(files * 2):
                (scratch / d / f"{i}.{'png' if content.startswith(PNG_1x1[:8]) else 'jpg'}").write_bytes(content)
            folders.append(str(scratch / d))
        extra = [x for name, value in chosen for x in (name, value)]
        if any(name == "--cogan_data" and value == "folders" for name, value in chosen):
            extra += ["--domain_dirs", *folders]
        if training:
            run = scratch / "run"
            code = _invoke([*BASE, *extra, "--dir", str(run)], capsys)
            if run.exists():
                _check_run_directory(run, code)
        else:
            copy = scratch / "evaluated"
            shutil.copytree(trained_run, copy, ignore=shutil.ignore_patterns(".lock"))
            evaluate = [x for name, value in chosen if name in ("--metrics", "--num_pairs", "--data_source")
                        for x in (name, value)]
            _invoke(["--mode", "evaluate", "--dir", str(copy), *EVALUATE, *evaluate], capsys)
