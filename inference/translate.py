"""``--mode translate``: cross-domain transformation by generator inversion (CoGAN paper, Sec. 5).

For each real image x of domain ``from_domain`` find z = argmin_z L(G_from(z), x)
(``inference.inversion``), then render G_d(z) for every other domain d. The paper notes the
transformation works when x is covered by G_from (some z generates it) and gives blurry
images otherwise; the reconstruction error in ``errors.csv`` tells which case an input is.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scogan.inference.errors import InferenceError
from scogan.inference.inputs import load_inputs
from scogan.inference.inversion import invert, make_loss
from scogan.inference.run import TrainedRun, check_positive, domain_keys
from scogan.utils.images import pair_grid, save_image, to_uint8
from scogan.utils.log import LOGGER

STRIP_FILE, ERRORS_FILE, TRANSLATION_FILE = "translation.png", "errors.csv", "translation.npz"
STRIP_COLUMNS = 16  # images per strip; more inputs make more strips, one below the other
STRIP_GAP = 12  # white pixels between strips
RESERVED = ("inputs", "reconstructions", "z", "domains", "from_domain")  # other folders and .npz keys


@dataclass(frozen=True)
class TranslationResult:
    out: Path
    count: int
    mse: np.ndarray  # (N,) reconstruction mean squared error, images in [-1, 1]
    notes: tuple[str, ...]
    seconds: float


def strips(rows: list[np.ndarray], columns: int = STRIP_COLUMNS) -> np.ndarray:
    """uint8 image: blocks of ``columns`` images, one below the other; in each block one row per
    entry of ``rows`` (input, reconstruction, each translation), image j of every row alike.

    ``rows``: arrays (N, H, W, C) float in [-1, 1]; a short last block is padded with white.
    """
    n = len(rows[0])
    columns = min(columns, n)
    blocks = []
    for begin in range(0, n, columns):
        chunk = [r[begin:begin + columns] for r in rows]
        short = columns - len(chunk[0])
        if short:
            chunk = [np.concatenate([c, np.ones((short, *c.shape[1:]), c.dtype)]) for c in chunk]
        blocks.append(pair_grid(chunk, columns))
    gap = np.full((STRIP_GAP, blocks[0].shape[1], blocks[0].shape[2]), 255, np.uint8)
    parts = [blocks[0]]
    for block in blocks[1:]:
        parts += [gap, block]
    return np.concatenate(parts, axis=0)


def write_translations(run: TrainedRun, out: Path, inputs: list[str] | None, from_domain: int, loss: str,
                       optimizer: str, steps: int, restarts: int, learning_rate: float, seed: int) -> TranslationResult:
    """Translate every image of ``inputs`` from domain ``from_domain`` (1-based) to the others. Writes

        OUT/translation.png   strips of 16: the inputs, their reconstructions G_from(z), then
                              G_d(z) for each other domain d, one row each
        OUT/inputs/, OUT/reconstructions/, OUT/<domain>/   {i:06d}.png per input i
        OUT/errors.csv        per input: its source, the start kept, the reconstruction MSE (and
                              LPIPS with --translate_loss lpips), the loss minimised
        OUT/translation.npz   inputs, reconstructions, <domain> (uint8 NHWC), z (N, noise_dim)

    Starts are drawn from ``seed`` as training draws z (``restarts`` per image).
    """
    check_positive([("translate_steps", steps), ("restarts", restarts)])
    if run.num_domains < 2:
        raise InferenceError(f"--mode translate needs a run of two or more domains; {run.path} is a "
                             f"--gan_type {run.config.gan_type} run of one ({run.domain_names[0]})")
    if not 1 <= from_domain <= run.num_domains:
        raise InferenceError(f"--from_domain {from_domain}: this run's domains are 1..{run.num_domains} "
                             f"({', '.join(run.domain_names)})")
    if learning_rate <= 0:
        raise InferenceError(f"--translate_lr must be positive, got {learning_rate}")
    source = from_domain - 1
    loaded = load_inputs(inputs, run.image_shape, run.domain_names[source])
    for note in loaded.notes:  # inputs changed to fit the run: on stderr, even with --quiet
        LOGGER.warning("%s", note, extra={"prefix": "note: "})
    loss_fn = make_loss(loss, run.image_shape)
    targets = loaded.images.astype(np.float32) / 127.5 - 1.0
    n = len(targets)
    starts = run.noise(restarts * n, seed).reshape(restarts, n, -1)
    began = time.time()

    def progress(done: int, total: int) -> None:
        if total > 64:
            LOGGER.info("  inverted %d of %d (image, start) problems, %.0f s", done, total, time.time() - began)

    found = invert(run.domain_generator(source), targets, starts, loss_fn, optimizer=optimizer, steps=steps,
                   bounds=run.latent_bounds, learning_rate=learning_rate, progress=progress)
    seconds = time.time() - began
    images = run.generate(found.z)
    mse = np.mean((images[source] - targets) ** 2, axis=(1, 2, 3))
    lpips = None
    if loss == "lpips":
        lpips = found.loss - mse  # the lpips loss is LPIPS + MSE
    others = [d for d in range(run.num_domains) if d != source]
    keys = domain_keys(run.domain_names)
    out.mkdir(parents=True, exist_ok=True)
    save_image(strips([targets, images[source], *(images[d] for d in others)]), out / STRIP_FILE)
    folders = {"inputs": loaded.images, "reconstructions": to_uint8(images[source])}
    # A domain named like one of the other outputs gets a suffix.
    folders.update({(keys[d] if keys[d] not in RESERVED else f"{keys[d]}_images"): to_uint8(images[d])
                    for d in others})
    for name, batch in folders.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(batch):
            save_image(image, out / name / f"{i:06d}.png")
    np.savez_compressed(out / TRANSLATION_FILE, z=found.z, domains=np.array(run.domain_names),
                        from_domain=np.int64(from_domain), **folders)
    _write_errors(out / ERRORS_FILE, loaded.names, found.restart, mse, lpips, found.loss)
    return TranslationResult(out=out, count=n, mse=mse, notes=loaded.notes, seconds=seconds)


def _write_errors(path: Path, names, restart, mse, lpips, loss) -> None:
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["image", "input", "restart", "mse", *(["lpips"] if lpips is not None else []), "loss"])
        for i, name in enumerate(names):
            extra = [f"{lpips[i]:.6g}"] if lpips is not None else []
            out.writerow([i, name, int(restart[i]), f"{mse[i]:.6g}", *extra, f"{loss[i]:.6g}"])
