"""Why a metric was not computed: errors reported as ``error: ...`` (exit 2), not tracebacks."""

from __future__ import annotations

import numpy as np


class MetricError(ValueError):
    """A metric that cannot be computed on this run (e.g. its task lacks what it needs)."""


class NonFiniteOutputError(MetricError):
    """Network outputs that contain NaN or Inf: any score of them would be meaningless."""


def require_finite(arrays: list[np.ndarray], what: str, hint: str = "") -> None:
    """NonFiniteOutputError unless every array (one per domain, (N, ...)) is finite.

    ``what`` starts the message, subject and verb (e.g. "the generators of RUN output");
    ``hint`` ends it.
    """
    bad = []
    for d, x in enumerate(arrays, start=1):
        finite = np.isfinite(x).reshape(len(x), -1).all(axis=1)
        if not finite.all():
            bad.append(f"domain {d}: {int(np.sum(~finite))} of {len(x)}")
    if bad:
        raise NonFiniteOutputError(f"{what} NaN/Inf ({', '.join(bad)} images){hint}")
