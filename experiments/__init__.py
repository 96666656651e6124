"""Reproduction presets: every configuration behind the thesis' tables and the CoGAN sweep.

A preset is a named set of command-line options at two scales: ``full`` (the thesis'
nets, iterations and batch size, for GPU users) and ``cpu`` (the same experiment shrunk
to run on 2 CPU cores: narrower nets, smaller images, fewer iterations, and MNIST-M in
place of SVHN, which cannot be obtained offline). Each thesis table lives in its own
small module, with the table's published numbers next to its configurations.

    python -m scogan.experiments list
    python -m scogan.experiments run table5_1/cogan --scale cpu --data_dir DATA
    python -m scogan.experiments table table5_1 --runs_dir runs/experiments > table.md
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scogan.utils.registry import Registry


@dataclass(frozen=True)
class Preset:
    """One training configuration of a thesis table.

    ``options`` are shared by both scales; ``full`` and ``cpu`` override them.
    ``published`` maps a metric name to the thesis' number for this column.
    ``classifier`` names the classifier preset whose output the run needs
    (``--classifier_path``), if any. ``pairs`` maps a scale to the number of generated
    pairs its metrics are evaluated on (the thesis' counts at ``full``); ``num_pairs``
    reads it.
    """

    name: str
    table: str
    column: str
    options: dict[str, object]
    full: dict[str, object] = field(default_factory=dict)
    cpu: dict[str, object] = field(default_factory=dict)
    metrics: tuple[str, ...] = ("lpips",)
    published: dict[str, float] = field(default_factory=dict)
    classifier: str | None = None
    pairs: dict[str, int] = field(default_factory=dict)

    def num_pairs(self, scale: str) -> int | None:
        """Generated pairs per metric at ``scale``; None leaves it to the runner's default."""
        if scale not in ("full", "cpu"):
            raise ValueError(f"unknown scale {scale!r}; valid choices: full, cpu")
        return self.pairs.get(scale)

    def merged(self, scale: str) -> dict[str, object]:
        """The options of this preset at ``scale`` (``full`` or ``cpu``)."""
        if scale not in ("full", "cpu"):
            raise ValueError(f"unknown scale {scale!r}; valid choices: full, cpu")
        return {**self.options, **(self.full if scale == "full" else self.cpu)}

    def option(self, scale: str, name: str) -> object:
        """One option at ``scale`` (None when the preset leaves it to main.py's default)."""
        return self.merged(scale).get(name)

    def arguments(self, scale: str) -> list[str]:
        """The main.py arguments of this preset at ``scale`` (``full`` or ``cpu``): its
        options less those its run would not read (``used_options``)."""
        return to_arguments(used_options(self.merged(scale)))


def used_options(options: dict[str, object]) -> dict[str, object]:
    """``options`` without those main.py would warn are unused in their configuration.

    Presets are built from shared settings (``common.DIGITS`` carries WGAN-GP's
    ``penalty_weight_d``; a DCGAN column switches the penalty off; a source-only
    adaptation run has no generator for ``noise_dim``): passing such an option would only
    print a warning on every run. The applicability table (utils.applicability) decides,
    so a preset and a typed command agree on what is used. Options that are refused
    (errors) are kept, so a wrong preset still fails loudly.
    """
    from scogan.utils import applicability
    from scogan.utils.config import parse_config

    probe = [*to_arguments(options), "--dir", "RUN"]
    unused = {issue.option for issue in applicability.check_applicability(*parse_config(probe))
              if issue.action == applicability.WARNING}
    return {key: value for key, value in options.items() if key not in unused}


def to_arguments(options: dict[str, object]) -> list[str]:
    """main.py arguments for option values by field name (flags for True; False/None left out)."""
    args: list[str] = []
    for key, value in options.items():
        if value is True:
            args.append(f"--{key}")
        elif value is not False and value is not None:
            args += [f"--{key}", str(value)]
    return args


PRESETS: Registry[Preset] = Registry("preset")
TABLES: dict[str, dict[str, object]] = {}
ORDER: list[str] = []  # preset names in registration (thesis column) order


def register(preset: Preset) -> Preset:
    PRESETS.register(preset.name)(preset)
    ORDER.append(preset.name)
    return preset


def presets_of(table: str) -> list[Preset]:
    """The presets of a table, in the thesis' column order."""
    return [PRESETS.get(n) for n in ORDER if PRESETS.get(n).table == table]


def register_table(name: str, title: str, rows: list[tuple[str, str]], note: str = "",
                   published_by: str = "thesis") -> None:
    """A table's layout: rows of (label, metric name); columns are its presets.
    ``published_by`` labels the published numbers in its cells ("thesis", "paper")."""
    TABLES[name] = {"title": title, "rows": rows, "note": note, "published_by": published_by}


# Importing the table modules registers their presets.
from scogan.experiments import (  # noqa: E402,F401
    cogan_sweep,
    collapse_scan,
    domain_adaptation,
    table3_cogan_cyclegan,
    table5_1_mnist2edge,
    table5_2_noisy_digits,
    table5_3_celeba,
    table5_4_cyclegan,
)
