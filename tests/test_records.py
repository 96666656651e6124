"""utils.records: evaluations appended to RUN/metrics.jsonl, never relabelled; the summary."""

import json
from datetime import datetime

import pytest

from scogan.utils.records import (
    RECORDS_FILE,
    SUMMARY_FILE,
    append_evaluation,
    latest_metrics,
    latest_values,
    read_records,
)


def test_each_value_is_one_record_with_what_it_was_measured_on(tmp_path):
    append_evaluation(tmp_path, {"pixel_agreement": 0.9, "lpips_gen1_gen2": 0.25}, iteration=400,
                      checkpoint="ckpt-400", num_pairs=3000)
    lines = (tmp_path / RECORDS_FILE).read_text().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[1])
    assert set(record) == {"metric", "value", "iteration", "checkpoint", "num_pairs", "time"}
    assert (record["metric"], record["value"], record["iteration"], record["checkpoint"], record["num_pairs"]) == (
        "pixel_agreement", 0.9, 400, "ckpt-400", 3000)
    assert datetime.fromisoformat(record["time"]).utcoffset().total_seconds() == 0  # ISO 8601, UTC


def test_a_later_evaluation_never_relabels_an_earlier_score(tmp_path):
    append_evaluation(tmp_path, {"pixel_agreement": 0.8, "lpips_gen1_gen2": 0.3}, iteration=800,
                      checkpoint="ckpt-800", num_pairs=3000)
    append_evaluation(tmp_path, {"pixel_agreement": 0.9}, iteration=1000, checkpoint="ckpt-1000", num_pairs=500)
    records = read_records(tmp_path)
    assert [(r["metric"], r["value"], r["iteration"], r["num_pairs"]) for r in records] == [
        ("lpips_gen1_gen2", 0.3, 800, 3000), ("pixel_agreement", 0.8, 800, 3000),
        ("pixel_agreement", 0.9, 1000, 500)]
    latest = latest_metrics(tmp_path)
    assert latest["lpips_gen1_gen2"]["iteration"] == 800 and latest["lpips_gen1_gen2"]["num_pairs"] == 3000
    assert latest["pixel_agreement"]["iteration"] == 1000 and latest["pixel_agreement"]["checkpoint"] == "ckpt-1000"
    assert latest_values(tmp_path) == {"lpips_gen1_gen2": 0.3, "pixel_agreement": 0.9}
    summary = json.loads((tmp_path / SUMMARY_FILE).read_text())
    assert summary == latest
    assert set(summary["pixel_agreement"]) == {"value", "iteration", "checkpoint", "num_pairs", "time"}


def test_a_damaged_trailing_line_is_skipped_with_a_warning(tmp_path):
    append_evaluation(tmp_path, {"pixel_agreement": 0.8}, iteration=2, checkpoint="ckpt-2", num_pairs=50)
    with open(tmp_path / RECORDS_FILE, "a") as handle:
        handle.write('{"metric": "lpips_gen1_gen2", "val')  # a crash mid-write
    with pytest.warns(UserWarning, match=r"skipped 1 damaged line\(s\) \(line 2"):
        assert latest_values(tmp_path) == {"pixel_agreement": 0.8}
    # the next evaluation starts on a fresh line: nothing of it is lost to the damaged one
    with pytest.warns(UserWarning, match="damaged"):
        append_evaluation(tmp_path, {"lpips_gen1_gen2": 0.3}, iteration=4, checkpoint="ckpt-4", num_pairs=50)
    with pytest.warns(UserWarning, match="damaged"):
        assert latest_values(tmp_path) == {"pixel_agreement": 0.8, "lpips_gen1_gen2": 0.3}


def test_non_finite_values_are_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(ValueError, match="'lpips_gen1_gen2' is nan, not a finite number"):
        append_evaluation(tmp_path, {"pixel_agreement": 0.8, "lpips_gen1_gen2": float("nan")}, iteration=2,
                          checkpoint="ckpt-2", num_pairs=50)
    assert not (tmp_path / RECORDS_FILE).exists() and read_records(tmp_path) == []


def test_a_run_without_records_has_none(tmp_path):
    assert read_records(tmp_path) == [] and latest_metrics(tmp_path) == {} and latest_values(tmp_path) == {}


def test_the_flat_metrics_json_of_an_older_run_is_read_and_kept(tmp_path):
    (tmp_path / SUMMARY_FILE).write_text(json.dumps({"pixel_agreement": 0.7, "iteration": 1000, "num_pairs": 3000}))
    assert latest_values(tmp_path) == {"pixel_agreement": 0.7}
    assert latest_metrics(tmp_path)["pixel_agreement"]["iteration"] == 1000
    append_evaluation(tmp_path, {"lpips_gen1_gen2": 0.3}, iteration=1200, checkpoint="ckpt-1200", num_pairs=100)
    records = read_records(tmp_path)
    assert [(r["metric"], r["iteration"], r["checkpoint"]) for r in records] == [
        ("pixel_agreement", 1000, None), ("lpips_gen1_gen2", 1200, "ckpt-1200")]
    assert set(json.loads((tmp_path / SUMMARY_FILE).read_text())) == {"pixel_agreement", "lpips_gen1_gen2"}


def test_the_latest_record_is_the_newest_iteration_not_the_last_appended(tmp_path):
    append_evaluation(tmp_path, {"pixel_agreement": 0.9}, iteration=1000, checkpoint="ckpt-1000", num_pairs=100)
    append_evaluation(tmp_path, {"pixel_agreement": 0.7}, iteration=500, checkpoint="ckpt-500", num_pairs=100)
    assert latest_metrics(tmp_path)["pixel_agreement"]["checkpoint"] == "ckpt-1000"
    assert json.loads((tmp_path / SUMMARY_FILE).read_text())["pixel_agreement"]["value"] == 0.9
    # the same iteration scored again: the later evaluation counts
    append_evaluation(tmp_path, {"pixel_agreement": 0.95}, iteration=1000, checkpoint="ckpt-1000", num_pairs=500)
    assert latest_values(tmp_path) == {"pixel_agreement": 0.95}
    assert [r["iteration"] for r in read_records(tmp_path)] == [1000, 500, 1000]  # every record kept
