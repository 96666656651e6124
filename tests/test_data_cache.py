"""Decoded-image cache of file-backed domains (data.cache): same batches, budget, disk files, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from scogan.data import DataOptions, load_task
from scogan.data.cache import PARTIAL, cache_task, choose, decoded_bytes, fingerprint
from scogan.data.pipeline import real_images, training_batches
from scogan.data.sources import DataError
from tests.test_datasets import write_image


def folders(root: Path, n: int = 10, size: int = 16):
    for name in ("a", "b"):
        for i in range(n):
            if not (root / name / f"{i}.png").exists():
                write_image(root / name / f"{i}.png", size=(20 + i, 24))
    return load_task("folders", DataOptions(domain_dirs=(str(root / "a"), str(root / "b")), image_size=size))


def batches(task, start_step=0, steps=4):
    data = training_batches(task.domains, batch_size=4, seed=3, batches_per_step=2, start_step=start_step)
    return [tuple(x.numpy() for x in step) for step in data.take(steps)]


@pytest.mark.parametrize("mode", ["memory", "disk"])
def test_the_batches_are_those_decoded_per_batch_also_when_resuming(tmp_path, mode):
    task = folders(tmp_path / "data")
    cached = cache_task(task, mode, tmp_path / "cache")
    assert all(d.files is None and d.images is not None for d in cached.domains)
    assert isinstance(cached.domains[0].images, np.memmap) == (mode == "disk")
    expected, found = batches(task), batches(cached)
    assert len(found) == 4 and found[0][0].shape == (2, 4, 16, 16, 3)  # three epochs of 10 images drawn
    for want, got in zip(expected, found):
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(batches(task, start_step=3, steps=2)[1], batches(cached, start_step=3, steps=2)[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(real_images(task.domains[1], 5, seed=1), real_images(cached.domains[1], 5, seed=1))


def test_auto_picks_memory_within_the_budget_and_disk_beyond_it(tmp_path):
    task = folders(tmp_path / "data")
    need = sum(decoded_bytes(d) for d in task.domains)
    assert need == 2 * 10 * 16 * 16 * 3
    assert choose("auto", task.domains, budget=need) == "memory"
    assert choose("auto", task.domains, budget=need - 1) == "disk"
    assert cache_task(task, "auto", tmp_path / "c", budget=need).cache == "memory" and task.cache == "none"
    assert choose("memory", task.domains, budget=0) == "memory"  # asked for: the budget only guides auto
    assert choose("none", task.domains) == "none"
    in_memory = cache_task(task, "memory")
    assert choose("disk", in_memory.domains) == "none"  # nothing file-backed is left
    assert cache_task(in_memory, "disk", tmp_path / "unused") is in_memory and not (tmp_path / "unused").exists()
    with pytest.raises(ValueError, match="unknown --cache 'ram'; valid: auto, memory, disk, none"):
        choose("ram", task.domains)


def test_the_disk_cache_is_reused_renewed_when_a_file_changes_and_survives_interruptions(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    dead = cache / f"a-0123.npy{PARTIAL}999999999"  # an interrupted run's half-written file
    dead.write_bytes(b"half")
    mine = cache / f"b-0123.npy{PARTIAL}{os.getpid()}"  # a live process's file in progress
    mine.write_bytes(b"busy")
    task = folders(tmp_path / "data")
    cache_task(task, "disk", cache)
    files = sorted(p.name for p in cache.glob("*.npy"))
    assert files == sorted(f"{d.name}-{fingerprint(d)}.npy" for d in task.domains)
    assert not dead.exists() and mine.exists()
    stamps = {p: p.stat().st_mtime_ns for p in cache.glob("*.npy")}
    before = [fingerprint(d) for d in task.domains]
    cache_task(task, "disk", cache)
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*.npy")} == stamps  # read, not rewritten
    write_image(tmp_path / "data" / "a" / "3.png", size=(31, 24), value=7)
    changed = folders(tmp_path / "data")
    assert [fingerprint(d) for d in changed.domains] != before
    assert fingerprint(changed.domains[0]) != before[0] and fingerprint(changed.domains[1]) == before[1]
    assert (cache_task(changed, "disk", cache).domains[0].images[3] == 7).all()
    assert len(list(cache.glob("*.npy"))) == 3


@pytest.mark.parametrize("damage", ["wrong shape", "truncated"])
def test_a_damaged_cache_file_is_decoded_again(tmp_path, damage):
    task = folders(tmp_path / "data")
    cache = tmp_path / "cache"
    expected = cache_task(task, "memory").domains[0].images
    cache.mkdir()
    path = cache / f"a-{fingerprint(task.domains[0])}.npy"
    if damage == "wrong shape":
        np.save(path, np.zeros((3, 16, 16, 3), np.uint8))
    else:
        np.save(path, expected)
        path.write_bytes(path.read_bytes()[:-100])
    # the scogan logger may not propagate (main configures it), so listen to it directly
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("scogan")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        found = cache_task(task, "disk", cache).domains[0].images
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    np.testing.assert_array_equal(found, expected)
    text = " ".join(r.getMessage() for r in records)
    assert f"The cache {path}" in text and "decoding it again" in text


def test_a_cache_dir_without_room_is_a_clear_error(tmp_path, monkeypatch):
    import shutil

    task = folders(tmp_path / "data")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10 ** 9, 10 ** 9 - 100, 100))
    with pytest.raises(DataError, match="has 0 MB free, the decoded images of a need 0 MB"):
        cache_task(task, "disk", tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.npy*"))


def test_an_unwritable_cache_dir_is_a_clear_error(tmp_path):
    task = folders(tmp_path / "data")
    with pytest.raises(DataError, match="--cache_dir /proc/1/cache cannot be written"):
        cache_task(task, "disk", "/proc/1/cache")


def test_a_run_trains_from_the_disk_cache_and_resumes_with_another_cache_choice(tmp_path, capsys):
    from scogan import main

    folders(tmp_path / "data", n=8, size=32)
    run, cache = tmp_path / "run", tmp_path / "cache"
    common = ["--cogan_data", "folders", "--domain_dirs", str(tmp_path / "data" / "a"), str(tmp_path / "data" / "b"),
              "--image_size", "32", "--g_arch", "digit", "--d_arch", "digit", "--width", "0.0625",
              "--batch_size", "4", "--images_while_training", "0", "--loss", "ce", "--penalty", "none"]
    assert main.main([*common, "--iterations", "2", "--dir", str(run), "--cache", "disk",
                      "--cache_dir", str(cache)]) == 0
    assert len(list(cache.glob("*.npy"))) == 2
    saved = json.loads((run / "config.json").read_text())
    assert (saved["cache"], saved["cache_dir"]) == ("disk", str(cache))
    resolved = json.loads((run / "resolved_config.json").read_text())
    assert (resolved["cache"], resolved["cache_dir"]) == ("disk", str(cache))
    assert main.main(["--dir", str(run), "--resume", "--iterations", "3", "--cache", "none"]) == 0
    assert json.loads((run / "status.json").read_text())["step"] == 3
    assert json.loads((run / "resolved_config.json").read_text())["cache"] == "none"
    capsys.readouterr()
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--cache", "none"]) == 2
    assert "--cache does not apply" in capsys.readouterr().err
