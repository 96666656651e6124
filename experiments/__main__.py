"""Run presets and assemble finished runs into thesis-style markdown tables.

    python -m scogan.experiments list [TABLE]
    python -m scogan.experiments run PRESET|TABLE [...] --scale cpu --seeds 0,1,2 [--runs_dir runs/experiments] [--data_dir D]
    python -m scogan.experiments table TABLE --scale cpu [--seeds 0,1,2] [--runs_dir runs/experiments] [--samples_to docs/images/results --link_from docs]

Seeds are an axis of every study: each (preset, seed) trains in its own run directory,
RUNS/<scale>/<preset>/seed<N>, and the table reports mean ± standard deviation over the
seeds that finished, with their count. A classifier preset (the measuring instrument of
pair class agreement and the semantic loss) is trained once, at seed 0, in
RUNS/<scale>/<preset>, and serves every seed. A finished run (its preset.json written) is
never redone, an interrupted one is resumed, a diverged one is recorded as such: a study
stopped at any point continues where it stopped when the same command is run again.

A study can span sessions and machines: with ``--runs_dir results`` its runs live in
the repository, where ``results/.gitignore`` keeps only the small files a table is built
from (configuration, status, preset.json, metrics, losses, the final grid, the
instrument classifiers' ``classifier.keras``). Committed, finished runs are never redone
on another clone; a run whose checkpoints did not travel is trained again from the start.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scogan.experiments import ORDER, PRESETS, TABLES, Preset, presets_of
from scogan.experiments.verdicts import COLLAPSED, LOW_RECALL
from scogan.utils.records import latest_metrics
from scogan.utils.run_dir import read_status


def run_dir_of(runs_dir: Path, scale: str, name: str, seed: int | None = None) -> Path:
    """RUNS/<scale>/<preset>, and /seed<N> for a run of one seed."""
    base = runs_dir / scale / name
    return base if seed is None else base / f"seed{seed}"


def is_instrument(preset: Preset) -> bool:
    """A classifier preset: trained once and shared by every seed of the presets that need it."""
    return preset.options.get("gan_type") == "classifier"


def run_preset(preset: Preset, scale: str, runs_dir: Path, extra: list[str], num_pairs: int | None = None,
               seed: int | None = None) -> Path:
    """Train (or finish training) and evaluate one preset at one seed on ``num_pairs`` pairs
    (default: the preset's own count at this scale, else 3,000); returns its run directory.

    A run already finished (its ``preset.json`` written) is left as it is; ``train_seconds``
    there is the training time of the call that finished it. ``seed`` None: the preset's own
    seed, in the run directory without a seed folder (classifier presets always run so).
    """
    from scogan import main

    if is_instrument(preset):
        seed = None
    pairs = num_pairs or preset_pairs(preset, scale)
    arguments = preset.arguments(scale) + (["--seed", str(seed)] if seed is not None else [])
    if preset.classifier:
        classifier_dir = run_preset(PRESETS.get(preset.classifier), scale, runs_dir, extra, num_pairs)
        arguments += ["--classifier_path", str(classifier_dir / "classifier.keras")]
    run_dir = run_dir_of(runs_dir, scale, preset.name, seed)
    record = run_dir / "preset.json"
    if record.exists():  # trained and evaluated before (e.g. a classifier several presets need)
        return run_dir
    began = time.time()
    status = read_status(run_dir)
    if status is not None and status.get("state") == "diverged":
        code = 3  # diverged before: recorded as such, not retrained on every call
    elif (run_dir / "config.json").exists() and not any((run_dir / "checkpoints").glob("ckpt-*.index")):
        # Started but its checkpoints are gone (a study kept in git keeps no checkpoint,
        # see results/.gitignore): nothing to resume from, so it trains again from the start.
        print(f"{preset.name}: {run_dir} has no checkpoint left; training it again", file=sys.stderr)
        shutil.rmtree(run_dir)
        code = main.main([*arguments, "--dir", str(run_dir), *extra])
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
    if code in (130, 143):
        raise SystemExit(f"{preset.name}: interrupted; run the same command again to continue the study")
    if code:
        raise SystemExit(f"training {preset.name} failed (exit {code})")
    code = main.main(["--mode", "evaluate", "--dir", str(run_dir), "--metrics", ",".join(preset.metrics),
                      "--num_pairs", str(pairs), *extra])
    if code:
        raise SystemExit(f"evaluating {preset.name} failed (exit {code})")
    record.write_text(json.dumps(dict(preset=preset.name, scale=scale, seed=seed, arguments=arguments,
                                      train_seconds=seconds, num_pairs=pairs), indent=2))
    return run_dir


DEFAULT_PAIRS = 3000


def preset_pairs(preset: Preset, scale: str) -> int:
    """Generated pairs per metric for a preset at ``scale``: its own count (the thesis' at
    full scale), else ``DEFAULT_PAIRS``."""
    own = preset.num_pairs(scale) if callable(getattr(preset, "num_pairs", None)) else None
    return own or DEFAULT_PAIRS


def seed_runs(runs_dir: Path, scale: str, preset: Preset, seeds: list[int] | None = None) -> dict[int | None, Path]:
    """The run directories of a preset by seed: ``seeds`` if given, else every seed<N> folder
    found; a run without seed folders (a classifier, or an older layout) is seed None."""
    base = run_dir_of(runs_dir, scale, preset.name)
    if seeds is not None and not is_instrument(preset):
        return {s: run_dir_of(runs_dir, scale, preset.name, s) for s in seeds}
    found = sorted(int(p.name[4:]) for p in base.glob("seed*") if p.name[4:].isdigit()) if base.is_dir() else []
    if found and not is_instrument(preset):
        return {s: run_dir_of(runs_dir, scale, preset.name, s) for s in found}
    return {None: base}




# A cell is not read as coupling while its generators are collapsed: label entropy far below
# the real data's (log2 10 = 3.32 bits for digits) or recall near 0 flags the column.
COLLAPSE_ENTROPY_BITS = 2.5
COLLAPSE_RECALL = 0.1


def mean_std(values: list[float]) -> str:
    """``mean ± sd (n=k)``: the sample standard deviation over seeds (none for one value)."""
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.4f} (n=1)"
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.4f} ± {sd:.4f} (n={len(values)})"


def collapse_check(values: dict[str, list[float]]) -> str:
    """"ok", or what the means over seeds say is wrong with the generators; "—" when neither
    label entropy nor recall was measured.

    * ``**collapsed**``: a domain's label entropy is under ``COLLAPSE_ENTROPY_BITS``, the
      generator emits few digit classes (class agreement then says nothing about coupling);
    * ``**low recall**``: the classes are varied but a recall is under ``COLLAPSE_RECALL``, the
      samples miss most of the real domain (at CPU scale: a quality floor as often as a mode
      collapse; the grid tells which).

    Either flag keeps the column from being read as coupling (``experiments.verdicts``).
    """
    entropy, recall, measured = [], [], False
    for key, found in sorted(values.items()):
        mean = sum(found) / len(found)
        if key.startswith("pair_class_entropy/"):
            measured = True
            if mean < COLLAPSE_ENTROPY_BITS:
                entropy.append(f"{key} {mean:.2f} bits")
        elif key.startswith("recall"):
            measured = True
            if mean < COLLAPSE_RECALL:
                recall.append(f"{key} {mean:.3f}")
    if entropy:
        return f"{COLLAPSED}: " + ", ".join(entropy + recall)
    if recall:
        return f"{LOW_RECALL}: " + ", ".join(recall)
    return "ok" if measured else "—"


@dataclass
class Collected:
    """What the finished runs of some presets hold, by preset name: each metric's values over
    seeds, the iterations they come from, training seconds, diverged and finished seeds, and
    the lowest seed's run directory that has a sample grid."""

    values: dict[str, dict[str, list[float]]]
    iterations: dict[str, set[int]]
    seconds: dict[str, list[float]]
    diverged: dict[str, list[str]]
    finished: dict[str, list[int | None]]
    grids: dict[str, Path | None]


def collect(presets: list[Preset], scale: str, runs_dir: Path, keys: list[str] | None = None,
            seeds: list[int] | None = None) -> Collected:
    """The records of ``presets``' runs at ``scale`` (``seeds``, default every seed found);
    ``keys``: the metrics whose iterations are reported (default all)."""
    found = Collected({}, {}, {}, {}, {}, {})
    for p in presets:
        runs = seed_runs(runs_dir, scale, p, seeds)
        found.values[p.name], found.iterations[p.name], found.seconds[p.name] = {}, set(), []
        found.diverged[p.name], found.finished[p.name], found.grids[p.name] = [], [], None
        for seed, directory in runs.items():
            info = json.loads((directory / "preset.json").read_text()) if (directory / "preset.json").exists() else {}
            if info.get("diverged"):
                which = f"seed {seed} " if seed is not None else ""
                found.diverged[p.name].append(f"{which}at step {info['diverged'].get('step')}")
                continue
            latest = latest_metrics(directory)
            for key, record in latest.items():
                found.values[p.name].setdefault(key, []).append(record["value"])
            found.iterations[p.name] |= {latest[k]["iteration"] for k in (keys or latest)
                                         if k in latest and latest[k].get("iteration") is not None}
            if info:
                found.seconds[p.name].append(info["train_seconds"])
            if latest:
                found.finished[p.name].append(seed)
            if found.grids[p.name] is None and (directory / "samples" / "final.png").exists():
                found.grids[p.name] = directory  # runs are in seed order
    return found


def markdown_table(table: str, scale: str, runs_dir: Path, samples_to: Path | None = None,
                   link_from: Path = Path("."), seeds: list[int] | None = None, match: str | None = None) -> str:
    """The table laid out like the thesis': rows are measurements, columns configurations;
    each cell is ``mean ± sd (n=seeds) [thesis: published]`` over the seeds whose runs
    finished; then rows for the collapse check, iterations, wall time, seeds and the
    lowest seed's sample grid.

    ``samples_to``: copy each grid there (``<table>_<column>.png``), e.g. into the
    repository's docs, and link the copies by their path relative to ``link_from``.
    ``match``: only the columns whose preset name matches this shell-style pattern.
    """
    layout = TABLES[table]
    presets = [p for p in presets_of(table) if match is None or fnmatch.fnmatchcase(p.name, match)]
    keys = [key for _, key in layout["rows"]]
    header = "| Configuration | " + " | ".join(p.column for p in presets) + " |"
    lines = [f"### {layout['title']} ({scale} scale)", "", header, "|---" * (len(presets) + 1) + "|"]
    found = collect(presets, scale, runs_dir, keys, seeds)
    values, iterations, seconds = found.values, found.iterations, found.seconds
    diverged, finished, grids = found.diverged, found.finished, found.grids

    def cell(p: Preset, key: str) -> str:
        # The thesis' number only where this scale trains on the thesis' dataset.
        same_data = p.option(scale, "cogan_data") == p.option("full", "cogan_data")
        published = p.published.get(key) if same_data else None
        text = mean_std(values[p.name].get(key, []))
        if diverged[p.name] and not values[p.name].get(key):
            text = f"diverged ({'; '.join(diverged[p.name])})"
        return f"{text} [{layout['published_by']}: {published:.4f}]" if published is not None else text

    for label, key in layout["rows"]:
        lines.append(f"| {label} | " + " | ".join(cell(p, key) for p in presets) + " |")
    lines.append("| Collapse check | " + " | ".join(collapse_check(values[p.name]) for p in presets) + " |")
    lines.append("| Iterations | " + " | ".join(
        " / ".join(str(i) for i in sorted(iterations[p.name], reverse=True)) or "—" for p in presets) + " |")
    lines.append("| Wall time per seed | " + " | ".join(wall_time(seconds[p.name]) for p in presets) + " |")
    lines.append("| Seeds | " + " | ".join(seed_summary(finished[p.name], diverged[p.name]) for p in presets) + " |")
    links = [sample_link(p, scale, grids[p.name], samples_to, link_from) for p in presets]
    lines.append("| Samples (lowest seed) | " + " | ".join(
        f"![{p.column}]({link})" if link else "—" for p, link in zip(presets, links)) + " |")
    lines += ["", "Cells: mean ± sample standard deviation over the seeds that finished (n), [the "
              f"{layout['published_by']}'s number where it has one and this scale uses its dataset]. A column is flagged "
              f"collapsed when a domain's label entropy is below {COLLAPSE_ENTROPY_BITS} bits, low recall when "
              f"its classes are varied but a recall is below {COLLAPSE_RECALL} (the samples miss most of the "
              "real domain); neither is read as coupling. " + str(layout["note"]), ""]
    return "\n".join(lines)


def wall_time(seconds: list[float]) -> str:
    if not seconds:
        return "—"
    mean = sum(seconds) / len(seconds) / 60
    return f"{mean:.0f} min" if len(seconds) == 1 else f"{mean:.0f} min (mean of {len(seconds)})"


def seed_summary(finished: list[int | None], diverged: list[str]) -> str:
    names = ", ".join("—" if s is None else str(s) for s in finished) or "none"
    return names + (f"; diverged: {'; '.join(diverged)}" if diverged else "")


def sample_link(preset: Preset, scale: str, run_dir: Path | None, samples_to: Path | None,
                link_from: Path) -> str | None:
    """Where the table links a run's final sample grid (copied to ``samples_to`` if given);
    None when there is none yet."""
    grid = run_dir / "samples" / "final.png" if run_dir is not None else None
    if grid is None or not grid.exists():
        return None
    if samples_to is None:
        return str(grid)
    samples_to.mkdir(parents=True, exist_ok=True)
    copy = samples_to / f"{preset.name.replace('/', '_')}_{scale}.png"
    shutil.copyfile(grid, copy)
    return os.path.relpath(copy, link_from)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scogan.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list presets (of one table)")
    listing.add_argument("table", nargs="?", help=f"one of {', '.join(TABLES)}")
    runner = sub.add_parser("run", help="train then evaluate presets (a table name runs all its presets)")
    runner.add_argument("presets", nargs="+",
                        help="preset or table names; shell-style patterns (quoted) match preset names, "
                        'e.g. "sweep/*/g?d3"')
    tabler = sub.add_parser("table", help="markdown table of finished runs")
    tabler.add_argument("table", choices=sorted(TABLES))
    plotter = sub.add_parser("plot", help="the sharing sweep as the CoGAN paper's Figure 3, with error bars")
    plotter.add_argument("table", choices=["cogan_sweep"])
    plotter.add_argument("--out", type=Path, required=True, help="PNG file to write")
    reporter = sub.add_parser("report", help="docs/RESULTS.md from the study's runs: tables, figure, verdicts")
    reporter.add_argument("--out", type=Path, required=True, help="markdown file to write")
    reporter.add_argument("--samples_to", type=Path, default=None,
                          help="copy grids and the sweep figure here and link them from --out")
    baseline = sub.add_parser("baseline", help="precision and recall of real test against real training "
                              "images: the ceiling of a generator's (VGG16 features)")
    baseline.add_argument("task", help="a task name, e.g. mnist2mnistm")
    baseline.add_argument("--num_pairs", type=int, default=DEFAULT_PAIRS, help="images per set")
    baseline.add_argument("--data_dir", default=None, help="the datasets' folder (as main.py's)")
    for p in (runner, tabler, plotter, reporter):
        p.add_argument("--scale", choices=("cpu", "full"), default="cpu")
        p.add_argument("--runs_dir", default="runs/experiments")
    tabler.add_argument("--samples_to", type=Path, default=None,
                        help="copy the runs' final sample grids into this folder and link the copies")
    tabler.add_argument("--link_from", type=Path, default=Path("."),
                        help="folder of the markdown file, for relative links to the copied grids")
    runner.add_argument("--data_dir", default=None, help="passed to main.py")
    runner.add_argument("--num_pairs", type=int, default=None,
                        help=f"generated pairs per metric when evaluating (default: the preset's own "
                        f"count at this scale, the thesis' 30,000-50,000 at full scale; else {DEFAULT_PAIRS})")
    for p in (runner, tabler):
        p.add_argument("--seeds", type=seed_list, default=None,
                       help="comma-separated seeds, e.g. 0,1,2 (run: default the preset's own seed; "
                       "table: default every seed found)")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in ORDER:
            preset = PRESETS.get(name)
            if args.table in (None, preset.table):
                print(f"{name:40s} {' '.join(preset.arguments('full'))}")
        return 0
    if args.command == "baseline":
        return real_baseline_command(args.task, args.num_pairs, args.data_dir)
    runs_dir = Path(args.runs_dir)
    if args.command == "table":
        print(markdown_table(args.table, args.scale, runs_dir, args.samples_to, args.link_from, args.seeds))
        return 0
    if args.command == "report":
        from scogan.experiments.report import write

        print(write(args.scale, runs_dir, args.out, args.samples_to))
        return 0
    if args.command == "plot":
        from scogan.experiments.plots import plot_sweep

        try:
            print(plot_sweep(args.table, args.scale, runs_dir, args.out))
        except ValueError as error:
            parser.error(str(error))
        return 0
    extra = ["--data_dir", args.data_dir] if args.data_dir else []
    try:
        names = preset_names(args.presets)
    except ValueError as error:
        parser.error(str(error))
    jobs = [(name, seed) for name in names for seed in (args.seeds or [None])]
    for number, (name, seed) in enumerate(jobs, start=1):
        preset = PRESETS.get(name)
        at = "" if seed is None or is_instrument(preset) else f" seed {seed}"
        print(f"[{number}/{len(jobs)}] {name}{at}", file=sys.stderr, flush=True)
        run_preset(preset, args.scale, runs_dir, extra, args.num_pairs, seed)
    return 0


def real_baseline_command(task_name: str, num: int, data_dir: str | None) -> int:
    """``baseline``: prints the real-vs-real precision and recall of each domain as JSON."""
    from scogan.data import DataOptions, load_task
    from scogan.metrics.precision_recall import real_baseline

    began = time.time()
    task = load_task(task_name, DataOptions(data_dir=data_dir, seed=0))
    results = real_baseline(task, num)
    print(json.dumps({"task": task_name, "num_pairs": num, **{k: round(v, 4) for k, v in results.items()},
                      "seconds": round(time.time() - began, 1)}))
    return 0


def preset_names(selection: list[str]) -> list[str]:
    """Preset names, in registration order within each entry: a table name gives its
    presets, a shell-style pattern (``*``, ``?``, ``[``) the presets it matches, any other
    entry a preset by name. A pattern matching nothing raises ValueError."""
    names: list[str] = []
    for entry in selection:
        if entry in TABLES:
            names += [p.name for p in presets_of(entry)]
        elif any(c in entry for c in "*?["):
            matched = [n for n in ORDER if fnmatch.fnmatchcase(n, entry)]
            if not matched:
                raise ValueError(f"no preset matches {entry!r}; list them with: python -m scogan.experiments list")
            names += matched
        else:
            names.append(entry)
    return names


def seed_list(text: str) -> list[int]:
    """``"0,1,2"`` -> [0, 1, 2] (argparse type)."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected distinct non-negative seeds, got {text!r}")
    return seeds


if __name__ == "__main__":
    sys.exit(main())
