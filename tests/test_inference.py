"""Using a trained run (inference/): sampling, latent walks and cross-domain translation.

Tiny runs (the TINY options of test_main.py) are trained once per module; every mode is
run through ``main.main`` as a user would, plus the inversion and the interpolations as
functions.
"""

from __future__ import annotations

import csv
import json
import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from scogan import main
from scogan.inference.interpolate import lerp, slerp
from scogan.inference.inversion import invert, l2_loss
from scogan.utils.config import Config
from scogan.utils.run_dir import RunLock, write_status

TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--log_every", "2",
        "--checkpoint_every", "2", "--images_while_training", "0", "--data_source", "bundled"]
TILE = 34  # a 32x32 image and its 2-pixel pad in utils.images.pair_grid


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny trained runs by gan type: cogan, gan (one domain), scogan (feature regulariser).

    The CoGAN trains for 100 iterations (about 10 s): after a few its generators still draw
    nearly the same image for every z, and inverting them would prove nothing."""
    root = tmp_path_factory.mktemp("runs")
    options = {
        "cogan": ["--iterations", "100", "--checkpoint_every", "50"],
        "gan": ["--gan_type", "gan", "--iterations", "2"],
        "scogan": ["--gan_type", "scogan", "--gen_penalty", "feature", "--loss", "ce", "--penalty", "none",
                   "--disc_iters", "1", "--iterations", "2"],
    }
    for name, extra in options.items():
        assert main.main([*TINY, *extra, "--dir", str(root / name)]) == 0
    return {name: root / name for name in options}


def read_png(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return image[..., None] if image.ndim == 2 else image


def fails_with(capsys, argv, *needles) -> str:
    """Run main with ``argv``: exit 2 and one ``error:`` line (no traceback) holding ``needles``."""
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- sample ----------------------------------------------------------------------------------------

def test_sample_writes_png_files_per_domain_and_one_npz(runs, tmp_path):
    out = tmp_path / "samples"
    assert main.main(["--mode", "sample", "--dir", str(runs["cogan"]), "--num", "5", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "mnist").iterdir()) == [f"{j:06d}.png" for j in range(5)]
    assert len(list((out / "edge").glob("*.png"))) == 5
    saved = np.load(out / "samples.npz")
    assert list(saved["domains"]) == ["mnist", "edge"]
    assert saved["z"].shape == (5, 100) and saved["z"].dtype == np.float32
    assert np.abs(saved["z"]).max() <= 1.0  # uniform z, as the run drew it
    for domain in ("mnist", "edge"):
        images = saved[domain]
        assert images.shape == (5, 32, 32, 1) and images.dtype == np.uint8
        assert images.max() > images.min()  # not a constant picture
        np.testing.assert_array_equal(read_png(out / domain / "000003.png"), images[3])
    # seeded: the same seed gives the same tuples, another seed others
    again, other = tmp_path / "again", tmp_path / "other"
    assert main.main(["--mode", "sample", "--dir", str(runs["cogan"]), "--num", "5", "--out", str(again)]) == 0
    assert main.main(["--mode", "sample", "--dir", str(runs["cogan"]), "--num", "5", "--seed", "1",
                      "--out", str(other)]) == 0
    np.testing.assert_array_equal(np.load(again / "samples.npz")["edge"], saved["edge"])
    assert not np.array_equal(np.load(other / "samples.npz")["z"], saved["z"])


@pytest.mark.parametrize("gan_type,domains", [("gan", ["mnist"]), ("scogan", ["mnist", "edge"])])
def test_sample_from_gan_and_scogan_runs(runs, tmp_path, gan_type, domains):
    out = tmp_path / "samples"
    assert main.main(["--mode", "sample", "--dir", str(runs[gan_type]), "--num", "3", "--out", str(out)]) == 0
    saved = np.load(out / "samples.npz")
    assert list(saved["domains"]) == domains
    for domain in domains:
        assert saved[domain].shape == (3, 32, 32, 1) and len(list((out / domain).glob("*.png"))) == 3


# -- interpolate -----------------------------------------------------------------------------------

def test_latent_walk_grid_gif_and_npz(runs, tmp_path):
    out = tmp_path / "walks"
    assert main.main(["--mode", "interpolate", "--dir", str(runs["cogan"]), "--walks", "3", "--walk_steps", "5",
                      "--out", str(out)]) == 0
    saved = np.load(out / "latent_walk.npz")
    z = saved["z"]
    assert z.shape == (3, 5, 100)
    np.testing.assert_allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)  # linear: the midpoint
    assert saved["mnist"].shape == saved["edge"].shape == (3, 5, 32, 32, 1)
    assert saved["edge"].dtype == np.uint8
    grid = read_png(out / "latent_walk.png")
    # 3 rows of 5 tiles per domain, the two domains side by side with an 8-pixel gap
    assert grid.shape == (3 * TILE + 2, 2 * (5 * TILE + 2) + 8, 1)
    np.testing.assert_array_equal(grid[2:34, 2 + 4 * TILE:34 + 4 * TILE], saved["mnist"][0, 4])
    np.testing.assert_array_equal(grid[2 + TILE:34 + TILE, 5 * TILE + 12:5 * TILE + 44], saved["edge"][1, 0])
    gif = Image.open(out / "latent_walk.gif")
    assert gif.n_frames == 2 * (5 - 1)  # there and back
    scale = 2  # 32-pixel images enlarged to tiles of at least 64
    assert gif.size == ((2 * (TILE + 2) + 8) * scale, (3 * TILE + 2) * scale)
    gif.seek(4)  # the far end of the walks
    frame = np.asarray(gif.convert("L"))[::scale, ::scale]
    np.testing.assert_array_equal(frame[2:34, 2:34], saved["mnist"][0, 4, ..., 0])


def test_lerp_and_slerp():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 100)), rng.normal(size=(4, 100))
    t = np.linspace(0, 1, 7)
    for interpolate in (lerp, slerp):
        path = interpolate(a, b, t)
        assert path.shape == (4, 7, 100)
        np.testing.assert_allclose(path[:, 0], a, atol=1e-5)
        np.testing.assert_allclose(path[:, -1], b, atol=1e-5)
    # equal-norm ends: slerp keeps the norm all along, the linear midpoint falls inside
    b = b / np.linalg.norm(b, axis=1, keepdims=True) * np.linalg.norm(a, axis=1, keepdims=True)
    norms = np.linalg.norm(slerp(a, b, t), axis=2)
    np.testing.assert_allclose(norms, np.repeat(np.linalg.norm(a, axis=1)[:, None], 7, 1), rtol=1e-5)
    assert (np.linalg.norm(lerp(a, b, t)[:, 3], axis=1) < 0.85 * np.linalg.norm(a, axis=1)).all()  # about 0.71: near-orthogonal ends
    np.testing.assert_allclose(slerp(a, a, t)[:, 3], a, atol=1e-5)  # parallel ends: no division by zero


def test_slerp_is_refused_for_uniform_z(runs, tmp_path, capsys):
    fails_with(capsys, ["--mode", "interpolate", "--dir", str(runs["cogan"]), "--interpolation", "slerp",
                        "--out", str(tmp_path / "walks")], "slerp is for runs with normal z")


# -- translate -------------------------------------------------------------------------------------

def test_inversion_recovers_a_generated_image(runs):
    """x1 = G1(z*) for 8 random z* of the tiny CoGAN run; L-BFGS-B from 2 starts (300 iterations)
    finds z with G1(z) = x1 to a mean squared error (images in [-1, 1]) below 1e-6 per image, an
    RMS error of 1e-3, an eighth of one 8-bit grey level.

    Measured here: mean 1.6e-14, max 2.6e-14 over the 8 images (float32 round-off: the search
    lands on a z that generates x1 exactly, not necessarily z*; the edge images G2(z) of the
    found z are as close to G2(z*), 2.0e-14), so the bound leaves eight orders of magnitude for
    other CPUs and TensorFlow builds. The starts score 0.034 (at least 0.02 each): the search,
    not the start, does the work.
    """
    from scogan.inference import load_trained_run

    run = load_trained_run(Config(dir=str(runs["cogan"])), set(), "translate")
    z_true = run.noise(8, seed=123)
    x1, x2 = run.generate(z_true)
    starts = run.noise(16, seed=7).reshape(2, 8, -1)
    found = invert(run.domain_generator(0), x1, starts, l2_loss, steps=300, bounds=run.latent_bounds)
    g1, g2 = run.generate(found.z)
    mse = np.mean((g1 - x1) ** 2, axis=(1, 2, 3))
    start_mse = np.mean((run.generate(starts[0])[0] - x1) ** 2, axis=(1, 2, 3))
    print(f"inversion MSE mean {mse.mean():.2e} max {mse.max():.2e}; from the starts {start_mse.mean():.3f}; "
          f"G2 {np.mean((g2 - x2) ** 2):.2e}")
    assert mse.max() < 1e-6
    assert start_mse.min() > 0.01
    assert np.abs(found.z).max() <= 1.0  # kept in the uniform latent box
    np.testing.assert_allclose(found.loss, mse, rtol=1e-3, atol=1e-7)


def test_adam_inversion_lowers_the_error(runs):
    from scogan.inference import load_trained_run

    run = load_trained_run(Config(dir=str(runs["cogan"])), set(), "translate")
    x1 = run.generate(run.noise(4, seed=5))[0]
    starts = run.noise(4, seed=6)[None]
    before = np.mean((run.generate(starts[0])[0] - x1) ** 2, axis=(1, 2, 3))
    found = invert(run.domain_generator(0), x1, starts, l2_loss, optimizer="adam", steps=100,
                   bounds=(-1.0, 1.0), learning_rate=0.1)
    assert (found.loss < 0.5 * before).all() and np.abs(found.z).max() <= 1.0


def _write_inputs(folder):
    """Three PNG files (a 32x32 gray digit, a 28x28 gray digit, a 32x32 RGB digit) and an .npz of two."""
    from scogan.data import DataOptions, load_task

    digits = load_task("mnist2edge", DataOptions(source="bundled")).domains[0].images[:5]
    folder.mkdir()
    paths = [folder / "gray.png", folder / "small.png", folder / "rgb.png", folder / "more.npz"]
    cv2.imwrite(str(paths[0]), digits[0])
    cv2.imwrite(str(paths[1]), cv2.resize(digits[1], (28, 28), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(paths[2]), np.repeat(digits[2], 3, axis=-1))
    np.savez(paths[3], images=digits[3:5, ..., 0])  # (N, H, W) gray
    return [str(p) for p in paths]


def test_translate_writes_strips_images_and_errors(runs, tmp_path, capsys):
    inputs = _write_inputs(tmp_path / "in")
    out = tmp_path / "translated"
    assert main.main(["--mode", "translate", "--dir", str(runs["cogan"]), "--inputs", *inputs,
                      "--translate_steps", "30", "--restarts", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "1 inputs of 28x28 centre-cropped to a square and resized to 32x32" in captured.err
    assert "1 RGB inputs converted to grayscale" in captured.err
    assert "5 images of mnist translated" in captured.out
    for folder in ("inputs", "reconstructions", "edge"):
        assert len(list((out / folder).glob("*.png"))) == 5
    saved = np.load(out / "translation.npz")
    assert saved["z"].shape == (5, 100) and np.abs(saved["z"]).max() <= 1.0
    assert saved["inputs"].shape == saved["reconstructions"].shape == saved["edge"].shape == (5, 32, 32, 1)
    assert int(saved["from_domain"]) == 1
    strip = read_png(out / "translation.png")
    assert strip.shape == (3 * TILE + 2 * 6 + 2, 5 * TILE + 2, 1)  # input, reconstruction, edge rows
    with open(out / "errors.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["input"] for r in rows] == [*inputs[:3], f"{inputs[3]}[images][0]", f"{inputs[3]}[images][1]"]
    assert all(0 <= float(r["mse"]) <= 4 and r["restart"] in ("0", "1") for r in rows)
    recon = saved["reconstructions"].astype(np.float32) / 127.5 - 1
    real = saved["inputs"].astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose([float(r["mse"]) for r in rows], np.mean((recon - real) ** 2, axis=(1, 2, 3)),
                               atol=2e-3)  # the PNGs are rounded to 8 bits


def test_translate_from_the_second_domain(runs, tmp_path):
    samples = tmp_path / "samples"
    assert main.main(["--mode", "sample", "--dir", str(runs["cogan"]), "--num", "3", "--out", str(samples)]) == 0
    out = tmp_path / "translated"
    # samples.npz holds mnist, edge and z: the input domain's name picks the images
    assert main.main(["--mode", "translate", "--dir", str(runs["cogan"]), "--inputs", str(samples / "samples.npz"),
                      "--from_domain", "2", "--translate_steps", "20", "--restarts", "1", "--out", str(out)]) == 0
    saved = np.load(out / "translation.npz")
    np.testing.assert_array_equal(saved["inputs"], np.load(samples / "samples.npz")["edge"])
    assert saved["mnist"].shape == (3, 32, 32, 1) and "edge" not in saved.files


def test_translate_with_lpips(runs, tmp_path):
    from scogan.metrics.lpips_weights import LPIPSWeightsUnavailable

    try:
        from scogan.metrics.lpips import LPIPS

        LPIPS("alex")
    except LPIPSWeightsUnavailable:
        pytest.skip("LPIPS weights unavailable offline")
    inputs = _write_inputs(tmp_path / "in")[:1]
    out = tmp_path / "translated"
    assert main.main(["--mode", "translate", "--dir", str(runs["cogan"]), "--inputs", *inputs,
                      "--translate_loss", "lpips", "--translate_steps", "10", "--restarts", "1",
                      "--out", str(out)]) == 0
    with open(out / "errors.csv") as handle:
        row = next(csv.DictReader(handle))
    assert float(row["lpips"]) >= 0 and float(row["loss"]) == pytest.approx(float(row["lpips"]) + float(row["mse"]),
                                                                           rel=1e-3, abs=1e-5)


# -- refusals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,needle", [
    ("garbage", "not a JPEG, PNG, BMP or GIF file"),
    ("truncated", "truncated PNG"),
    ("five_channels", "images with 5 channels cannot be made grayscale"),
    ("float_npz", "images must be uint8"),
    ("npz_keys", "holds a, b; name the images 'mnist'"),
    ("missing", "no such file"),
    ("folder", "is a folder"),
])
def test_bad_inputs_are_named(runs, tmp_path, capsys, kind, needle):
    path = tmp_path / {"garbage": "bad.png", "truncated": "cut.png", "five_channels": "five.npz",
                       "float_npz": "float.npz", "npz_keys": "keys.npz", "missing": "gone.png",
                       "folder": "folder"}[kind]
    if kind == "garbage":
        path.write_bytes(b"this is not an image at all")
    elif kind == "truncated":
        ok, encoded = cv2.imencode(".png", np.full((32, 32), 128, np.uint8))
        path.write_bytes(encoded.tobytes()[:-20])
    elif kind == "five_channels":
        np.savez(path, images=np.zeros((2, 32, 32, 5), np.uint8))
    elif kind == "float_npz":
        np.savez(path, images=np.zeros((2, 32, 32, 1), np.float32))
    elif kind == "npz_keys":
        np.savez(path, a=np.zeros((2, 32, 32), np.uint8), b=np.zeros((2, 32, 32), np.uint8))
    elif kind == "folder":
        path.mkdir()
    line = fails_with(capsys, ["--mode", "translate", "--dir", str(runs["cogan"]), "--inputs", str(path),
                               "--out", str(tmp_path / "out")], needle)
    assert str(path) in line
    assert not (tmp_path / "out").exists()


def test_runs_without_usable_generators_are_refused(runs, tmp_path, capsys):
    classifier = tmp_path / "classifier"
    assert main.main([*TINY, "--gan_type", "classifier", "--iterations", "2", "--dir", str(classifier)]) == 0
    capsys.readouterr()
    for mode in ("sample", "interpolate", "translate"):
        inputs = ["--inputs", "x.png"] if mode == "translate" else []  # --inputs is refused elsewhere
        fails_with(capsys, ["--mode", mode, "--dir", str(classifier), *inputs, "--out", str(tmp_path / "o")],
                   "classifier run: it has no generators")
    diverged = tmp_path / "diverged"
    shutil.copytree(runs["cogan"], diverged)
    write_status(diverged, "diverged", 3, "training diverged at step 3: d_loss/1 is nan")
    fails_with(capsys, ["--mode", "sample", "--dir", str(diverged), "--out", str(tmp_path / "o")],
               "diverged in training", "d_loss/1 is nan")
    fails_with(capsys, ["--mode", "sample", "--dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")],
               "not a run directory")
    fails_with(capsys, ["--mode", "translate", "--dir", str(runs["gan"]), "--inputs", "x.png",
                        "--out", str(tmp_path / "o")], "needs a run of two or more domains")
    fails_with(capsys, ["--mode", "translate", "--dir", str(runs["cogan"]), "--inputs", "x.png", "--from_domain", "3",
                        "--out", str(tmp_path / "o")], "--from_domain 3: this run's domains are 1..2 (mnist, edge)")
    assert not (tmp_path / "o").exists()


def test_a_run_in_use_is_refused(runs, tmp_path, capsys):
    with RunLock(runs["cogan"]):
        fails_with(capsys, ["--mode", "sample", "--dir", str(runs["cogan"]), "--out", str(tmp_path / "o")],
                   "is in use by process")


@pytest.mark.parametrize("argv,needle", [
    (["--mode", "sample", "--out", "OUT"], "--mode sample needs --dir RUN"),
    (["--mode", "interpolate", "--dir", "RUN"], "--mode interpolate needs --out DIR"),
    (["--mode", "translate", "--dir", "RUN", "--out", "OUT"], "--mode translate needs --inputs"),
    (["--mode", "sample", "--dir", "RUN", "--out", "FULL"], "already exists and is not empty"),
    (["--mode", "sample", "--dir", "RUN", "--out", "FILE"], "is a file, not a folder"),
    (["--mode", "sample", "--dir", "RUN", "--out", "READONLY"], "cannot be written: /proc/1 is not writable"),
    (["--mode", "sample", "--dir", "RUN", "--out", "OUT", "--num", "0"], "--num must be at least 1"),
    (["--mode", "interpolate", "--dir", "RUN", "--out", "OUT", "--walk_steps", "0"], "--walk_steps must be at least 1"),
    (["--mode", "translate", "--dir", "RUN", "--out", "OUT", "--inputs", "x.png", "--restarts", "0"],
     "--restarts must be at least 1"),
])
def test_missing_or_bad_options_are_explained(runs, tmp_path, capsys, argv, needle):
    (tmp_path / "FULL").mkdir()
    (tmp_path / "FULL" / "keep.txt").write_text("precious")
    (tmp_path / "FILE").write_text("")
    places = {"RUN": str(runs["cogan"]), "OUT": str(tmp_path / "OUT"), "FULL": str(tmp_path / "FULL"),
              "FILE": str(tmp_path / "FILE" / "sub"),
              "READONLY": "/proc/1/samples/out"}  # not writable even by root
    fails_with(capsys, [places.get(a, a) for a in argv], needle)
    assert (tmp_path / "FULL" / "keep.txt").read_text() == "precious" and not (tmp_path / "OUT").exists()


def test_generated_images_that_are_not_finite_are_refused(runs, tmp_path, capsys, monkeypatch):
    from scogan.trainers.gan import GANTrainer

    def broken(self, z):
        return [tf.fill([tf.shape(z)[0], 32, 32, 1], float("nan"))] * 2
    monkeypatch.setattr(GANTrainer, "generate", broken)
    fails_with(capsys, ["--mode", "sample", "--dir", str(runs["cogan"]), "--num", "2", "--out", str(tmp_path / "o")],
               "output NaN/Inf", "nothing written")
    assert not (tmp_path / "o").exists()


def test_the_run_is_left_as_it_was(runs, tmp_path):
    """Reading a run writes nothing into it but its lock file."""
    before = {p.relative_to(runs["cogan"]): p.stat().st_mtime_ns for p in runs["cogan"].rglob("*")}
    assert main.main(["--mode", "sample", "--dir", str(runs["cogan"]), "--num", "1", "--out", str(tmp_path / "o")]) == 0
    after = {p.relative_to(runs["cogan"]): p.stat().st_mtime_ns for p in runs["cogan"].rglob("*")}
    assert {k: v for k, v in after.items() if k.name != ".lock"} == {k: v for k, v in before.items()
                                                                      if k.name != ".lock"}
    assert json.loads((runs["cogan"] / "status.json").read_text())["state"] == "finished"
