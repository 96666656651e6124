"""What the progress bar shows of a step's logged values."""

from __future__ import annotations

from collections.abc import Mapping

# Kept in losses.csv and TensorBoard, left off the bar: they hide the terms that move.
HIDDEN_SUFFIXES = ("weight_decay", "_total")
# Per-domain keys ``<name>/<domain>`` shown as ``<short><domain>``.
SHORT = {"d_loss": "d", "g_loss": "g", "gp": "gp"}


def progress_fields(metrics: Mapping[str, float]) -> dict[str, str]:
    """The bar's fields from one step's logged values: each domain's adversarial losses
    (``d_loss/1`` as ``d1``, ``g_loss/2`` as ``g2``, ``gp/1`` as ``gp1``) and every regulariser
    or extra term under its own name, in the step's order; weight decay and the summed
    totals are left to losses.csv and TensorBoard. Values are formatted to 3 decimals."""
    fields = {}
    for key, value in metrics.items():
        if key.endswith(HIDDEN_SUFFIXES) or key.startswith("finite/"):
            continue
        name, _, domain = key.partition("/")
        label = f"{SHORT.get(name, name + '/')}{domain}" if domain else key
        fields[label] = f"{value:.3f}"
    return fields
