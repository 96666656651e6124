"""Pixel agreement and stroke agreement against hand-made pairs."""

import numpy as np
import pytest

from scogan.data.digit_tasks import digit_edges, identity, negative
from scogan.metrics.pixel_agreement import pixel_agreement, pixel_agreement_scores, stroke_agreement

# The metric's arithmetic on small hand-made images: the size-agnostic edge construction
# stands in for the task's (data.digit_tasks.edges, 32x32 only; tests/test_faithful.py).
edges = digit_edges


def _digits(n, seed=0):
    rng = np.random.default_rng(seed)
    images = -np.ones((n, 8, 8, 1), np.float32)
    for img in images:
        r, c = rng.integers(1, 6, size=2)
        img[r:r + 2, c:c + 2] = 1.0
    return images


def test_perfect_pairs_agree_fully():
    g1 = _digits(5)
    g2 = negative(((g1 + 1) * 127.5).astype(np.uint8)).astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(pixel_agreement(g1, g2, negative), 1.0)


def test_agreement_by_hand():
    g1 = -np.ones((1, 2, 2, 1), np.float32)
    g2 = np.array([[[[1.0], [-1.0]], [[-1.0], [-1.0]]]], np.float32)
    # identity: 3 of 4 pixels agree
    assert pixel_agreement(g1, g2, identity)[0] == pytest.approx(0.75)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape mismatch"):
        pixel_agreement(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 3)), identity)


def test_scores_of_a_perfectly_coupled_fake_generator_beat_shuffled():
    def generate(n, seed):
        g1 = _digits(n, seed)
        g2 = edges(((g1 + 1) * 127.5).astype(np.uint8)).astype(np.float32) / 127.5 - 1
        return [g1, g2]

    scores = pixel_agreement_scores(generate, (identity, edges), 200)
    assert scores["pixel_agreement"] == pytest.approx(1.0)
    assert scores["pixel_agreement_shuffled"] < 0.9
    assert scores["stroke_agreement"] == pytest.approx(1.0)
    assert scores["stroke_agreement_shuffled"] < 0.5


def test_stroke_agreement_by_hand():
    # identity; on-pixels: g1 at (0,0),(0,1); g2 at (0,1),(1,1) -> both 1, either 3
    g1 = np.array([[[[1.0], [1.0]], [[-1.0], [-1.0]]]], np.float32)
    g2 = np.array([[[[-1.0], [1.0]], [[-1.0], [1.0]]]], np.float32)
    assert stroke_agreement(g1, g2, identity)[0] == pytest.approx(1 / 3)
    assert pixel_agreement(g1, g2, identity)[0] == pytest.approx(0.5)
    # two blank images agree on their (absent) strokes
    blank = -np.ones((1, 2, 2, 1), np.float32)
    assert stroke_agreement(blank, blank, identity)[0] == pytest.approx(1.0)


def test_a_blank_generator_scores_high_pixel_but_zero_stroke_agreement():
    """Why stroke agreement exists: background dominates the paper's score on edges."""
    g1 = _digits(50)
    blank = -np.ones_like(g1)
    assert np.mean(pixel_agreement(g1, blank, edges)) > 0.6
    np.testing.assert_allclose(stroke_agreement(g1, blank, edges), 0.0)


def test_tasks_without_transform_are_refused():
    with pytest.raises(ValueError, match="transforms of domain 1"):
        pixel_agreement_scores(lambda n, s: [np.zeros((n, 2, 2, 1))] * 2, (identity, None), 4)


def test_three_domains_score_per_domain_and_the_plain_keys_are_their_mean():
    def generate(n, seed):
        g1 = _digits(n, seed)
        g2 = edges(((g1 + 1) * 127.5).astype(np.uint8)).astype(np.float32) / 127.5 - 1
        g3 = _digits(n, seed + 100)  # domain 3 ignores z: identity pairs agree only by chance
        return [g1, g2, g3]

    scores = pixel_agreement_scores(generate, (identity, edges, identity), 300)
    for name in ("pixel_agreement", "stroke_agreement"):
        assert scores[f"{name}/2"] == pytest.approx(1.0)
        assert scores[f"{name}/3"] < scores[f"{name}/2"]
        assert scores[name] == pytest.approx((scores[f"{name}/2"] + scores[f"{name}/3"]) / 2)
        assert scores[f"{name}_shuffled"] == pytest.approx(
            (scores[f"{name}_shuffled/2"] + scores[f"{name}_shuffled/3"]) / 2)
