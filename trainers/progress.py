"""What the progress bar shows: a step's logged values, and a speed that leaves out tracing."""

from __future__ import annotations

import time
from collections.abc import Mapping

# Kept in losses.csv and TensorBoard, left off the bar: they hide the terms that move.
HIDDEN_SUFFIXES = ("weight_decay", "_total")
HIDDEN_PREFIXES = ("finite/", "loss_scale/")  # gradient flags; float16 loss scales (trainers.loss_scaling)
# Per-domain keys ``<name>/<domain>`` shown as ``<short><domain>``.
SHORT = {"d_loss": "d", "g_loss": "g", "gp": "gp"}


def progress_fields(metrics: Mapping[str, float]) -> dict[str, str]:
    """The bar's fields from one step's logged values: each domain's adversarial losses
    (``d_loss/1`` as ``d1``, ``g_loss/2`` as ``g2``, ``gp/1`` as ``gp1``) and every regulariser
    or extra term under its own name, in the step's order; weight decay and the summed
    totals are left to losses.csv and TensorBoard. Values are formatted to 3 decimals."""
    fields = {}
    for key, value in metrics.items():
        if key.endswith(HIDDEN_SUFFIXES) or key.startswith(HIDDEN_PREFIXES):
            continue
        name, _, domain = key.partition("/")
        label = f"{SHORT.get(name, name + '/')}{domain}" if domain else key
        fields[label] = f"{value:.3f}"
    return fields


def restart_clock(bar, n: int) -> None:
    """Make the tqdm ``bar`` measure its elapsed time, speed and ETA from now on, at count ``n``.

    The training loop calls it at the end of the first step of each start, instead of
    counting that step as a bar update: the step traces the ``tf.function`` (seconds at CPU
    size, minutes at full width) and would dominate the it/s shown for a long time. Also
    after a rollback, which moves the count back.
    """
    bar.unpause()  # the start time moves to now; no update has fed the speed average yet
    bar.n = bar.last_print_n = bar.initial = n
    bar.refresh()


class Speedometer:
    """Iterations per second between two readings, measured from ``restart`` (the end of the
    first, tracing step of a start) on."""

    def __init__(self) -> None:
        self._mark: tuple[int, float] | None = None

    def restart(self, step: int) -> None:
        self._mark = (step, time.perf_counter())

    def rate(self, step: int) -> float | None:
        """Iterations per second since the last reading (or ``restart``); None before the
        first ``restart`` or when no step was done since."""
        if self._mark is None:
            return None
        done, then = self._mark
        now = time.perf_counter()
        if step <= done or now <= then:
            return None
        self._mark = (step, now)
        return (step - done) / (now - then)
