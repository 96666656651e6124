"""Verdicts on the thesis' claims (experiments.verdicts): hand-computed decisions."""

import pytest

from scogan.experiments import PRESETS
from scogan.experiments.verdicts import (
    CLAIMS,
    CONTRADICTED,
    FLOOR,
    NOT_RUN,
    REPRODUCED,
    UNDECIDED,
    Claim,
    Comparison,
    decide,
    judge,
)

HIGHER = Comparison("m", "a", "higher", "b")


def test_a_difference_beyond_two_standard_errors_decides_the_direction():
    # a: mean 0.5, sd 0.1; b: mean 0.2, sd 0.1; se = sqrt(0.01/3 + 0.01/3) = 0.08165; z = 3.67
    values = {"a": {"m": [0.4, 0.5, 0.6]}, "b": {"m": [0.1, 0.2, 0.3]}}
    decision = decide(HIGHER, values, {})
    assert decision.verdict == REPRODUCED and "+0.3000 ± 0.0816 (s.e., n=3)" in decision.reason
    assert decide(Comparison("m", "b", "higher", "a"), values, {}).verdict == CONTRADICTED
    assert decide(Comparison("m", "a", "lower", "b"), values, {}).verdict == CONTRADICTED
    assert decide(Comparison("m", "a", "equal", "b"), values, {}).verdict == CONTRADICTED


def test_a_difference_within_two_standard_errors_decides_nothing_or_equality():
    # difference 0.1, se 0.0816: z = 1.22
    values = {"a": {"m": [0.2, 0.3, 0.4]}, "b": {"m": [0.1, 0.2, 0.3]}}
    assert decide(HIGHER, values, {}).verdict == UNDECIDED
    assert decide(Comparison("m", "a", "equal", "b"), values, {}).verdict == REPRODUCED


def test_fewer_than_three_seeds_a_collapsed_column_or_a_missing_run_decide_nothing():
    values = {"a": {"m": [0.9, 0.9]}, "b": {"m": [0.1, 0.1, 0.1]}}
    assert decide(HIGHER, values, {}).reason == "a: 2 seed(s), 3 needed"
    values["a"]["m"].append(0.9)
    flagged = {"b": "**collapsed**: pair_class_entropy/2 0.20 bits"}
    decision = decide(HIGHER, values, flagged)
    assert decision.verdict == UNDECIDED and decision.reason == "b collapsed (pair_class_entropy/2 0.20 bits)"
    assert decide(HIGHER, {"a": values["a"]}, {}).verdict == NOT_RUN


def test_a_low_recall_column_decides_nothing_but_says_what_the_comparison_alone_would():
    values = {"a": {"m": [0.9, 0.9, 0.9]}, "b": {"m": [0.1, 0.2, 0.3]}}
    assert decide(HIGHER, values, {}).verdict == REPRODUCED
    decision = decide(HIGHER, values, {"a": "**low recall**: recall/2 0.000"})
    assert decision.verdict == UNDECIDED
    assert decision.reason == ("low recall: a (recall/2 0.000), the samples miss most of the real domain; the "
                               "comparison alone: difference +0.7000 ± 0.0577 (s.e., n=3): it would hold")
    # an undecided comparison stays undecided, and a missing run stays not run
    even = {"a": {"m": [0.2, 0.3, 0.4]}, "b": {"m": [0.1, 0.2, 0.3]}}
    assert decide(HIGHER, even, {"b": "**low recall**: recall/1 0.010"}).reason.endswith("within 2 s.e.")
    assert decide(HIGHER, {"a": values["a"]}, {"a": "**low recall**: recall/1 0.010"}).verdict == NOT_RUN


def test_coupling_subtracts_each_seeds_shuffled_score_and_the_floor_is_paired():
    values = {"a": {"m": [0.5, 0.6, 0.7], "m_shuffled": [0.4, 0.5, 0.6]},
              "b": {"m": [0.5, 0.6, 0.7], "m_shuffled": [0.1, 0.2, 0.3]}}
    # coupling a = 0.1 each seed, b = 0.4 each seed: sd 0, so the sign decides
    assert decide(Comparison("m", "b", "higher", "a", coupling=True), values, {}).verdict == REPRODUCED
    # paired against its own floor: differences 0.1, 0.1, 0.1 for a
    floor = decide(Comparison("m", "a", "higher", FLOOR), values, {})
    assert floor.verdict == REPRODUCED and floor.reason.startswith("difference +0.1000 ± 0.0000")
    assert decide(Comparison("m", "a", "equal", FLOOR), values, {}).verdict == CONTRADICTED


def test_a_claim_needs_every_comparison():
    values = {"a": {"m": [0.4, 0.5, 0.6], "n": [0.2, 0.3, 0.4]}, "b": {"m": [0.1, 0.2, 0.3], "n": [0.1, 0.2, 0.3]}}
    both = Claim("c", "s", (HIGHER, Comparison("n", "a", "higher", "b")))
    assert judge(both, values, {})[0] == UNDECIDED
    assert judge(Claim("c", "s", (HIGHER, Comparison("n", "a", "lower", "b"))), values, {})[0] == UNDECIDED
    assert judge(Claim("c", "s", (HIGHER, Comparison("m", "a", "lower", "b"))), values, {})[0] == CONTRADICTED
    assert judge(Claim("c", "s", (HIGHER,)), values, {})[0] == REPRODUCED
    assert judge(Claim("c", "s", (HIGHER, Comparison("x", "a", "lower", "b"))), values, {})[0] == NOT_RUN


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.text[:40])
def test_every_claim_names_presets_and_metrics_they_measure(claim):
    """A typo in a claim would leave it "not run yet" forever."""
    from scogan.metrics import headline_keys

    for comparison in claim.comparisons:
        for name in (comparison.a, comparison.than):
            if name != FLOOR:
                keys = headline_keys(list(PRESETS.get(name).metrics), 2)
                assert comparison.metric in keys, (name, comparison.metric)
                if comparison.coupling or comparison.than == FLOOR:
                    assert f"{comparison.metric}_shuffled" in keys
