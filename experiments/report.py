"""docs/RESULTS.md, built from the study's runs: protocol, commands, tables, the sharing
sweep's figure and a verdict on each of the thesis' claims.

    python -m scogan.experiments report --scale cpu --runs_dir results \\
        --samples_to docs/images/results --out docs/RESULTS.md

Nothing in the file is typed by hand: rerunning the command after more seeds finish
updates every number and verdict.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from scogan.experiments import TABLES, presets_of
from scogan.experiments.verdicts import CLAIMS, judge

# The study of the reproduction issue, in reading order: (table, column pattern or None).
STUDY: list[tuple[str, str | None]] = [
    ("collapse_scan", None), ("table5_1", None), ("table5_2", None), ("table5_2_usps", None),
    ("cogan_sweep", "sweep/*/g?d3"),
]
STUDY_SEEDS = "0,1,2"


def machine() -> str:
    """The processor and core count, as the benchmark and every wall time depend on them."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


def protocol(table: str, scale: str, match: str | None) -> list[str]:
    """The options every column of ``table`` shares at ``scale``, then each column's own."""
    import fnmatch

    presets = [p for p in presets_of(table) if match is None or fnmatch.fnmatchcase(p.name, match)]
    merged = [dict(_pairs(p.arguments(scale))) for p in presets]
    common = {k: v for k, v in merged[0].items() if all(m.get(k, object()) == v for m in merged[1:])}
    lines = ["Options of every column: `" + " ".join(_flag(k, v) for k, v in common.items()) + "`", ""]
    for p, options in zip(presets, merged):
        own = " ".join(_flag(k, v) for k, v in options.items() if k not in common)
        lines.append(f"* {p.column}: `{own or '(none)'}`" + (f", classifier `{p.classifier}`" if p.classifier else ""))
    return lines


def _pairs(arguments: list[str]) -> list[tuple[str, str | None]]:
    pairs, i = [], 0
    while i < len(arguments):
        if i + 1 < len(arguments) and not arguments[i + 1].startswith("--"):
            pairs.append((arguments[i], arguments[i + 1]))
            i += 2
        else:
            pairs.append((arguments[i], None))
            i += 1
    return pairs


def _flag(key: str, value: str | None) -> str:
    return key if value is None else f"{key} {value}"


def build(scale: str, runs_dir: Path, samples_to: Path | None, link_from: Path) -> str:
    from scogan.experiments.__main__ import collapse_check, collect, markdown_table
    from scogan.experiments.plots import plot_sweep

    lines = [f"# Results at {scale} scale, beside the thesis' published numbers", "",
             "Generated from the runs in `" + str(runs_dir) + "` by", "",
             "```", f"python -m scogan.experiments report --scale {scale} --runs_dir {runs_dir}"
             + (f" --samples_to {samples_to}" if samples_to else "") + " --out docs/RESULTS.md", "```", "",
             f"Machine of the last runs: {machine()}. No GPU. Wall times depend on the processor "
             "and on what else ran beside (docs/benchmarks.md).", "",
             "Each study runs with", "", "```",
             *(f"python -m scogan.experiments run {repr(match) if match else table} --scale {scale} --seeds {STUDY_SEEDS} "
               f"--runs_dir {runs_dir} --data_dir DATA" for table, match in STUDY), "```", "",
             "and resumes where it stopped when run again. Cells are mean ± sample standard deviation "
             "over the seeds that finished (n). A column is flagged, and never read as coupling, when its "
             "generators collapsed (a domain's label entropy under 2.5 of 3.32 bits: few digit classes) or "
             "have low recall (varied classes, but a recall under 0.1: the samples miss most of the real "
             "domain; the grid shows whether that is a quality floor or a collapse).",
             "", "## Verdicts on the thesis' claims", "",
             "| Claim | Source | Verdict | Why |", "|---|---|---|---|"]
    everything = [p for table, _ in STUDY for p in presets_of(table)]
    found = collect(everything, scale, runs_dir)
    collapsed = {name: collapse_check(v) for name, v in found.values.items()}
    for claim in CLAIMS:
        verdict, decisions = judge(claim, found.values, collapsed)
        why = "; ".join(f"{c.label()}: {d.reason}" for c, d in decisions)
        lines.append(f"| {claim.text} | {claim.source} | **{verdict}** | {why} |")
    lines += ["", "Rule (experiments/verdicts.py): a comparison holds when the difference of the means is "
              "beyond 2 standard errors in the claimed direction (for \"matches\": within 2), needs "
              "3 seeds a side and no flagged column; beside a low-recall column it gives what the comparison "
              "alone says, as a lead, not a verdict.", ""]
    for table, match in STUDY:
        lines += [f"## {TABLES[table]['title']}", ""]
        if table == "collapse_scan":
            lines += ["What the scan found and the CPU scale it chose: [COLLAPSE_SCAN.md](COLLAPSE_SCAN.md). "
                      "Only the two candidate settings ran 3 seeds.", ""]
        if table == "cogan_sweep":
            figure = (samples_to or runs_dir) / f"sharing_sweep_{scale}.png"
            try:
                plot_sweep(table, scale, runs_dir, figure)
                lines += [f"![sharing sweep]({os.path.relpath(figure, link_from)})", ""]
            except ValueError as error:
                lines += [f"No figure yet: {error}.", ""]
        lines += protocol(table, scale, match) + [""]
        lines.append(markdown_table(table, scale, runs_dir, samples_to, link_from, match=match)
                     .split("\n", 2)[2])  # the table without its title line
    return "\n".join(lines) + "\n"


def write(scale: str, runs_dir: Path, out: Path, samples_to: Path | None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build(scale, runs_dir, samples_to, out.parent))
    return out


__all__ = ["STUDY", "build", "write", "machine"]
