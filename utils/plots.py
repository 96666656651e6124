"""The loss plot of a run, drawn from its ``losses.csv``."""

from __future__ import annotations

import csv
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
