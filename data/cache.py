"""Decoded images of file-backed domains, cached so training never decodes a file twice.

File-backed domains (CelebA, CycleGAN and other folders, MNIST-M's photo crops when read
as files) otherwise decode, crop and resize every image again in every epoch. ``--cache``:

* ``memory``: every image is decoded once, before training, into a uint8 array; the
  domain then trains exactly as an in-memory dataset (MNIST) does;
* ``disk``: the same array, written once to ``--cache_dir`` as a ``.npy`` file and read
  back memory-mapped (for datasets larger than the memory budget, e.g. full CelebA at
  128x128: 202,599 x 49,152 bytes = 10 GB). The file is keyed by a fingerprint of the
  domain (its files with their sizes and modification times, image shape and decode
  function), so runs of the same data share it, and a changed file makes a new one. It is
  written under a temporary name and renamed when complete, so an interrupted run leaves
  no half-written cache that a later run could read (its temporary file is removed by the
  next run that finds its process gone); a cache file that is damaged or of the wrong shape
  is decoded again, with a warning; a folder without room for it is an error up front;
* ``auto`` (default): ``memory`` when every file-backed domain's decoded size fits the
  budget (``MEMORY_SHARE`` of the memory available when the run starts), else ``disk``;
* ``none``: decode per batch, as before.

Decoding is deterministic (a path maps to one uint8 image; no random augmentation happens
in the data pipeline), and the pipeline draws images by index, so the batches of a run
are identical with or without the cache, and a resumed run skips to the same batch
(tests/test_data_cache.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from scogan.data.sources import DataError
from scogan.data.task import Domain, Task

LOGGER = logging.getLogger("scogan")
MODES = ("auto", "memory", "disk", "none")
MEMORY_SHARE = 0.25  # of the memory available when training starts
DECODE_BATCH = 256
PARTIAL = ".partial-"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/scogan``, else ``~/.cache/scogan``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scogan"


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else the physical size)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def decoded_bytes(domain: Domain) -> int:
    """The size of a domain's images decoded as uint8."""
    return len(domain) * int(np.prod(domain.image_shape))


def choose(mode: str, domains: tuple[Domain, ...], budget: int | None = None) -> str:
    """The cache ``mode`` resolved: ``auto`` becomes ``memory`` when the file-backed domains'
    decoded images fit ``budget`` bytes (default ``MEMORY_SHARE`` of the available memory),
    else ``disk``; ``none`` when no domain is file-backed."""
    if mode not in MODES:
        raise ValueError(f"unknown --cache {mode!r}; valid: {', '.join(MODES)}")
    files = [d for d in domains if d.files is not None]
    if not files or mode == "none":
        return "none"
    if mode != "auto":
        return mode
    budget = int(MEMORY_SHARE * available_memory()) if budget is None else budget
    return "memory" if sum(decoded_bytes(d) for d in files) <= budget else "disk"


def cache_task(task: Task, mode: str, cache_dir: str | Path | None = None, budget: int | None = None) -> Task:
    """``task`` with its file-backed training domains decoded once (see the module docstring).
    Test domains are left as they are (metrics read a few thousand of their images once)."""
    resolved = choose(mode, task.domains, budget)
    if resolved == "none":
        return task
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    if resolved == "disk":
        check_cache_dir(folder)
    domains = tuple(d if d.files is None else _cached(d, resolved, folder) for d in task.domains)
    return dataclasses.replace(task, domains=domains, cache=resolved,
                               cache_dir=str(folder) if resolved == "disk" else None)


def check_cache_dir(folder: Path) -> None:
    """DataError unless ``folder`` can be created and written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{PARTIAL}probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise DataError(f"--cache_dir {folder} cannot be written ({error.strerror or error}); "
                        "pass another --cache_dir, or --cache memory / none") from None


def _cached(domain: Domain, mode: str, folder: Path) -> Domain:
    size = decoded_bytes(domain) / 2 ** 20
    if mode == "memory":
        LOGGER.info("Decoding %d images of %s into memory (%.0f MB, --cache memory)", len(domain), domain.name, size)
        images = np.empty((len(domain), *domain.image_shape), np.uint8)
        _decode_into(domain, images)
    else:
        images = _disk_array(domain, folder, size)
    return dataclasses.replace(domain, images=images, files=None, decode=None)


def _disk_array(domain: Domain, folder: Path, size: float) -> np.ndarray:
    path = folder / f"{domain.name}-{fingerprint(domain)}.npy"
    _remove_orphans(folder)
    expected = (len(domain), *domain.image_shape)
    if path.exists():
        try:
            images = np.load(path, mmap_mode="r")
            if images.shape == expected and images.dtype == np.uint8:
                LOGGER.info("Reading %s's decoded images from %s (--cache disk)", domain.name, path)
                return images
            problem = f"holds {images.dtype} {images.shape}, not {len(domain)} images of {domain.image_shape}"
        except (OSError, ValueError) as error:  # truncated or not a .npy file
            problem = f"cannot be read ({error})"
        LOGGER.warning("The cache %s %s; decoding it again", path, problem)
        path.unlink()
    free = shutil.disk_usage(folder).free
    if free < decoded_bytes(domain):
        raise DataError(f"--cache_dir {folder} has {free / 2 ** 20:.0f} MB free, the decoded images of "
                        f"{domain.name} need {size:.0f} MB; free space, pass another --cache_dir, or "
                        "--cache none")
    LOGGER.info("Decoding %d images of %s into %s (%.0f MB, --cache disk)", len(domain), domain.name, path, size)
    partial = path.with_name(f"{path.name}{PARTIAL}{os.getpid()}")
    array = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=expected)
    try:
        _decode_into(domain, array)
        array.flush()
        del array
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return np.load(path, mmap_mode="r")


def _remove_orphans(folder: Path) -> None:
    """Temporary files of runs whose process is gone (interrupted while decoding)."""
    for partial in folder.glob(f"*{PARTIAL}*"):
        pid = partial.name.rsplit(PARTIAL, 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            partial.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _decode_into(domain: Domain, out: np.ndarray) -> None:
    """Every image of ``domain``, in file order, decoded into ``out`` (N, H, W, C) uint8."""
    decode = domain.decode
    files = tf.data.Dataset.from_tensor_slices(list(domain.files))
    decoded = files.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(DECODE_BATCH)
    start = 0
    try:
        for batch in decoded:
            out[start:start + len(batch)] = batch.numpy()
            start += len(batch)
    except tf.errors.OpError as error:
        from scogan.data.image_files import find_undecodable

        damaged = find_undecodable(domain.files, domain.decode)
        named = f"; damaged file(s): {', '.join(damaged[:5])}" if damaged else ""
        raise DataError(f"decoding the images of {domain.name} before training failed (--cache): "
                        f"{error.message.splitlines()[0][:200]}{named}") from None


def fingerprint(domain: Domain) -> str:
    """A short hash of what decides the decoded images: the files (path, size, mtime), the
    image shape and the decode function (its code and the simple values it closes over)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([domain.name, list(domain.image_shape), _describe(domain.decode)]).encode())
    for name in domain.files:
        try:
            stat = os.stat(name)
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{name}\0missing\n".encode())
    return digest.hexdigest()[:16]


def _describe(function: Callable | None) -> list:
    if function is None:
        return []
    code = getattr(function, "__code__", None)
    cells = []
    for cell in getattr(function, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (int, float, str, bool, tuple)) or value is None:
            cells.append(repr(value))
        elif callable(value):
            cells.append(_describe(value))
    return [getattr(function, "__qualname__", repr(function)),
            hashlib.sha256(code.co_code).hexdigest()[:12] if code else "", cells]
