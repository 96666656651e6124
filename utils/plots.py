"""The plots of a run: losses from its ``losses.csv``, metrics from its ``metrics.jsonl``."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_losses(csv_path: str | Path, png_path: str | Path) -> None:
    """One panel per network (columns starting ``d_`` and ``g_``, plus others), loss vs step."""
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    columns = [c for c in rows[0] if c not in ("step", "seconds")]
    panels = {
        "discriminator": [c for c in columns if c.startswith(("d_", "gp"))],
        "generator": [c for c in columns if c.startswith("g_")],
    }
    panels["other"] = [c for c in columns if not any(c in v for v in panels.values())]
    panels = {k: v for k, v in panels.items() if v}
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3 * len(panels)), sharex=True, squeeze=False)
    for ax, (title, names) in zip(axes[:, 0], panels.items()):
        for name in names:
            ax.plot(steps, [float(r[name]) for r in rows], label=name, linewidth=1)
        ax.set_title(title)
        ax.legend(fontsize="small", ncol=2)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("iteration")
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


METRICS_PLOT = "plots/metrics_vs_iteration.png"  # in the run directory


def metric_family(key: str) -> str:
    """The panel of a metric key: without its domain (``/2``) and ``_shuffled`` suffixes, so a
    score and its shuffled baseline share a panel."""
    return key.split("/", 1)[0].removesuffix("_shuffled")


def plot_metrics(records: Iterable[dict], png_path: str | Path) -> bool:
    """Metric value vs iteration from evaluation records (``utils.records``), one panel per
    ``metric_family``; at an iteration evaluated several times the latest record counts.
    Records without an iteration are left out. Returns False (and draws nothing) when no
    record has one."""
    points: dict[str, dict[int, float]] = {}
    for record in records:
        iteration = record.get("iteration")
        if isinstance(iteration, bool) or not isinstance(iteration, int):
            continue
        points.setdefault(record["metric"], {})[iteration] = float(record["value"])
    if not points:
        return False
    panels: dict[str, list[str]] = {}
    for key in sorted(points):
        panels.setdefault(metric_family(key), []).append(key)
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3 * rows), squeeze=False)
    for ax, (title, keys) in zip(axes.flat, panels.items()):
        for key in keys:
            steps = sorted(points[key])
            ax.plot(steps, [points[key][s] for s in steps], marker="o", markersize=3, linewidth=1, label=key)
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    Path(png_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return True
