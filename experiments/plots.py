"""Figures of a study: the CoGAN paper's Figure 3 (pixel agreement against shared layers)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from scogan.experiments import Preset, presets_of  # noqa: E402


def sweep_points(table: str, scale: str, runs_dir: Path, metric: str = "pixel_agreement"
                 ) -> dict[tuple[str, int], list[tuple[int, list[float], list[float]]]]:
    """Per curve (task, shared discriminator blocks): (shared generator blocks, the metric
    over the finished seeds, its shuffled-pairs floor over the same seeds), in block order.
    Presets without a finished seed are left out."""
    from scogan.experiments.__main__ import seed_runs
    from scogan.utils.records import latest_values

    curves: dict[tuple[str, int], list[tuple[int, list[float], list[float]]]] = {}
    for preset in presets_of(table):
        found, floor = [], []
        for directory in seed_runs(runs_dir, scale, preset).values():
            values = latest_values(directory) if directory.is_dir() else {}
            if metric in values:
                found.append(values[metric])
                if f"{metric}_shuffled" in values:
                    floor.append(values[f"{metric}_shuffled"])
        if found:
            key = (str(preset.option(scale, "cogan_data")), int(_option(preset, scale, "d_shared_layers")))
            curves.setdefault(key, []).append((int(_option(preset, scale, "shared_layers")), found, floor))
    return {key: sorted(points) for key, points in sorted(curves.items())}


def _option(preset: Preset, scale: str, name: str) -> object:
    value = preset.option(scale, name)
    if value is None:
        raise ValueError(f"preset {preset.name} does not set --{name}; it is not a sharing sweep")
    return value


def _mean_sd(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return mean, sd


def plot_sweep(table: str, scale: str, runs_dir: Path, out: Path, metric: str = "pixel_agreement") -> Path:
    """One panel per task: the metric's mean ± sample sd over seeds against the number of
    shared generator blocks, one curve per discriminator sharing, the shuffled-pairs floor
    dashed. Raises ValueError when no run of the table has finished."""
    curves = sweep_points(table, scale, runs_dir, metric)
    if not curves:
        raise ValueError(f"no finished run of {table} at {scale} scale in {runs_dir}")
    tasks = sorted({task for task, _ in curves})
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for (curve_task, d_shared), points in curves.items():
            if curve_task != task:
                continue
            xs = [x for x, _, _ in points]
            stats = [_mean_sd(v) for _, v, _ in points]
            seeds = sorted({len(v) for _, v, _ in points})
            line = ax.errorbar(xs, [m for m, _ in stats], yerr=[s for _, s in stats], marker="o", capsize=3,
                               label=f"D shares {d_shared} (n={'/'.join(map(str, seeds))} seeds)")
            floors = [(x, _mean_sd(f)[0]) for x, _, f in points if f]
            if floors:
                ax.plot([x for x, _ in floors], [m for _, m in floors], linestyle="--",
                        color=line[0].get_color(), alpha=0.6, label="shuffled pairs")
        ax.set_title(task)
        ax.set_xlabel("shared generator blocks")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_xticks(range(1, 6))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"{table} ({scale} scale): mean ± sd over seeds")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
