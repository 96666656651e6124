"""Every ``.keras`` file a run writes loads with plain Keras, without this project.

One tiny run per gan type, and three in mixed precision, is trained through ``main.main``
(as a user would). The run's networks are then rebuilt in-project from RUN/config.json and
its last checkpoint, and a fresh Python process, with PYTHONPATH removed and a temporary
folder as its current directory, loads every ``RUN/*.keras`` with ``keras.models.load_model(path)`` alone
(no custom objects, no unsafe deserialization), checks that no module of this project
was imported, and runs each model on fixed inputs. Its outputs must equal the
in-project networks' outputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scogan import main
from tests.conftest import ROOT

TINY = ["--width", "0.0625", "--d_width", "0.0625", "--batch_size", "8", "--iterations", "2", "--log_every", "2",
        "--checkpoint_every", "2", "--images_while_training", "0", "--data_source", "bundled"]

RUNS = {
    "gan": ["--gan_type", "gan"],
    "cogan": [],
    "cogan_resnet": ["--g_arch", "resnet", "--d_arch", "faces"],
    "scogan_cycle": ["--gan_type", "scogan", "--use_cycle"],
    "uda": ["--gan_type", "uda", "--uda_protocol", "full"],
    "classifier": ["--gan_type", "classifier"],
    # mixed precision: the exports keep their layers' (standard) policies and output float32
    "cogan_bf16": ["--precision", "mixed_bfloat16"],
    "scogan_cycle_f16": ["--gan_type", "scogan", "--use_cycle", "--precision", "mixed_float16"],
    "classifier_bf16": ["--gan_type", "classifier", "--precision", "mixed_bfloat16"],
}

EXPECTED = {
    "gan": {"generator1.keras"},
    "cogan": {"generator1.keras", "generator2.keras", "generators.keras"},
    "cogan_resnet": {"generator1.keras", "generator2.keras", "generators.keras"},
    "scogan_cycle": {"generator1.keras", "generator2.keras", "generators.keras", "encoder.keras"},
    "uda": {"generator1.keras", "generator2.keras", "generators.keras",
            "classifier_source.keras", "classifier_target.keras"},
    "classifier": {"classifier.keras"},
    "cogan_bf16": {"generator1.keras", "generator2.keras", "generators.keras"},
    "scogan_cycle_f16": {"generator1.keras", "generator2.keras", "generators.keras", "encoder.keras"},
    "classifier_bf16": {"classifier.keras"},
}

# Run in the fresh process: argv[1] is a JSON list of [model path, inputs .npz, outputs .npz].
LOADER = """
import json, sys
import numpy as np
import keras
root = sys.argv[2]
for path, inputs, outputs in json.loads(sys.argv[1]):
    model = keras.models.load_model(path)
    out = model(np.load(inputs)["x"], training=False)
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    np.savez(outputs, *[np.asarray(o) for o in out])
project = sorted(name for name, module in list(sys.modules.items())
                 if (getattr(module, "__file__", None) or "").startswith(root))
assert not project, f"project modules imported: {project}"
assert not any(p and p.startswith(root) for p in sys.path), sys.path
print("loaded", len(json.loads(sys.argv[1])))
"""


def _in_project(run: Path) -> dict:
    """{file name: (model input, in-project model)} for the run's exports, from its last checkpoint."""
    from scogan.trainers import TRAINERS
    from scogan.utils.run_dir import load_run_config

    config = load_run_config(run)
    task = main.load_task_for(config)
    trainer = TRAINERS.get(config.gan_type)(config, task, run)
    trainer.restore(required=True)
    rng = np.random.default_rng(0)
    z = rng.uniform(-1, 1, (3, config.noise_dim)).astype(np.float32)
    images = rng.uniform(-1, 1, (3, *task.image_shapes[0])).astype(np.float32)
    if config.gan_type == "classifier":
        return {"classifier.keras": (images, trainer.model)}
    models = {f"generator{d}.keras": (z, m) for d, m in enumerate(trainer.generator.domain_models, start=1)}
    if config.gan_type != "gan":
        models["generators.keras"] = (z, trainer.generator.model)
    if getattr(trainer, "encoder", None) is not None:
        models["encoder.keras"] = (images, trainer.encoder)
    if config.gan_type == "uda":
        source, target = trainer.domain_classifiers()
        second = rng.uniform(-1, 1, (3, *task.image_shapes[1])).astype(np.float32)
        models["classifier_source.keras"] = (images, source)
        models["classifier_target.keras"] = (second, target)
    return models


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Per run name: (run dir, {file: in-project outputs}, {file: outputs from the fresh process}, inputs).

    Every run is trained first; then one fresh process loads all their exports (one process
    instead of six saves about 30 s of CPU spent importing TensorFlow)."""
    root = tmp_path_factory.mktemp("exports")
    runs, jobs = {}, []
    for name, extra in RUNS.items():
        run = root / name
        assert main.main([*TINY, *extra, "--dir", str(run)]) == 0
        written = {p.name for p in run.glob("*.keras")}
        models = _in_project(run)
        expected, inputs = {}, {}
        for file, (x, model) in models.items():
            given, outputs = root / f"{name}.{file}.in.npz", root / f"{name}.{file}.out.npz"
            np.savez(given, x=x)
            out = model(x, training=False)
            expected[file] = [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
            inputs[file] = x
            if file in written:
                jobs.append([str(run / file), str(given), str(outputs)])
        runs[name] = (run, written, expected, inputs)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", LOADER, json.dumps(jobs), str(ROOT)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["loaded", str(len(jobs))], done.stdout
    return {name: (run, written, expected, inputs,
                   {file: _outputs(root / f"{name}.{file}.out.npz") for file in written})
            for name, (run, written, expected, inputs) in runs.items()}


def _outputs(path: Path) -> list[np.ndarray]:
    saved = np.load(path)
    return [saved[f"arr_{i}"] for i in range(len(saved.files))]


def test_every_export_loads_with_plain_keras_and_matches(exported):
    # One test over every run, not one per run: the module fixture would otherwise be built
    # again on each pytest-xdist worker (about 50 s each).
    for name in RUNS:
        _check_run(name, *exported[name])


def _check_run(name, run, written, expected, inputs, loaded):
    assert written == EXPECTED[name] == set(expected), name
    for file in written:
        got, want = loaded[file], expected[file]
        assert [g.shape for g in got] == [w.shape for w in want], (name, file)
        for g, w in zip(got, want):
            assert np.all(np.isfinite(w)) and np.allclose(g, w, atol=1e-5), (name, file)
            assert g.dtype == w.dtype == np.float32, (name, file, g.dtype)  # whatever --precision
    if name.startswith("cogan"):  # generators.keras: z (N, noise_dim) -> [images (N, H, W, C) in [-1, 1]] * 2
        config = json.loads((run / "config.json").read_text())
        images = expected["generators.keras"]
        assert inputs["generators.keras"].shape == (3, config["noise_dim"]) and len(images) == 2
        assert all(i.shape == (3, 32, 32, 1) and np.abs(i).max() <= 1 for i in images)
