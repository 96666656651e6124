"""Evaluation records of a run: RUN/metrics.jsonl, appended to, never rewritten.

Every evaluation appends one JSON line per metric value::

    {"metric": "pixel_agreement", "value": 0.87, "iteration": 400, "checkpoint": "ckpt-400",
     "num_pairs": 3000, "time": "2024-05-01T12:00:00+00:00"}

so a score keeps the iteration, checkpoint and number of pairs it was measured with,
however often the run is evaluated later. RUN/metrics.json is regenerated after every
append as a readable summary, ``{metric: {value, iteration, checkpoint, num_pairs, time}}``
of the latest record of each metric; the JSONL file is the record, the summary a view.
"Latest" is the record of the newest iteration (the most trained networks), and among
records of that iteration the last appended: evaluating an older checkpoint after a newer
one (``--checkpoints``) adds its records without displacing the newer iteration's.

A run evaluated before metrics.jsonl existed has a flat metrics.json
(``{metric: value, ..., "iteration": N, "num_pairs": M}``); its values are read as
records with ``"checkpoint": None`` and copied into metrics.jsonl on the next append,
so they are never lost.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

RECORDS_FILE = "metrics.jsonl"
SUMMARY_FILE = "metrics.json"
FIELDS = ("value", "iteration", "checkpoint", "num_pairs", "time")
_LEGACY_KEYS = ("iteration", "num_pairs")


def append_evaluation(run_dir: str | Path, results: dict[str, float], *, iteration: int,
                      checkpoint: str | None, num_pairs: int) -> None:
    """Append one record per value of ``results`` to RUN/metrics.jsonl and regenerate the
    RUN/metrics.json summary.

    ``iteration``: the training step of the evaluated networks; ``checkpoint``: the name
    of the checkpoint they were restored from (e.g. ``"ckpt-400"``), None if none;
    ``num_pairs``: the generated pairs (or images) per metric. Raises ValueError, writing
    nothing, if a value is not a finite number.
    """
    run_dir = Path(run_dir)
    for metric, value in results.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"metric {metric!r} is {value!r}, not a finite number; nothing was recorded")
    _import_legacy_summary(run_dir)
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    lines = [json.dumps({"metric": metric, "value": float(value), "iteration": int(iteration),
                         "checkpoint": checkpoint, "num_pairs": int(num_pairs), "time": time})
             for metric, value in sorted(results.items())]
    _append_lines(run_dir / RECORDS_FILE, lines)
    _write_summary(run_dir)


def read_records(run_dir: str | Path) -> list[dict]:
    """Every record of RUN/metrics.jsonl, oldest first ([] when there is none).

    A line that is not a complete record (the end of a file cut by a crash) is skipped
    with a warning. Without metrics.jsonl, a flat metrics.json of an older run is read as
    records (``checkpoint`` None, ``time`` the file's modification time).
    """
    run_dir = Path(run_dir)
    path = run_dir / RECORDS_FILE
    if not path.exists():
        return _legacy_records(run_dir)
    records, damaged = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("metric"), str) and "value" in record:
            records.append(record)
        else:
            damaged.append(number)
    if damaged:
        warnings.warn(f"{path}: skipped {len(damaged)} damaged line(s) (line {', '.join(map(str, damaged))}; "
                      "an evaluation cut short, e.g. by a crash)", stacklevel=2)
    return records


def latest_metrics(run_dir: str | Path) -> dict[str, dict]:
    """The latest record of each metric: ``{metric: {value, iteration, checkpoint, num_pairs, time}}``,
    the one of the newest iteration, the last appended among those (a record without an
    iteration counts as older than any with one)."""
    latest: dict[str, dict] = {}
    for record in read_records(run_dir):
        current = latest.get(record["metric"])
        if current is None or _iteration_rank(record) >= _iteration_rank(current):
            latest[record["metric"]] = {field: record.get(field) for field in FIELDS}
    return dict(sorted(latest.items()))


def _iteration_rank(record: dict) -> float:
    iteration = record.get("iteration")
    if isinstance(iteration, bool) or not isinstance(iteration, (int, float)):
        return -math.inf
    return float(iteration)


def latest_values(run_dir: str | Path) -> dict[str, float]:
    """The latest value of each metric."""
    return {metric: entry["value"] for metric, entry in latest_metrics(run_dir).items()}


# -- files ---------------------------------------------------------------------------------------

def _append_lines(path: Path, lines: list[str]) -> None:
    """Append whole lines, starting on a fresh line if a crash left the last one unfinished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab+") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(-1, os.SEEK_END)
            fresh = handle.read(1) == b"\n"
        else:
            fresh = True
        handle.write(("" if fresh else "\n").encode() + "".join(f"{line}\n" for line in lines).encode())
        handle.flush()
        os.fsync(handle.fileno())


def _write_summary(run_dir: Path) -> None:
    """RUN/metrics.json from the records, replaced atomically (never left half-written)."""
    from scogan.utils.run_dir import write_json_atomic

    write_json_atomic(run_dir / SUMMARY_FILE, latest_metrics(run_dir))


def _legacy_summary(run_dir: Path) -> dict | None:
    """A flat metrics.json of a run evaluated before metrics.jsonl, else None."""
    path = run_dir / SUMMARY_FILE
    if (run_dir / RECORDS_FILE).exists() or not path.exists():
        return None
    try:
        summary = json.loads(path.read_text())
    except ValueError:
        warnings.warn(f"{path} is not valid JSON; its values are not read", stacklevel=3)
        return None
    if not isinstance(summary, dict) or any(isinstance(v, dict) for v in summary.values()):
        return None
    return summary


def _legacy_records(run_dir: Path) -> list[dict]:
    summary = _legacy_summary(run_dir)
    if not summary:
        return []
    time = datetime.fromtimestamp((run_dir / SUMMARY_FILE).stat().st_mtime, timezone.utc)
    return [{"metric": metric, "value": value, "iteration": summary.get("iteration"), "checkpoint": None,
             "num_pairs": summary.get("num_pairs"), "time": time.isoformat(timespec="seconds")}
            for metric, value in sorted(summary.items())
            if metric not in _LEGACY_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool)]


def _import_legacy_summary(run_dir: Path) -> None:
    """Copy a flat metrics.json into metrics.jsonl before the summary is regenerated."""
    records = _legacy_records(run_dir)
    if records:
        _append_lines(run_dir / RECORDS_FILE, [json.dumps(record) for record in records])
