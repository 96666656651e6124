"""``--mode sample``: N generated tuples of corresponding images, as PNG files and one .npz."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scogan.inference.run import TrainedRun, check_positive, domain_keys
from scogan.utils.images import save_image, to_uint8

SAMPLES_FILE = "samples.npz"


@dataclass(frozen=True)
class SampleResult:
    out: Path
    num: int
    folders: tuple[Path, ...]


def write_samples(run: TrainedRun, out: Path, num: int, seed: int) -> SampleResult:
    """Draw ``num`` latent vectors from ``seed`` (as training draws them) and write, for tuple j:

        OUT/<domain>/{j:06d}.png   one image per domain, all from the same z_j
        OUT/samples.npz            <domain>: uint8 (num, H, W, C) per domain (keys as the
                                   folders), z: float32 (num, noise_dim), domains: the names

    The same run, ``num`` and ``seed`` give the same files.
    """
    check_positive([("num", num)])
    z = run.noise(num, seed)
    images = [to_uint8(x) for x in run.generate(z)]
    keys = domain_keys(run.domain_names)
    folders = tuple(out / key for key in keys)
    for folder, domain in zip(folders, images):
        folder.mkdir(parents=True, exist_ok=True)
        for j, image in enumerate(domain):
            save_image(image, folder / f"{j:06d}.png")
    arrays = {key if key not in ("z", "domains") else f"{key}_images": x for key, x in zip(keys, images)}
    np.savez_compressed(out / SAMPLES_FILE, z=z.astype(np.float32), domains=np.array(run.domain_names), **arrays)
    return SampleResult(out=out, num=num, folders=folders)
