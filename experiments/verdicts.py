"""The thesis' claims, each judged from the study's runs: reproduced, contradicted, or not
decidable at this scale, with the reason.

A claim is a few comparisons between two columns of a table (or between a column and its
own shuffled-pairs floor). Each comparison is decided from the seeds' values alone:

* fewer than ``MIN_SEEDS`` finished seeds on either side, or either column flagged
  (``experiments.__main__.collapse_check``): not decidable. A collapsed column (few classes)
  says nothing; for a low-recall one (varied classes, samples missing most of the real
  domain) the reason also gives what the comparison alone would say, as a lead;
* ``d`` = difference of the means, ``se`` = its standard error, sqrt(s_a²/n_a + s_b²/n_b)
  (for a column against its own floor: the paired per-seed differences' sd / sqrt(n));
  "higher"/"lower" holds when d is beyond ``Z`` standard errors in that direction and is
  contradicted beyond ``Z`` in the other; "equal" holds within ``Z`` standard errors
  (no difference detected, which at 3 seeds is weak evidence) and is contradicted beyond.

A claim is reproduced when every comparison holds, contradicted when any is contradicted,
not run yet while a column it needs has no finished run, and otherwise not decidable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_SEEDS = 3
Z = 2.0
REPRODUCED, CONTRADICTED, UNDECIDED = "reproduced", "contradicted", "not decidable at this scale"
NOT_RUN = "not run yet"  # a column the comparison needs has no finished run
COLLAPSED, LOW_RECALL = "**collapsed**", "**low recall**"  # experiments.__main__.collapse_check
FLOOR = "shuffled"  # ``than``: the column's own shuffled-pairs score of the same metric


@dataclass(frozen=True)
class Comparison:
    """``metric`` of preset ``a`` is ``relation`` ("higher", "lower", "equal") than that of
    preset ``than`` (or than its own ``<metric>_shuffled`` with ``than=FLOOR``).
    ``coupling``: compare the metric minus its shuffled score (per seed) instead."""

    metric: str
    a: str
    relation: str
    than: str
    coupling: bool = False

    def label(self) -> str:
        what = f"{self.metric} − shuffled" if self.coupling else self.metric
        other = "its shuffled pairs" if self.than == FLOOR else self.than
        relation = "equal to" if self.relation == "equal" else f"{self.relation} than"
        return f"{what}: {self.a} {relation} {other}"


@dataclass(frozen=True)
class Claim:
    text: str
    source: str
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class Decision:
    verdict: str
    reason: str


def _stats(values: list[float]) -> tuple[float, float, int]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, sd, n


def _series(values: dict[str, list[float]], metric: str, coupling: bool) -> list[float] | None:
    found = values.get(metric)
    if not found:
        return None
    if not coupling:
        return found
    floor = values.get(f"{metric}_shuffled")
    if not floor or len(floor) != len(found):
        return None
    return [v - f for v, f in zip(found, floor)]


def decide(comparison: Comparison, values: dict[str, dict[str, list[float]]],
           collapsed: dict[str, str]) -> Decision:
    """One comparison from the seeds' values by preset name (``values[preset][metric]``) and
    the collapse check of each preset (``collapsed[preset]``: "ok", "—" or a flag)."""
    names = [comparison.a] + ([] if comparison.than == FLOOR else [comparison.than])
    flags = {name: collapsed.get(name, "") for name in names}
    for name, flag in flags.items():
        if flag.startswith(COLLAPSED):
            return Decision(UNDECIDED, f"{name} collapsed ({flag.removeprefix(COLLAPSED + ': ')})")
    decision = _compare(comparison, values)
    low = [f"{name} ({flag.removeprefix(LOW_RECALL + ': ')})" for name, flag in flags.items()
           if flag.startswith(LOW_RECALL)]
    if low and decision.verdict != NOT_RUN:
        would = {REPRODUCED: ": it would hold", CONTRADICTED: ": it would be contradicted"}
        alone = decision.reason + would.get(decision.verdict, "")
        return Decision(UNDECIDED, f"low recall: {', '.join(low)}, the samples miss most of the real domain; "
                                   f"the comparison alone: {alone}")
    return decision


def _compare(comparison: Comparison, values: dict[str, dict[str, list[float]]]) -> Decision:
    a = _series(values.get(comparison.a, {}), comparison.metric, comparison.coupling)
    if comparison.than == FLOOR:
        floor = values.get(comparison.a, {}).get(f"{comparison.metric}_shuffled")
        if a is None or not floor or len(floor) != len(a):
            return Decision(NOT_RUN, f"{comparison.a}: {comparison.metric} and its shuffled score not measured")
        differences = [x - f for x, f in zip(a, floor)]
        mean, sd, n = _stats(differences)
        if n < MIN_SEEDS:
            return Decision(UNDECIDED, f"{comparison.a}: {n} seed(s), {MIN_SEEDS} needed")
        se = sd / math.sqrt(n)
    else:
        b = _series(values.get(comparison.than, {}), comparison.metric, comparison.coupling)
        for name, series in ((comparison.a, a), (comparison.than, b)):
            if series is None:
                return Decision(NOT_RUN, f"{name}: {comparison.metric} not measured")
            if len(series) < MIN_SEEDS:
                return Decision(UNDECIDED, f"{name}: {len(series)} seed(s), {MIN_SEEDS} needed")
        (ma, sa, na), (mb, sb, nb) = _stats(a), _stats(b)
        mean, se, n = ma - mb, math.sqrt(sa ** 2 / na + sb ** 2 / nb), min(na, nb)
    z = mean / se if se > 0 else (math.inf if mean > 0 else -math.inf if mean < 0 else 0.0)
    said = f"difference {mean:+.4f} ± {se:.4f} (s.e., n={n})"
    if comparison.relation == "equal":
        return Decision(REPRODUCED, f"{said}, within {Z:g} s.e.") if abs(z) <= Z else \
            Decision(CONTRADICTED, f"{said}, beyond {Z:g} s.e.")
    sign = 1.0 if comparison.relation == "higher" else -1.0
    if sign * z > Z:
        return Decision(REPRODUCED, said)
    if sign * z < -Z:
        return Decision(CONTRADICTED, f"{said}: the opposite direction")
    return Decision(UNDECIDED, f"{said}, within {Z:g} s.e.")


def judge(claim: Claim, values: dict[str, dict[str, list[float]]], collapsed: dict[str, str]
          ) -> tuple[str, list[tuple[Comparison, Decision]]]:
    """The claim's verdict and each comparison's decision."""
    decisions = [(c, decide(c, values, collapsed)) for c in claim.comparisons]
    verdicts = {d.verdict for _, d in decisions}
    if CONTRADICTED in verdicts:
        return CONTRADICTED, decisions
    if verdicts == {REPRODUCED}:
        return REPRODUCED, decisions
    if NOT_RUN in verdicts:
        return NOT_RUN, decisions
    return UNDECIDED, decisions


def _pair_claims(table: str, pair: str) -> list[Claim]:
    return [
        Claim(f"SL + FR learns the noisy pair ({pair}) where CoGAN fails",
              "thesis Sec. 5.2, Table 5.2",
              (Comparison("pair_class_agreement", f"{table}/slfr", "higher", f"{table}/cogan", coupling=True),)),
        Claim(f"SL + CC learns the noisy pair ({pair}) where CoGAN fails",
              "thesis Sec. 5.2, Table 5.2",
              (Comparison("pair_class_agreement", f"{table}/slcc", "higher", f"{table}/cogan", coupling=True),)),
        Claim(f"CoGAN's weight sharing fails to couple the noisy pair ({pair})",
              "thesis Ch. 3-4 (the motivation), Table 5.2",
              (Comparison("pair_class_agreement", f"{table}/cogan", "equal", FLOOR),)),
    ]


CLAIMS: list[Claim] = [
    Claim("FR couples MNISTedge but loses the second domain's style",
          "thesis Sec. 5.1, Table 5.1 (FR's Gen. 2 vs Real 2: 0.1429 against CoGAN's 0.1157)",
          (Comparison("pixel_agreement", "table5_1/fr", "higher", FLOOR),
           Comparison("lpips_gen2_real2", "table5_1/fr", "higher", "table5_1/cogan"))),
    Claim("PL matches CoGAN on MNISTedge",
          "thesis Sec. 5.1, Table 5.1 (0.1019 vs 0.1026 Gen. 1 vs Gen. 2)",
          (Comparison("lpips_gen1_gen2", "table5_1/pl", "equal", "table5_1/cogan"),
           Comparison("pixel_agreement", "table5_1/pl", "equal", "table5_1/cogan"))),
    *_pair_claims("table5_2", "MNIST2MNIST-M at CPU scale"),
    *_pair_claims("table5_2_usps", "MNIST2USPS"),
    Claim("Pixel agreement grows with the number of shared generator blocks (MNISTedge)",
          "CoGAN paper Sec. 4, Figure 3",
          (Comparison("pixel_agreement", "sweep/mnist2edge/g5d3", "higher", "sweep/mnist2edge/g1d3"),)),
    Claim("Pixel agreement grows with the number of shared generator blocks (MNISTnegative)",
          "CoGAN paper Sec. 4, Figure 3",
          (Comparison("pixel_agreement", "sweep/mnist2negative/g5d3", "higher", "sweep/mnist2negative/g1d3"),)),
]
