"""Checkpoints that survive damage: fall back to the newest readable one, report a full disk.

``tf.train.CheckpointManager`` trusts its state file (``checkpoints/checkpoint``): with
that file missing or damaged it sees no checkpoint at all, and a truncated newest
checkpoint fails with a raw TensorFlow error although intact older ones sit beside it.
``CheckpointStore`` looks at the files themselves (``ckpt-N.index`` and its data), tries
them newest first, warns naming each one it could not read, and rewrites the state file
to list the readable ones only (the damaged files are left where they are).
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import tensorflow as tf

_NAME = re.compile(r"^ckpt-(\d+)\.index$")


class CheckpointError(RuntimeError):
    """No checkpoint could be read, or one could not be written; the message says which and why."""


class CheckpointStore:
    """A ``tf.train.Checkpoint`` saved under ``directory`` as ``ckpt-<step>``, keeping the newest
    ``max_to_keep``. ``read_only``: restore only, never touch the directory (a multiworker
    non-chief reading the chief's checkpoints)."""

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: str | Path, max_to_keep: int = 3,
                 read_only: bool = False) -> None:
        self.checkpoint = checkpoint
        self.directory = Path(directory)
        self.max_to_keep = max_to_keep
        self.read_only = read_only
        self.manager = None if read_only else self._manager()

    def _manager(self) -> tf.train.CheckpointManager:
        try:
            return tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=self.max_to_keep)
        except (tf.errors.OpError, ValueError):  # a damaged state file: rebuilt from the files
            (self.directory / "checkpoint").unlink(missing_ok=True)
            return tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=self.max_to_keep)

    @property
    def latest(self) -> str | None:
        """The newest checkpoint prefix the state file lists (None before the first save)."""
        return self.manager.latest_checkpoint

    def on_disk(self) -> list[tuple[int, str]]:
        """(step, prefix) of every checkpoint with an index file here, newest first."""
        return checkpoints_in(self.directory)

    def restore_latest(self) -> str | None:
        """Restore the newest readable checkpoint; returns its prefix, or None when there is none.

        A checkpoint that cannot be read is skipped with a warning naming it; raises
        ``CheckpointError`` when checkpoints exist but none can be read.
        """
        candidates = self.on_disk()
        problems = []
        for _, prefix in candidates:
            try:
                self.checkpoint.restore(prefix).assert_existing_objects_matched()
            except Exception as error:  # noqa: BLE001 - TF raises OpError, IndexError, ValueError, ...
                reason = getattr(error, "message", None) or str(error)
                problems.append(f"{prefix} ({reason.splitlines()[0][:200]})")
                continue
            if problems:
                warnings.warn(f"skipped unreadable checkpoint(s): {'; '.join(problems)}; restored "
                              f"{Path(prefix).name} instead", stacklevel=2)
            if self.read_only:
                return prefix
            self._rewrite_state(prefix, [p for _, p in candidates if _step_of(p) <= _step_of(prefix)])
            return prefix
        if problems:
            raise CheckpointError(f"no readable checkpoint in {self.directory}; tried {'; '.join(problems)}")
        return None

    def restore(self, prefix: str) -> None:
        """Restore the checkpoint ``prefix`` (``.../ckpt-<step>``), leaving the state file as it
        is; ``CheckpointError`` naming it when it cannot be read."""
        try:
            self.checkpoint.restore(prefix).assert_existing_objects_matched()
        except Exception as error:  # noqa: BLE001 - as restore_latest
            reason = getattr(error, "message", None) or str(error)
            raise CheckpointError(f"cannot read checkpoint {Path(prefix).name} in {self.directory}: "
                                  f"{reason.splitlines()[0][:200]}") from None

    def _rewrite_state(self, latest: str, older: list[str]) -> None:
        """Point the state file at ``latest`` and list the checkpoints not newer than it (so the
        manager rotates those; an unreadable newer one is left alone until overwritten)."""
        step = _step_of(latest)
        kept = sorted((p for p in older if _step_of(p) <= step), key=_step_of)[-self.max_to_keep:]
        if self.latest == latest and [str(p) for p in self.manager.checkpoints] == kept:
            return
        # The state file is a CheckpointState text proto; the manager rotates the listed paths
        # whose timestamps are newer than last_preserved_timestamp.
        stamps = [Path(f"{p}.index").stat().st_mtime for p in kept]
        lines = [f'model_checkpoint_path: "{Path(latest).name}"']
        lines += [f'all_model_checkpoint_paths: "{Path(p).name}"' for p in kept]
        lines += [f"all_model_checkpoint_timestamps: {t:.6f}" for t in stamps]
        lines.append(f"last_preserved_timestamp: {min(stamps, default=0.0) - 1.0:.6f}")
        (self.directory / "checkpoint").write_text("\n".join(lines) + "\n")
        self.manager = self._manager()

    def save(self, step: int) -> str:
        """Write ``ckpt-<step>``; on failure (a full disk, say) remove the partial files and raise
        ``CheckpointError`` saying the earlier checkpoints are intact."""
        try:
            return self.manager.save(checkpoint_number=step)
        except (tf.errors.OpError, OSError) as error:
            for partial in self.directory.glob(f"ckpt-{step}_temp*"):
                shutil.rmtree(partial, ignore_errors=True) if partial.is_dir() else partial.unlink(missing_ok=True)
            reason = getattr(error, "message", None) or getattr(error, "strerror", None) or str(error)
            earlier = ", ".join(Path(p).name for _, p in self.on_disk() if _step_of(p) != step) or "none"
            raise CheckpointError(
                f"could not write checkpoint ckpt-{step} in {self.directory}: {reason.splitlines()[0][:200]}"
                f" (is the disk full?). Earlier checkpoints are intact ({earlier}); free some space and "
                f"continue with --resume") from None


def checkpoints_in(directory: str | Path) -> list[tuple[int, str]]:
    """(step, prefix) of every checkpoint with an index file in ``directory``, newest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), str(directory / path.name[: -len(".index")])))
    return sorted(found, reverse=True)


def _step_of(prefix: str) -> int:
    return int(Path(prefix).name.rsplit("-", 1)[1])
