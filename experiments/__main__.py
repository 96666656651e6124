"""Run presets and assemble finished runs into thesis-style markdown tables.

    python -m experiments list [TABLE]
    python -m experiments run PRESET [PRESET ...] --scale cpu [--runs_dir runs/experiments] [--data_dir D]
    python -m experiments table TABLE --scale cpu [--runs_dir runs/experiments] [--samples_to docs/images/results --link_from docs]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from experiments import ORDER, PRESETS, TABLES, Preset, presets_of
from utils.records import latest_metrics
from utils.run_dir import read_status


def run_dir_of(runs_dir: Path, scale: str, name: str) -> Path:
    return runs_dir / scale / name


def run_preset(preset: Preset, scale: str, runs_dir: Path, extra: list[str], num_pairs: int = 3000) -> Path:
    """Train (or finish training) and evaluate one preset on ``num_pairs`` pairs; returns
    its run directory. A preset already finished (its ``preset.json`` written) is left as
    it is; ``train_seconds`` there is the training time of the call that finished it."""
    import main

    arguments = preset.arguments(scale)
    if preset.classifier:
        classifier_dir = run_preset(PRESETS.get(preset.classifier), scale, runs_dir, extra, num_pairs)
        arguments += ["--classifier_path", str(classifier_dir / "classifier.keras")]
    run_dir = run_dir_of(runs_dir, scale, preset.name)
    record = run_dir / "preset.json"
    if record.exists():  # trained and evaluated before (e.g. a classifier several presets need)
        return run_dir
    began = time.time()
    status = read_status(run_dir)
    if status is not None and status.get("state") == "diverged":
        code = 3  # diverged before: recorded as such, not retrained on every call
    elif (run_dir / "config.json").exists():
        code = main.main(["--dir", str(run_dir), "--resume", *extra])
    else:
        code = main.main([*arguments, "--dir", str(run_dir), *extra])
    seconds = time.time() - began
    if code == 3:  # a diverged run is a result of the study, and never scored
        status = read_status(run_dir) or {}
        print(f"{preset.name}: diverged at step {status.get('step')}; recorded, not evaluated", file=sys.stderr)
        record.write_text(json.dumps(dict(preset=preset.name, scale=scale, arguments=arguments,
                                          train_seconds=seconds, diverged=status), indent=2))
        return run_dir
    if code:
        raise SystemExit(f"training {preset.name} failed (exit {code})")
    code = main.main(["--mode", "evaluate", "--dir", str(run_dir), "--metrics", ",".join(preset.metrics),
                      "--num_pairs", str(num_pairs), *extra])
    if code:
        raise SystemExit(f"evaluating {preset.name} failed (exit {code})")
    record.write_text(json.dumps(dict(preset=preset.name, scale=scale, arguments=arguments,
                                      train_seconds=seconds), indent=2))
    return run_dir


def markdown_table(table: str, scale: str, runs_dir: Path, samples_to: Path | None = None,
                   link_from: Path = Path(".")) -> str:
    """The table laid out like the thesis': rows are measurements, columns configurations;
    each cell is ``measured (published)``; a row of sample grids follows.

    ``samples_to``: copy each run's final grid there (``<table>_<column>.png``), e.g. into
    the repository's docs, and link the copies by their path relative to ``link_from``.
    """
    layout = TABLES[table]
    presets = presets_of(table)
    header = "| Configuration | " + " | ".join(p.column for p in presets) + " |"
    lines = [f"### {layout['title']} ({scale} scale)", "", header, "|---" * (len(presets) + 1) + "|"]
    records, info = {}, {}
    for p in presets:
        directory = run_dir_of(runs_dir, scale, p.name)
        records[p.name] = latest_metrics(directory)
        info[p.name] = json.loads((directory / "preset.json").read_text()) if (directory / "preset.json").exists() else {}

    def cell(p: Preset, key: str) -> str:
        if info[p.name].get("diverged"):
            return f"diverged (step {info[p.name]['diverged'].get('step')})"
        value = records[p.name].get(key, {}).get("value")
        # The thesis' number only where this scale trains on the thesis' dataset.
        same_data = p.option(scale, "cogan_data") == p.option("full", "cogan_data")
        published = p.published.get(key) if same_data else None
        text = "—" if value is None else f"{value:.4f}"
        return f"{text} ({published:.4f})" if published is not None else text

    for label, key in layout["rows"]:
        lines.append(f"| {label} | " + " | ".join(cell(p, key) for p in presets) + " |")
    keys = [key for _, key in layout["rows"]]
    lines.append("| Iterations | " + " | ".join(iterations(records[p.name], keys) for p in presets) + " |")
    lines.append("| Wall time | " + " | ".join(
        f"{info[p.name]['train_seconds'] / 60:.0f} min" if info[p.name] else "—" for p in presets) + " |")
    links = [sample_link(p, scale, runs_dir, samples_to, link_from) for p in presets]
    lines.append("| Samples | " + " | ".join(
        f"![{p.column}]({link})" if link else "—" for p, link in zip(presets, links)) + " |")
    lines += ["", "Cells: measured here (published in the thesis, where it has the number). " + str(layout["note"]), ""]
    return "\n".join(lines)


def iterations(latest: dict[str, dict], keys: list[str]) -> str:
    """The training iterations at which the table's metrics of one run were measured, newest
    first ("1000 / 800" when they were evaluated at different checkpoints); "—" if none was."""
    found = {latest[key]["iteration"] for key in keys if key in latest and latest[key].get("iteration") is not None}
    return " / ".join(str(i) for i in sorted(found, reverse=True)) or "—"


def sample_link(preset: Preset, scale: str, runs_dir: Path, samples_to: Path | None, link_from: Path) -> str | None:
    """Where the table links the preset's final sample grid (copied to ``samples_to`` if
    given); None when the run has none yet."""
    grid = run_dir_of(runs_dir, scale, preset.name) / "samples" / "final.png"
    if not grid.exists():
        return None
    if samples_to is None:
        return str(grid)
    samples_to.mkdir(parents=True, exist_ok=True)
    copy = samples_to / f"{preset.name.replace('/', '_')}_{scale}.png"
    shutil.copyfile(grid, copy)
    return os.path.relpath(copy, link_from)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list presets (of one table)")
    listing.add_argument("table", nargs="?", help=f"one of {', '.join(TABLES)}")
    runner = sub.add_parser("run", help="train then evaluate presets (a table name runs all its presets)")
    runner.add_argument("presets", nargs="+")
    tabler = sub.add_parser("table", help="markdown table of finished runs")
    tabler.add_argument("table", choices=sorted(TABLES))
    for p in (runner, tabler):
        p.add_argument("--scale", choices=("cpu", "full"), default="cpu")
        p.add_argument("--runs_dir", default="runs/experiments")
    tabler.add_argument("--samples_to", type=Path, default=None,
                        help="copy the runs' final sample grids into this folder and link the copies")
    tabler.add_argument("--link_from", type=Path, default=Path("."),
                        help="folder of the markdown file, for relative links to the copied grids")
    runner.add_argument("--data_dir", default=None, help="passed to main.py")
    runner.add_argument("--num_pairs", type=int, default=3000,
                        help="generated pairs per metric when evaluating (the thesis: 30,000-50,000)")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in ORDER:
            preset = PRESETS.get(name)
            if args.table in (None, preset.table):
                print(f"{name:40s} {' '.join(preset.arguments('full'))}")
        return 0
    runs_dir = Path(args.runs_dir)
    if args.command == "table":
        print(markdown_table(args.table, args.scale, runs_dir, args.samples_to, args.link_from))
        return 0
    extra = ["--data_dir", args.data_dir] if args.data_dir else []
    names = []
    for name in args.presets:
        names += [p.name for p in presets_of(name)] if name in TABLES else [name]
    for name in names:
        run_preset(PRESETS.get(name), args.scale, runs_dir, extra, args.num_pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
