"""Shared fixtures: tiny configurations, the real datasets in ../shared, a small task."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from scogan.utils.config import Config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("COGAN_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The real dataset copies staged beside the repository (as CI has them)."""
    if not (SHARED_DATASETS / "mnist").exists():
        pytest.skip(f"real datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


def tiny_config(**changes) -> Config:
    """A configuration small enough for a CPU test step (a few ms per iteration)."""
    base = dict(width=0.0625, d_width=0.0625, batch_size=8, iterations=4, log_every=2, checkpoint_every=2,
                images_while_training=2, data_source="bundled", num_pairs=64)
    base.update(changes)
    return Config(**base)


@pytest.fixture(scope="session")
def edge_task():
    from scogan.data import DataOptions, load_task

    return load_task("mnist2edge", DataOptions(source="bundled"))


@pytest.fixture
def no_network(monkeypatch):
    """Fail a test that probes the tfds download server (a real probe could start tfds'
    multi-minute retry loop)."""
    from scogan.data import sources

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")
    monkeypatch.setattr(sources, "network_reachable", refuse)


@pytest.fixture
def no_tfds(monkeypatch):
    """No tfds dataset counts as prepared."""
    from scogan.data import sources

    monkeypatch.setattr(sources, "tfds_prepared", lambda name, data_dir: False)


@pytest.fixture
def op_determinism():
    """Deterministic TensorFlow kernels for one test (``_op_determinism_stays_in_its_test``
    switches them off again)."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


@pytest.fixture(autouse=True)
def _op_determinism_stays_in_its_test():
    """Op determinism is process-wide: a test that switched it on must not hand it to the
    worker's later tests (an XLA-compiled step, e.g., has no deterministic MaxPool gradient)."""
    yield
    if "tensorflow" not in sys.modules:
        return
    from tensorflow.python.framework import config as framework_config

    if framework_config.is_op_determinism_enabled():
        framework_config.disable_op_determinism()
