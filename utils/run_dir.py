"""The run directory: the unit of work (config, checkpoints, samples, logs, metrics).

Besides what the trainers write, the directory holds:

    status.json   what the run is doing or how it ended: ``state`` is training, finished,
                  interrupted, diverged or failed, with the step, a message and the time
    data.json     which data the run read (sources and a fingerprint), checked on --resume
    .lock         an OS file lock held by the one process training or evaluating the run
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from scogan.utils.config import Config

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
DATA_FILE = "data.json"
LOCK_FILE = ".lock"
STATES = ("training", "finished", "interrupted", "diverged", "failed")


class RunDirectoryError(FileExistsError):
    """A run directory that would be overwritten, or one that is not a run."""


def default_run_dir(config: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{stamp}_{config.gan_type}_{config.cogan_data}"


def _contents(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.name != LOCK_FILE]


def make_run_dir(path: Path) -> bool:
    """Create ``path`` (and its parents); True if this call created it. Fails with a message
    when the path or a parent is a file or cannot be written."""
    existed = path.is_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        raise RunDirectoryError(f"cannot use run directory {path}: {blocking} is a file, not a folder") from None
    except OSError as error:
        raise RunDirectoryError(f"cannot write to run directory {path}: {error.strerror or error}") from None
    return not existed


def claim_run_dir(config: Config) -> tuple[Path, RunLock, bool]:
    """The run directory for a new run, created and locked: (path, lock, created).

    Refuses an existing non-empty directory (never overwrites); checked again once the
    lock is held, so two processes started together on one ``--dir`` cannot both run.
    """
    path = Path(config.dir) if config.dir else default_run_dir(config)
    if path.is_dir() and _contents(path):
        raise RunDirectoryError(
            f"run directory {path} already exists and is not empty; pass --resume to continue "
            "it, or choose another --dir"
        )
    created = make_run_dir(path)
    lock = RunLock(path)
    lock.acquire()
    if _contents(path):
        lock.release()
        raise RunDirectoryError(f"run directory {path} was just filled by another process; pass "
                                "--resume to continue it, or choose another --dir")
    return path, lock, created


def remove_unstarted(path: Path, lock: RunLock) -> None:
    """Remove a run directory this process created and never wrote to (setup failed)."""
    lock.release()
    try:
        (path / LOCK_FILE).unlink(missing_ok=True)
        path.rmdir()
    except OSError:
        pass  # something else is in it: leave it


def write_config(path: Path, config: Config) -> Config:
    """Save the configuration (with its ``dir``) as config.json, atomically."""
    path.mkdir(parents=True, exist_ok=True)
    config = config.replace(dir=str(path))
    write_json_atomic(path / CONFIG_FILE, json.loads(config.to_json()))
    return config


def load_run_config(path: str | Path) -> Config:
    """The saved configuration of the run in ``path``; a clear error when there is none or
    it cannot be read. Its ``strategy`` is ``default``: the devices a run trained on are not
    part of it, and a resume, evaluation or inference chooses its own (``--strategy``)."""
    path = Path(path)
    file = path / CONFIG_FILE
    if not path.is_dir():
        raise RunDirectoryError(f"{path} is not a run directory: no such folder")
    if not file.exists():
        raise RunDirectoryError(f"{path} is not a run directory: it has no {CONFIG_FILE}")
    try:
        return Config.load(file).replace(dir=str(path), strategy="default")
    except (ValueError, TypeError, OSError) as error:  # JSONDecodeError is a ValueError
        raise RunDirectoryError(f"{file} is damaged and cannot be read ({error}); restore it from a "
                                "copy, or start a new run") from None


def write_json_atomic(file: Path, value: Any) -> None:
    """Write JSON to ``file`` through a temporary file and a rename, so a crash or a full
    disk never leaves a half-written file behind."""
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(value, indent=2, sort_keys=True))
        os.replace(temporary, file)
    finally:
        temporary.unlink(missing_ok=True)


def write_status(path: str | Path, state: str, step: int, message: str = "", **extra: Any) -> None:
    """Record what the run is doing or how it ended (RUN/status.json)."""
    if state not in STATES:
        raise ValueError(f"unknown run state {state!r}; valid: {', '.join(STATES)}")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    Path(path).mkdir(parents=True, exist_ok=True)
    write_json_atomic(Path(path) / STATUS_FILE,
                      {"state": state, "step": int(step), "message": message, "time": now, **extra})


def read_status(path: str | Path) -> dict[str, Any] | None:
    """RUN/status.json, or None for a run without one (runs from before it existed)."""
    file = Path(path) / STATUS_FILE
    if not file.exists():
        return None
    try:
        return json.loads(file.read_text())
    except ValueError:
        return {"state": "failed", "step": -1, "message": f"{file} is damaged"}


class RunLock:
    """An exclusive OS file lock (``fcntl.flock``) on RUN/.lock, holding the owner's PID.

    The kernel releases it when the process ends, however it ends, so a crash never leaves
    a stale lock.
    """

    def __init__(self, path: str | Path) -> None:
        self.file = Path(path) / LOCK_FILE
        self._handle = None

    def acquire(self) -> RunLock:
        handle = open(self.file, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise RunDirectoryError(f"run directory {self.file.parent} is in use by process {holder} "
                                        "(training or evaluating); wait for it to finish") from None
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
