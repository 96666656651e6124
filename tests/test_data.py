"""Data: raw idx files (real copies in ../shared), tfds (mock data), the bundled subset,
the disjoint split, the transforms, source resolution and the tf.data pipeline."""

import gzip

import numpy as np
import pytest
import tensorflow as tf

from scogan.data import (
    TASKS,
    DataNotFoundError,
    DataOptions,
    Domain,
    load_task,
    sources,
    training_batches,
)
from scogan.data.digit_tasks import digit_edges, disjoint_parts, edges, negative, rotate90
from scogan.data.mnist import load_mnist, read_idx
from scogan.data.pipeline import domain_batches
from scogan.utils.registry import UnknownNameError


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests never reach for the network: a probe would mean a 3.5-minute tfds retry loop."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")
    monkeypatch.setattr(sources, "network_reachable", refuse)


def test_raw_idx_files_from_shared(shared_datasets):
    images, labels = load_mnist("train", DataOptions(str(shared_datasets), "raw"))
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_images, _ = load_mnist("test", DataOptions(str(shared_datasets), "raw"))
    assert test_images.shape == (10000, 28, 28)


def test_auto_source_prefers_raw_files_when_given(shared_datasets, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: False)
    task = load_task("mnist2edge", DataOptions(str(shared_datasets)))
    assert [len(d) for d in task.domains] == [30000, 30000]


def test_read_idx_rejects_truncated_file(tmp_path):
    path = tmp_path / "bad-idx3-ubyte.gz"
    header = (0x803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (2, 28, 28))
    with gzip.open(path, "wb") as handle:
        handle.write(header + bytes(100))
    with pytest.raises(ValueError, match="header says"):
        read_idx(path)


def test_missing_raw_files_are_named(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"mnist/train-images-idx3-ubyte.gz"):
        load_mnist("train", DataOptions(str(tmp_path), "raw"))


def test_explicit_tfds_source_without_data_or_network_fails_fast(monkeypatch):
    monkeypatch.setattr(sources, "network_reachable", lambda *a, **k: False)
    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: False)
    with pytest.raises(DataNotFoundError, match="not prepared for tfds.*unreachable"):
        load_mnist("train", DataOptions(source="tfds"))


def test_auto_source_without_any_copy_fails_fast_with_what_it_looked_for(monkeypatch):
    monkeypatch.setattr(sources, "network_reachable", lambda *a, **k: False)
    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: False)
    with pytest.raises(DataNotFoundError, match=r"raw files missing \(\$COGAN_DATA_DIR/svhn/train_32x32.mat\).*unreachable"):
        sources.resolve_source("svhn_cropped", ["svhn/train_32x32.mat"], DataOptions())


def test_tfds_path_with_mock_data(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: True)
    with tfds.testing.mock_data(num_examples=40):
        task = load_task("mnist2negative", DataOptions(source="tfds"))
    assert [len(d) for d in task.domains] == [20, 20]
    assert task.domains[0].images.shape[1:] == (32, 32, 1)
    np.testing.assert_array_equal(task.test_domains[1].images, 255 - task.test_domains[0].images)


def test_bundled_subset_and_disjoint_halves(edge_task):
    a, b = edge_task.domains
    assert len(a) == len(b) == 3000
    parts = disjoint_parts(6000, 2)
    assert not set(parts[0]) & set(parts[1]) and len(set(parts[0]) | set(parts[1])) == 6000
    # No domain-2 image is the edge image of a domain-1 image.
    edges_of_a = {e.tobytes() for e in edges(a.images)}
    assert not any(img.tobytes() in edges_of_a for img in b.images)


def test_three_way_split_is_disjoint():
    parts = disjoint_parts(10, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    assert [len(p) for p in parts] == [4, 3, 3]


def test_edges_by_hand():
    image = np.zeros((1, 5, 5, 1), np.uint8)
    image[0, 2, 2, 0] = 200
    out = digit_edges(image)[0, ..., 0]  # at the digit's own size (edges: 28x28, then 32x32)
    expected = np.zeros((5, 5), np.uint8)
    expected[1:4, 1:4] = 200
    expected[2, 2] = 0
    np.testing.assert_array_equal(out, expected)


def test_negative_and_rotation_by_hand():
    image = np.arange(4, dtype=np.uint8).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(negative(image)[0, ..., 0], [[255, 254], [253, 252]])
    np.testing.assert_array_equal(rotate90(image)[0, ..., 0], [[1, 3], [0, 2]])


def test_three_domain_task(edge_task):
    task = load_task("mnist2edge2negative", DataOptions(source="bundled"))
    assert task.num_domains == 3 and [len(d) for d in task.domains] == [2000, 2000, 2000]


def test_pipeline_shapes_range_and_independent_domains(edge_task):
    batch = next(iter(training_batches(edge_task.domains, 16, seed=0, batches_per_step=3)))
    assert [tuple(x.shape) for x in batch] == [(3, 16, 32, 32, 1)] * 2
    values = batch[0].numpy()
    assert values.min() >= -1.0 and values.max() <= 1.0 and values.min() < -0.9 and values.max() > 0.9


def test_pipeline_skip_reproduces_the_uninterrupted_stream(edge_task):
    fresh = iter(training_batches(edge_task.domains, 8, seed=3, batches_per_step=2))
    expected = [next(fresh) for _ in range(3)][2]
    resumed = next(iter(training_batches(edge_task.domains, 8, seed=3, batches_per_step=2, start_step=2)))
    for e, r in zip(expected, resumed):
        np.testing.assert_array_equal(e.numpy(), r.numpy())


def test_pipeline_reshuffles_each_epoch():
    domain = Domain("tiny", (1, 1, 1), images=np.arange(8, dtype=np.uint8).reshape(8, 1, 1, 1))
    batches = list(domain_batches(domain, 8, seed=0).take(2).as_numpy_iterator())
    first, second = (np.round((b.ravel() + 1) * 127.5).astype(int) for b in batches)
    assert sorted(first) == sorted(second) == list(range(8)) and list(first) != list(second)


def test_domain_smaller_than_a_batch_is_an_error():
    domain = Domain("tiny", (1, 1, 1), images=np.zeros((3, 1, 1, 1), np.uint8))
    with pytest.raises(ValueError, match="3 images, fewer than one batch of 8"):
        domain_batches(domain, 8, seed=0)


def test_unknown_task_lists_choices():
    with pytest.raises(UnknownNameError, match="valid choices: .*mnist2edge.*mnist2rotate"):
        TASKS.get("mnist2svhn_typo")


def test_select_one_domain_for_a_plain_gan(edge_task):
    task = edge_task.select(1)
    assert task.num_domains == 1 and task.domains[0].name == "edge"
    with pytest.raises(ValueError, match="domains 1..2, not 3"):
        edge_task.select(2)


def test_tf_function_friendly_batches(edge_task):
    @tf.function
    def mean(batch):
        return tf.reduce_mean(batch[0])

    assert np.isfinite(float(mean(next(iter(training_batches(edge_task.domains, 4, 0))))))
