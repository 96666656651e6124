"""Data loading refuses wrong inputs with clear errors and records what it read: explicit data
folders that lack the task's files, the sources of every task, data fingerprints, image files
damaged inside their compressed data, and image sizes no net can take."""

import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from scogan import data
from scogan.data import (
    DataError,
    DataFormatError,
    DataNotFoundError,
    DataOptions,
    image_files,
    load_task,
    sources,
)
from scogan.data.image_files import find_undecodable, image_problem
from scogan.data.mnist import RAW_FILES
from scogan.data.pipeline import domain_batches
from scogan.utils.config import ConfigurationError
from tests.test_datasets import _fake_celeba, _fake_cyclegan, write_image, write_mnist

MNIST_FILES = [f for split in RAW_FILES.values() for f in split]
# An explicit data folder never falls back to a download: no test here may probe the network.
pytestmark = pytest.mark.usefixtures("no_network")


def damaged_jpeg(path: Path, size=(40, 48)) -> Path:
    """A JPEG with a valid header and end-of-image marker whose entropy-coded data is replaced by
    random bytes: it passes the signature check, and TensorFlow's decoder fails on it."""
    write_image(path, size=size)
    jpeg = path.read_bytes()
    body = jpeg.index(b"\xff\xda") + 20  # 20 bytes into the start-of-scan segment
    garbage = np.random.default_rng(0).integers(0, 256, len(jpeg) - body - 2, dtype=np.uint8).tobytes()
    path.write_bytes(jpeg[:body] + garbage + jpeg[-2:])
    return path


# -- 1. an explicit data folder must hold the task's files ---------------------------------------

def test_empty_data_dir_is_an_error_listing_every_file(tmp_path, no_tfds):
    with pytest.raises(DataNotFoundError) as caught:
        load_task("mnist2edge", DataOptions(str(tmp_path)))
    message = str(caught.value)
    assert all(str(tmp_path / f) in message for f in MNIST_FILES)
    assert "--data_source tfds" in message and "--data_source bundled" in message


def test_data_dir_that_is_a_file_or_does_not_exist(tmp_path, no_tfds):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DataNotFoundError, match=r"data folder .*file \(--data_dir / \$COGAN_DATA_DIR\) is a file"):
        load_task("mnist2edge", DataOptions(str(tmp_path / "file")))
    with pytest.raises(DataNotFoundError, match=r"data folder .*nowhere .*does not exist; looked for: .*train-images"
                                                r".*; pass --data_source tfds to download into it"):
        load_task("mnist2edge", DataOptions(str(tmp_path / "nowhere")))
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_task("mnist2usps", DataOptions(str(tmp_path / "nowhere")))
    with pytest.raises(DataNotFoundError, match="is a file"):  # an explicit source too
        load_task("mnist2edge", DataOptions(str(tmp_path / "file"), "raw"))


def test_one_missing_idx_file_is_named_before_anything_is_read(tmp_path, no_tfds, monkeypatch):
    missing = "mnist/t10k-labels-idx1-ubyte.gz"
    write_mnist(tmp_path, leave_out=(missing,))
    monkeypatch.setattr("scogan.data.mnist.read_idx", lambda path: pytest.fail(f"read {path}"))
    with pytest.raises(DataNotFoundError, match=r"missing: \S+/mnist/t10k-labels-idx1-ubyte.gz\)") as caught:
        load_task("mnist2edge", DataOptions(str(tmp_path)))
    assert "train-images" not in str(caught.value)  # only what is missing


def test_no_data_dir_uses_the_bundled_subset(no_tfds):
    with pytest.warns(UserWarning, match="bundled with the code"):
        task = load_task("mnist2edge", DataOptions())
    assert [len(d) for d in task.domains] == [3000, 3000] and task.sources == {"mnist": "bundled"}
    explicit = load_task("mnist2edge", DataOptions("/nonexistent", "bundled"))  # data_dir unused
    assert explicit.sources == {"mnist": "bundled"}


def test_explicit_data_dir_with_raw_files_or_prepared_tfds(tmp_path, monkeypatch):
    write_mnist(tmp_path)
    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: False)
    task = load_task("mnist2negative", DataOptions(str(tmp_path)))
    assert [len(d) for d in task.domains] == [10, 10] and task.sources == {"mnist": "raw"}
    import tensorflow_datasets as tfds

    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: data_dir == str(tmp_path))
    with tfds.testing.mock_data(num_examples=8):
        task = load_task("mnist2negative", DataOptions(str(tmp_path)))
    assert task.sources == {"mnist": "tfds"}


def test_explicit_tfds_source_may_download_into_a_new_folder(tmp_path, no_tfds, monkeypatch):
    monkeypatch.setattr(sources, "network_reachable", lambda *a, **k: True)
    options = DataOptions(str(tmp_path / "new"), "tfds")
    assert sources.resolve_source("mnist", MNIST_FILES, options, bundled=True) == "tfds-download"


def test_every_data_problem_is_a_data_error(tmp_path):
    assert issubclass(DataNotFoundError, DataError) and issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(DataFormatError, DataError) and issubclass(DataFormatError, ValueError)
    assert "DataError" in data.__all__ and data.DataError is sources.DataError
    write_mnist(tmp_path)
    (tmp_path / RAW_FILES["train"][0]).write_bytes(b"not gzip")
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte.gz: cannot be read"):
        load_task("mnist2edge", DataOptions(str(tmp_path), "raw"))
    _fake_celeba(tmp_path)
    attributes = tmp_path / "celeba" / "list_attr_celeba.txt"
    attributes.write_text(attributes.read_text().replace(" -1", " 0", 1))
    with pytest.raises(DataFormatError, match=r"list_attr_celeba.txt: every row needs .*values 1 or -1"):
        load_task("celeba", DataOptions(str(tmp_path), "raw", image_size=32))
    (tmp_path / "usps").mkdir()
    (tmp_path / "usps" / "usps.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataFormatError, match=r"usps.h5: not a USPS file"):
        load_task("mnist2usps", DataOptions(str(tmp_path), "raw"))


# -- 3. which source was used; what the data was ------------------------------------------------

def test_every_task_records_its_sources(tmp_path, no_tfds):
    import h5py

    write_mnist(tmp_path)
    with h5py.File(tmp_path / "usps.h5", "w") as handle:
        for split in ("train", "test"):
            handle[f"{split}/data"] = np.random.default_rng(0).random((12, 256))
            handle[f"{split}/target"] = np.arange(12) % 10
    (tmp_path / "usps").mkdir()
    shutil.move(tmp_path / "usps.h5", tmp_path / "usps" / "usps.h5")
    assert load_task("mnist2usps", DataOptions(str(tmp_path))).sources == {"mnist": "raw", "usps": "raw"}
    _fake_celeba(tmp_path)
    with pytest.warns(UserWarning, match="empty file"):
        celeba = load_task("celeba", DataOptions(str(tmp_path), image_size=16))
    assert celeba.sources == {"celeba": "raw"}
    assert celeba.select(1).sources == {"celeba": "raw"}  # a plain GAN's task keeps them
    _fake_cyclegan(tmp_path, "apple2orange", count=2)
    with pytest.warns(UserWarning, match="official"):
        assert load_task("apple2orange", DataOptions(str(tmp_path), image_size=16)).sources == {"apple2orange": "raw"}
    folders = (str(tmp_path / "apple2orange" / "trainA"), str(tmp_path / "apple2orange" / "trainB"))
    assert load_task("folders", DataOptions(domain_dirs=folders, image_size=16)).sources == {"folders": "files"}
    photos = tmp_path / "apple2orange" / "testA"
    mnistm = load_task("mnist2mnistm", DataOptions(str(tmp_path), background_dir=str(photos)))
    assert mnistm.sources == {"mnist": "raw", "mnistm_photos": "files"}


def test_tfds_sources_are_recorded(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: True)
    with tfds.testing.mock_data(num_examples=6):
        assert load_task("celeba", DataOptions(source="tfds", image_size=16)).sources == {"celeba": "tfds"}
        assert load_task("horse2zebra", DataOptions(source="tfds", image_size=16)).sources == {"horse2zebra": "tfds"}


def test_fingerprint_is_stable_and_tells_the_bundled_subset_from_the_full_files(shared_datasets, no_tfds):
    bundled = load_task("mnist2edge", DataOptions(source="bundled"))
    again = load_task("mnist2edge", DataOptions(source="bundled"))
    assert bundled.fingerprint() == again.fingerprint()
    assert json.loads(json.dumps(bundled.fingerprint())) == bundled.fingerprint()
    full = load_task("mnist2edge", DataOptions(str(shared_datasets)))
    start = time.perf_counter()
    fingerprint = full.fingerprint()
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"fingerprint of full MNIST took {elapsed:.2f} s"
    assert fingerprint != bundled.fingerprint() and full.sources == {"mnist": "raw"}
    assert [d["images"] for d in fingerprint["domains"]] == [30000, 30000]
    assert [d["images"] for d in fingerprint["test_domains"]] == [10000, 10000]
    shas = [d["sha256"] for d in fingerprint["domains"] + fingerprint["test_domains"]]
    assert len(set(shas)) == 4  # each domain's own images


def test_fingerprint_sees_changed_images_labels_and_files(tmp_path, edge_task):
    base = edge_task.fingerprint()
    images = edge_task.domains[0].images.copy()
    images[0, 0, 0, 0] ^= 1
    changed = data.Task(edge_task.name, (data.Domain("mnist", (32, 32, 1), images=images,
                                                     labels=edge_task.domains[0].labels),
                                         edge_task.domains[1]), test_domains=edge_task.test_domains,
                        num_classes=10, sources=edge_task.sources)
    assert changed.fingerprint()["domains"][0]["sha256"] != base["domains"][0]["sha256"]
    assert changed.fingerprint()["domains"][1] == base["domains"][1]
    relabelled = edge_task.domains[0].take(np.arange(len(edge_task.domains[0])))
    object.__setattr__(relabelled, "labels", (relabelled.labels + 1) % 10)
    assert relabelled.fingerprint()["sha256"] != base["domains"][0]["sha256"]
    # File-backed: sorted relative paths and sizes, so a moved copy is the same data.
    for name in ("a", "b"):
        for i in range(3):
            write_image(tmp_path / "one" / name / f"{i}.png")
    shutil.copytree(tmp_path / "one", tmp_path / "two")

    def folders(root):
        return load_task("folders", DataOptions(domain_dirs=(str(root / "a"), str(root / "b")), image_size=16))

    first = folders(tmp_path / "one").fingerprint()
    assert folders(tmp_path / "two").fingerprint() == first
    assert first["domains"][0]["storage"] == "files" and first["domains"][0]["images"] == 3
    write_image(tmp_path / "two" / "a" / "0.png", size=(30, 30))
    assert folders(tmp_path / "two").fingerprint()["domains"][0] != first["domains"][0]


# -- 4. image files damaged inside --------------------------------------------------------------

def test_damaged_jpeg_passes_the_signature_check_but_not_the_decoder(tmp_path):
    path = damaged_jpeg(tmp_path / "damaged.jpg")
    assert image_problem(str(path)) is None  # what the old check alone let through
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_image(path.read_bytes(), channels=0, expand_animations=False)
    good = write_image(tmp_path / "good.jpg")
    paths = [str(good), str(path), str(tmp_path / "gone.png")]
    assert find_undecodable(paths) == [str(path), str(tmp_path / "gone.png")]
    assert find_undecodable([]) == []


def test_damaged_jpeg_is_skipped_with_a_warning_naming_it(tmp_path):
    for i in range(3):
        write_image(tmp_path / "a" / f"{i}.jpg")
        write_image(tmp_path / "b" / f"{i}.jpg")
    damaged = damaged_jpeg(tmp_path / "a" / "damaged.jpg")
    (tmp_path / "a" / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipped 2 of 5 unusable image files \(.*damaged.jpg: cannot be "
                                         r"decoded \(.*Invalid JPEG data.*empty.jpg: empty file"):
        task = load_task("folders", DataOptions(domain_dirs=(str(tmp_path / "a"), str(tmp_path / "b")), image_size=16))
    assert str(damaged) not in task.domains[0].files and len(task.domains[0]) == 3
    assert task.undecodable_files() == []
    next(iter(domain_batches(task.domains[0], 3, seed=0)))  # the whole epoch decodes


def test_all_damaged_is_a_data_error_naming_the_file(tmp_path):
    first = damaged_jpeg(tmp_path / "a" / "first.jpg")
    damaged_jpeg(tmp_path / "a" / "second.jpg", size=(30, 30))
    write_image(tmp_path / "b" / "ok.jpg")
    with pytest.raises(DataError, match=rf"none of the 2 image files is usable; e.g. {first}: cannot be decoded"):
        load_task("folders", DataOptions(domain_dirs=(str(tmp_path / "a"), str(tmp_path / "b")), image_size=16))


def test_damaged_celeba_face_is_dropped_with_its_labels(tmp_path):
    _fake_celeba(tmp_path)
    damaged_jpeg(tmp_path / "celeba" / "img_align_celeba" / "000003.jpg", size=(178, 218))
    with pytest.warns(UserWarning, match=r"skipped 2 of 3 .*000001.jpg: empty file; .*000003.jpg: cannot be decoded"):
        task = load_task("celeba", DataOptions(str(tmp_path), "raw", image_size=16))
    assert [len(d) for d in task.domains] == [3, 1] and len(task.domains[1].labels) == 1  # both were smiling
    assert not any(f.endswith("000003.jpg") for d in task.domains for f in d.files)


def test_big_tasks_skip_the_decode_check_and_name_the_file_on_demand(tmp_path, monkeypatch):
    monkeypatch.setattr(image_files, "DECODE_CHECK_LIMIT", 3)  # as if the task held 50,001 files
    for name in ("a", "b"):
        for i in range(2):
            write_image(tmp_path / name / f"{i}.jpg")
    damaged = damaged_jpeg(tmp_path / "b" / "damaged.jpg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task = load_task("folders", DataOptions(domain_dirs=(str(tmp_path / "a"), str(tmp_path / "b")), image_size=16))
    assert str(damaged) in task.domains[1].files
    with pytest.raises(tf.errors.InvalidArgumentError):  # what training would meet, unnamed
        for _ in domain_batches(task.domains[1], 3, seed=0).take(1):
            pass
    assert task.undecodable_files() == [str(damaged)]
    assert load_task("mnist2edge", DataOptions(source="bundled")).undecodable_files() == []


def test_damaged_mnistm_photo_is_skipped(tmp_path):
    for i in range(3):
        write_image(tmp_path / "photos" / f"{i}.jpg", size=(40, 40))
    damaged = damaged_jpeg(tmp_path / "photos" / "damaged.jpg")
    with pytest.warns(UserWarning, match=r"skipped 1 of the 4 chosen photos .*damaged.jpg: cannot be decoded"):
        from scogan.data.mnistm import load_photos

        photos = load_photos(tmp_path / "photos", seed=0)
    assert len(photos) == 3
    for i in range(3):
        (tmp_path / "photos" / f"{i}.jpg").unlink()
    with pytest.raises(DataError, match=rf"none of the 1 chosen photos can be decoded; e.g. {damaged}"):
        load_photos(tmp_path / "photos", seed=0)


# -- 5. image sizes the nets cannot take --------------------------------------------------------

@pytest.mark.parametrize("task", ["celeba", "horse2zebra", "folders"])
def test_image_size_no_net_takes_is_an_error_before_any_data_is_read(task, tmp_path):
    # The data folder is empty: looking for data first would raise DataNotFoundError instead.
    options = DataOptions(str(tmp_path), image_size=33, domain_dirs=(str(tmp_path / "a"), str(tmp_path / "b")))
    with pytest.raises(ConfigurationError, match=r"--image_size 33: .*valid sizes \(up to 1024\): 8, 16, 32, "
                                                 r"64, 128, 256, 512, 1024; with --g_arch/--d_arch auto: 32, 64, 128, 256"):
        load_task(task, options)


def test_nets_know_their_image_sizes():
    from scogan.nets import check_image_size, valid_image_sizes

    assert valid_image_sizes("auto", "auto") == [32, 64, 128, 256]
    assert valid_image_sizes("resnet", "faces") == [16, 32, 64, 128, 256, 512, 1024]
    assert valid_image_sizes("digit", "digit", channels=1) == [32]
    check_image_size(64, "faces", "faces")
    with pytest.raises(ConfigurationError, match=r"--g_arch auto with --d_arch auto cannot take 16x16 .*: 32, 64, 128, 256$"):
        check_image_size(16, "auto", "auto")
    with pytest.raises(ConfigurationError, match="--g_arch resnet with --d_arch faces cannot take 8x8"):
        check_image_size(8, "resnet", "faces")


def test_digit_tasks_refuse_other_sizes_before_reading(tmp_path):
    for task in ("mnist2edge", "mnist2usps", "mnist2svhn", "mnist2mnistm"):
        with pytest.raises(ConfigurationError, match="32x32; --image_size 64 is not supported"):
            load_task(task, DataOptions(str(tmp_path / "nowhere"), image_size=64))


@pytest.mark.parametrize("cache,found", [("none", "reading training images failed at step 1"),
                                         ("memory", "decoding the images of a before training failed")])
def test_a_damaged_file_found_only_in_training_is_named(tmp_path, monkeypatch, capsys, cache, found):
    """Above the decode-check limit (here forced to 0) a file damaged inside is found when
    training decodes it (per batch, or all at once for the cache): the run stops with a
    message naming it, not TensorFlow's error."""
    from scogan import main

    monkeypatch.setattr(image_files, "DECODE_CHECK_LIMIT", 0)
    folders = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(8):
            write_image(folder / f"{i}.jpg", size=(40, 48))
        folders.append(str(folder))
    bad = damaged_jpeg(tmp_path / "a" / "3.jpg")
    code = main.main(["--cogan_data", "folders", "--domain_dirs", *folders, "--image_size", "32",
                      "--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "6",
                      "--images_while_training", "0", "--cache", cache, "--dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2, err[-1500:]
    assert found in err and str(bad) in err and "Traceback" not in err
