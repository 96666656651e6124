"""The thesis datasets beyond MNIST: tfds (mock data), real files in ../shared, and files
written here in the official formats (SVHN .mat, CycleGAN and CelebA JPEG layouts)."""

import csv
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from scogan.data import DataNotFoundError, DataOptions, load_task, sources, training_batches
from scogan.data.cyclegan import OFFICIAL_COUNTS, SPLITS, check_layout
from scogan.data.digit_tasks import disjoint_parts
from scogan.data.image_files import check_images, image_problem, to_channels
from scogan.data.mnistm import blend
from scogan.data.svhn import load_svhn, pruned_indices
from scogan.utils.config import ConfigurationError

# Tests never reach for the network: a probe would mean a 3.5-minute tfds retry loop.
pytestmark = pytest.mark.usefixtures("no_network")


@pytest.fixture
def mock_tfds(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: True)
    with tfds.testing.mock_data(num_examples=12):
        yield


def write_image(path: Path, size=(20, 24), mode="RGB", value=None, fmt=None) -> Path:
    rng = np.random.default_rng(len(str(path)))
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8) if value is None else \
        np.full((size[1], size[0], channels), value, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(path, format=fmt)
    return path


def write_mnist(root: Path, n_train: int = 20, n_test: int = 10, leave_out: tuple[str, ...] = ()) -> None:
    """Official-format (gzipped idx) MNIST files under ``root/mnist``, random digits, labels i % 10;
    the files named in ``leave_out`` (e.g. ``mnist/t10k-labels-idx1-ubyte.gz``) are not written."""
    import gzip

    from scogan.data.mnist import RAW_FILES

    rng = np.random.default_rng(n_train)
    for split, n in (("train", n_train), ("test", n_test)):
        images_file, labels_file = RAW_FILES[split]
        arrays = {images_file: (0x803, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                  labels_file: (0x801, (np.arange(n) % 10).astype(np.uint8))}
        for name, (magic, array) in arrays.items():
            if name in leave_out:
                continue
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
            with gzip.open(root / name, "wb") as handle:
                handle.write(header + array.tobytes())


def write_svhn(root: Path, n: int = 12) -> np.ndarray:
    """Official-format SVHN .mat files: X (32, 32, 3, N) uint8, y (N, 1) with 10 for digit 0; and,
    since a data folder must hold every file of its task, 20 + 10 MNIST digits (``write_mnist``)."""
    from scipy.io import savemat

    write_mnist(root)
    labels = np.arange(n) % 10 + 1  # 1..10
    images = np.zeros((32, 32, 3, n), np.uint8)
    images[..., ::2] = 255  # even images bright, odd ones black
    (root / "svhn").mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        savemat(root / "svhn" / f"{split}_32x32.mat", {"X": images, "y": labels[:, None]})
    return labels % 10


def assert_batches(task, size, channels, batch_size=4):
    batch = next(iter(training_batches(task.domains, batch_size, seed=0)))
    assert [tuple(x.shape) for x in batch] == [(1, batch_size, size, size, channels)] * task.num_domains
    for x in batch:
        values = x.numpy()
        assert values.dtype == np.float32 and -1.0 <= values.min() and values.max() <= 1.0


# -- SVHN and MNIST2SVHN ----------------------------------------------------------------------

def test_svhn_mat_files_in_the_official_format(tmp_path, no_tfds):
    expected = write_svhn(tmp_path)
    images, labels = load_svhn("train", DataOptions(str(tmp_path), "raw"))
    assert images.shape == (12, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, expected)
    assert labels[9] == 0 and images[0].min() == 255 and images[1].max() == 0
    task = load_task("mnist2svhn", DataOptions(str(tmp_path)))  # MNIST and SVHN raw
    assert task.image_shapes == [(32, 32, 3)] * 2 and task.num_classes == 10
    assert [len(d) for d in task.domains] == [20, 12] and len(task.test_domains[1]) == 12
    assert task.sources == {"mnist": "raw", "svhn": "raw"}
    mnist = task.domains[0].images
    np.testing.assert_array_equal(mnist[..., 0], mnist[..., 2])  # gray repeated to 3 channels
    assert_batches(task, 32, 3)


def test_mnist2svhn_from_tfds(mock_tfds):
    task = load_task("mnist2svhn", DataOptions(source="tfds"))
    assert [len(d) for d in task.domains] == [12, 12] and task.image_shapes == [(32, 32, 3)] * 2
    assert task.sources == {"mnist": "tfds", "svhn": "tfds"}
    assert task.domains[1].labels.max() <= 9
    assert_batches(task, 32, 3)


def _tiny_classifier(path: Path) -> Path:
    """Softmax over 10 classes; class 0's logit is 15 x the image mean: bright images are confident."""
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax")])
    kernel = np.zeros((3, 10), np.float32)
    kernel[:, 0] = 5.0
    model.layers[-1].set_weights([kernel, np.zeros(10, np.float32)])
    model.save(path)
    return path


def test_pruned_svhn_drops_unconfident_images_and_caches_the_result(tmp_path, no_tfds, monkeypatch):
    write_svhn(tmp_path)
    with pytest.raises(ConfigurationError, match="--classifier_path"):
        load_task("mnist2svhn_pruned", DataOptions(str(tmp_path)))
    classifier = _tiny_classifier(tmp_path / "classifier.keras")
    options = DataOptions(str(tmp_path), classifier_path=str(classifier))
    task = load_task("mnist2svhn_pruned", options)
    svhn = task.domains[1]
    assert len(svhn) == 6 and svhn.images.min() == 255  # black images score 1/9 < 40%: dropped
    assert list((tmp_path / "svhn").glob("svhn_pruned_*.npz"))
    import keras

    monkeypatch.setattr(keras.models, "load_model", lambda *a, **k: pytest.fail("cache not used"))
    again = load_task("mnist2svhn_pruned", options)
    np.testing.assert_array_equal(again.domains[1].labels, svhn.labels)


def test_pruning_threshold_is_strictly_above_40_percent(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10)])  # logits: a softmax is applied
    kernel = np.zeros((3, 10), np.float32)
    model.layers[-1].set_weights([kernel, np.log(np.array([4, 6] + [0] * 8, np.float32) + 1e-9)])
    model.save(tmp_path / "c.keras")  # every image: top probability exactly 0.6
    images = np.zeros((3, 32, 32, 3), np.uint8)
    assert len(pruned_indices(images, str(tmp_path / "c.keras"), tmp_path, threshold=0.6)) == 0
    assert len(pruned_indices(images, str(tmp_path / "c.keras"), tmp_path, threshold=0.59)) == 3


# -- CelebA -------------------------------------------------------------------------------------

def test_celeba_real_subset_split_by_attribute(shared_datasets):
    task = load_task("celeba", DataOptions(str(shared_datasets), "raw", image_size=64, attribute="Smiling"))
    assert [d.name for d in task.domains] == ["not_Smiling", "Smiling"]
    assert [len(d) for d in task.domains] == [318, 261]  # docs/datasets.md: 261 of 579 smile
    assert task.test_domains is None  # list_eval_partition.txt is not staged
    assert_batches(task, 64, 3)
    glasses = load_task("celeba", DataOptions(str(shared_datasets), "raw", image_size=64, attribute="Eyeglasses"))
    assert len(glasses.domains[1]) == 34


def test_celeba_attribute_values_follow_the_attribute_file(shared_datasets):
    task = load_task("celeba", DataOptions(str(shared_datasets), "raw", attribute="Blond_Hair"))
    lines = (shared_datasets / "celeba" / "list_attr_celeba.txt").read_text().splitlines()
    column = lines[1].split().index("Blond_Hair") + 1
    blond = {line.split()[0] for line in lines[2:] if line.split()[column] == "1"}
    assert {Path(f).name for f in task.domains[1].files} == blond
    assert not blond & {Path(f).name for f in task.domains[0].files}
    image = task.domains[1].decode(tf.constant(task.domains[1].files[0]))
    assert image.shape == (128, 128, 3) and image.dtype == tf.uint8


def test_unknown_celeba_attribute_lists_the_40_names():
    with pytest.raises(ConfigurationError, match="valid attributes: 5_o_Clock_Shadow, .*Smiling.*Young"):
        load_task("celeba", DataOptions(attribute="Smile"))


def _fake_celeba(root: Path, n: int = 8) -> None:
    from scogan.data.celeba import ATTRIBUTES

    names = [f"{i:06d}.jpg" for i in range(1, n + 1)]
    for name in names:
        write_image(root / "celeba" / "img_align_celeba" / name, size=(178, 218))
    (root / "celeba" / "img_align_celeba" / names[0]).write_bytes(b"")  # a broken download
    rows = [f"{name} " + " ".join("1" if (a == "Smiling") == (i % 2 == 0) else "-1" for a in ATTRIBUTES)
            for i, name in enumerate(names)]
    (root / "celeba" / "list_attr_celeba.txt").write_text("\n".join([str(n), " ".join(ATTRIBUTES), *rows]))
    (root / "celeba" / "list_eval_partition.txt").write_text(
        "\n".join(f"{name} {2 if i >= n - 2 else 0}" for i, name in enumerate(names)))


def test_celeba_raw_layout_with_partition_and_a_broken_file(tmp_path):
    _fake_celeba(tmp_path)
    with pytest.warns(UserWarning, match=r"skipped 1 of 3 unusable.*000001.jpg: empty file"):
        task = load_task("celeba", DataOptions(str(tmp_path), "raw", image_size=32))
    assert [len(d) for d in task.domains] == [3, 2] and [len(d) for d in task.test_domains] == [1, 1]
    assert_batches(task, 32, 3, batch_size=2)


def test_celeba_from_tfds(mock_tfds):
    task = load_task("celeba", DataOptions(source="tfds", image_size=32, attribute="Male"))
    assert sum(len(d) for d in task.domains) == 12 and sum(len(d) for d in task.test_domains) == 12
    assert task.image_shapes == [(32, 32, 3)] * 2


# -- CycleGAN pairs -----------------------------------------------------------------------------

def _fake_cyclegan(root: Path, name: str = "horse2zebra", count: int = 6) -> None:
    for split in SPLITS:
        for i in range(count):
            write_image(root / name / split / f"{split}_{i}.jpg", size=(40, 30))


def test_cyclegan_raw_layout(tmp_path):
    _fake_cyclegan(tmp_path)
    with pytest.warns(UserWarning, match=r"not the official horse2zebra download: trainA 6 \(official 1067\)"):
        task = load_task("horse2zebra", DataOptions(str(tmp_path), "raw", image_size=16))
    assert [d.name for d in task.domains] == ["horse", "zebra"] and len(task.test_domains) == 2
    assert [len(d) for d in task.domains + task.test_domains] == [6] * 4
    assert_batches(task, 16, 3)
    default = load_task("horse2zebra", DataOptions(str(tmp_path), "raw"))
    assert default.image_shapes == [(128, 128, 3)] * 2  # the thesis' main size


def test_cyclegan_missing_folder_is_named(tmp_path):
    _fake_cyclegan(tmp_path, "apple2orange")
    for f in (tmp_path / "apple2orange" / "testB").iterdir():
        f.unlink()
    (tmp_path / "apple2orange" / "testB").rmdir()
    with pytest.raises(DataNotFoundError, match=r"apple2orange/testB"):
        load_task("apple2orange", DataOptions(str(tmp_path), "raw"))


@pytest.mark.parametrize("name", sorted(OFFICIAL_COUNTS))
def test_layout_check_agrees_with_the_official_manifest(name, shared_datasets, tmp_path):
    manifest = shared_datasets / "cyclegan_manifest" / f"{name}.tsv"
    with open(manifest) as handle:
        paths = [row["path"] for row in csv.DictReader(handle, delimiter="\t")]
    counts = {s: sum(p.startswith(f"{s}/") for p in paths) for s in SPLITS}
    assert counts == OFFICIAL_COUNTS[name]
    # The manifest's layout (hard links to one tiny JPEG) passes the check silently.
    tiny = write_image(tmp_path / "tiny.jpg", size=(8, 8))
    for p in paths:
        (tmp_path / name / p).parent.mkdir(parents=True, exist_ok=True)
        os.link(tiny, tmp_path / name / p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        files = check_layout(tmp_path / name, name)
    assert {s: len(f) for s, f in files.items()} == counts
    (tmp_path / name / paths[-1]).unlink()
    with pytest.warns(UserWarning, match="official"):
        check_layout(tmp_path / name, name)


def test_cyclegan_from_tfds(mock_tfds):
    task = load_task("apple2orange", DataOptions(source="tfds", image_size=32))
    assert [len(d) for d in task.domains + task.test_domains] == [12] * 4
    assert_batches(task, 32, 3)


def test_cityscapes_is_raw_only(tmp_path, no_tfds):
    with pytest.raises(DataNotFoundError, match="no tfds copy"):
        load_task("cityscapes", DataOptions(str(tmp_path), "tfds"))
    with pytest.raises(DataNotFoundError, match="cityscapes/trainA"):
        load_task("cityscapes", DataOptions(str(tmp_path)))


# -- MNIST-M and USPS ---------------------------------------------------------------------------

def test_mnistm_blend_by_hand():
    photo = np.arange(40 * 40 * 3, dtype=np.int64).reshape(40, 40, 3).astype(np.uint8)
    digits = np.zeros((2, 32, 32, 1), np.uint8)
    digits[1] = 255
    out = blend(digits, [photo], np.random.default_rng(0))
    rng = np.random.default_rng(0)  # replays the draws: photo choices, then (y, x) per digit
    rng.integers(1, size=2)
    crops = [(rng.integers(9), rng.integers(9)) for _ in range(2)]
    assert out.shape == (2, 32, 32, 3) and crops[0] != crops[1]
    (y0, x0), (y1, x1) = crops
    np.testing.assert_array_equal(out[0], photo[y0:y0 + 32, x0:x0 + 32])  # |patch - 0|
    np.testing.assert_array_equal(out[1], 255 - photo[y1:y1 + 32, x1:x1 + 32])  # |patch - 255|


def test_mnist2mnistm_from_real_photos(shared_datasets):
    options = DataOptions(str(shared_datasets), "raw", seed=3)
    task = load_task("mnist2mnistm", options)
    assert task.image_shapes == [(32, 32, 3)] * 2 and task.num_classes == 10
    assert [len(d) for d in task.domains] == [30000, 30000] and len(task.test_domains[1]) == 10000
    plain, blended = disjoint_parts(60000, 2)
    from scogan.data.mnist import load_mnist

    _, labels = load_mnist("train", options)
    np.testing.assert_array_equal(task.domains[1].labels, labels[blended])  # labels kept, other half
    mnistm = task.domains[1].images
    assert mnistm.std(axis=(1, 2)).mean() > 20 and not np.array_equal(mnistm[..., 0], mnistm[..., 1])
    # Deterministic given the seed: the same photos, crops and blends again; another seed differs.
    from scogan.data.mnist32 import mnist32
    from scogan.data.mnistm import load_photos

    digits = mnist32("train", options)[0][blended]
    photos = load_photos(shared_datasets / "celeba" / "img_align_celeba", seed=3)
    np.testing.assert_array_equal(blend(digits, photos, np.random.default_rng([3, 0])), mnistm)
    other = blend(digits[:100], load_photos(shared_datasets / "celeba" / "img_align_celeba", seed=4),
                  np.random.default_rng([4, 0]))
    assert not np.array_equal(other, mnistm[:100])
    assert_batches(task, 32, 3)


def test_mnistm_without_photos_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="background_dir"):
        load_task("mnist2mnistm", DataOptions(source="bundled"))
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_task("mnist2mnistm", DataOptions(source="bundled", background_dir=str(tmp_path / "none")))


def test_mnist2usps_real_files(shared_datasets):
    task = load_task("mnist2usps", DataOptions(str(shared_datasets), "raw"))
    assert [len(d) for d in task.domains] == [60000, 7291] and [len(d) for d in task.test_domains] == [10000, 2007]
    assert task.image_shapes == [(32, 32, 1)] * 2 and task.num_classes == 10
    assert np.bincount(task.domains[1].labels).tolist() == [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
    assert task.domains[1].images.max() == 255
    assert_batches(task, 32, 1)


def test_usps_has_no_tfds_copy():
    with pytest.raises(DataNotFoundError, match="USPS has no tfds copy"):
        load_task("mnist2usps", DataOptions(source="tfds"))


def test_digit_pairs_are_32x32_only(shared_datasets):
    with pytest.raises(ValueError, match="32x32"):
        load_task("mnist2usps", DataOptions(str(shared_datasets), image_size=64))


# -- your own folders, validation, channels -----------------------------------------------------

def test_folders_reconcile_formats_and_channels_and_skip_bad_files(tmp_path):
    a, b, c = tmp_path / "cats", tmp_path / "dogs", tmp_path / "owls"
    write_image(a / "gray.png", mode="L", value=77)
    write_image(a / "rgba.png", mode="RGBA", value=200)
    write_image(a / "photo.jpg")
    write_image(b / "bitmap.bmp", value=10)
    write_image(b / "anim.gif", mode="L")
    write_image(b / "photo.JPEG")
    (b / "notes.txt").write_text("ignored: not an image extension")
    (b / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    for i in range(2):
        write_image(c / f"{i}.jpg", mode="L")
    with pytest.warns(UserWarning, match=r"skipped 1 of 4.*broken.jpg: truncated JPEG"):
        task = load_task("folders", DataOptions(domain_dirs=(str(a), str(b), str(c)), image_size=16))
    assert [d.name for d in task.domains] == ["cats", "dogs", "owls"] and [len(d) for d in task.domains] == [3, 3, 2]
    gray = task.domains[0].decode(tf.constant(str(a / "gray.png"))).numpy()
    assert gray.shape == (16, 16, 3) and np.all(gray == 77)  # repeated to RGB
    rgba = task.domains[0].decode(tf.constant(str(a / "rgba.png"))).numpy()
    assert rgba.shape == (16, 16, 3) and np.all(rgba == 200)  # alpha dropped
    assert_batches(task, 16, 3, batch_size=2)


def test_folder_with_nothing_usable_stops_naming_the_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"not a png")
    write_image(tmp_path / "b" / "y.png")
    with pytest.raises(DataNotFoundError, match=r"none of the 1 image files is usable; e.g. .*x.png: not a JPEG"):
        load_task("folders", DataOptions(domain_dirs=(str(tmp_path / "a"), str(tmp_path / "b"))))
    with pytest.raises(ConfigurationError, match="at least two folders"):
        load_task("folders", DataOptions(domain_dirs=(str(tmp_path / "b"),)))


def test_image_problems(tmp_path):
    good = write_image(tmp_path / "ok.png")
    jpeg = write_image(tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    png = good.read_bytes()
    (tmp_path / "cut.png").write_bytes(png[:-20])
    bmp = write_image(tmp_path / "ok.bmp").read_bytes()
    (tmp_path / "cut.bmp").write_bytes(bmp[:-10])
    (tmp_path / "empty.gif").write_bytes(b"")
    problems = {p.name: image_problem(str(p)) for p in sorted(tmp_path.iterdir())}
    assert problems == {"ok.png": None, "ok.jpg": None, "ok.bmp": None,
                        "cut.jpg": "truncated JPEG (no end-of-image marker)", "cut.png": "truncated PNG (no IEND chunk)",
                        "cut.bmp": "truncated BMP (shorter than its header says)", "empty.gif": "empty file"}
    with pytest.raises(tf.errors.InvalidArgumentError):  # what the check saves a run from
        tf.io.decode_image((tmp_path / "cut.jpg").read_bytes())
    assert check_images([str(good)], "x") == [str(good)]


def test_rgb_to_gray_uses_luma_and_gray_to_rgb_repeats():
    rgb = tf.constant([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], tf.uint8)
    gray = to_channels(rgb, 1).numpy()[0, :, 0]
    np.testing.assert_allclose(gray, [0.2989 * 255, 0.587 * 255, 0.114 * 255], atol=1)
    np.testing.assert_array_equal(to_channels(tf.constant([[[9]]], tf.uint8), 3).numpy(), [[[9, 9, 9]]])


def test_usps_digits_are_framed_like_mnists(shared_datasets):
    """Resized to 24x24 and centred: a 4-pixel black border, and digits about as tall as
    MNIST's (whose 20x20 box in 28x28 is about 23 px of the 32x32 frame)."""
    task = load_task("mnist2usps", DataOptions(str(shared_datasets), "raw"))
    usps = task.domains[1].images[:500, ..., 0]
    assert usps.shape[1:] == (32, 32)
    border = np.ones((32, 32), bool)
    border[4:28, 4:28] = False
    assert usps[:, border].max() == 0 and usps[:, 4:28, 4:28].max() == 255

    def heights(images: np.ndarray) -> np.ndarray:
        rows = images.max(axis=2) > 64
        return 32 - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)

    mnist = task.domains[0].images[:500, ..., 0]
    assert abs(float(np.median(heights(usps))) - float(np.median(heights(mnist)))) <= 3
