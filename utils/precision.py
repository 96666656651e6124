"""Mixed precision (``--precision``): Keras dtype policies set while networks are built, never left set.

``float32`` (the default) computes and stores everything in float32. ``mixed_bfloat16`` and
``mixed_float16`` are Keras' mixed policies: a layer created under one computes in the low
precision (its inputs and kernels cast to bfloat16 / float16 inside ``call``) while its
variables, the optimizer slots and the checkpoints stay float32. A layer keeps the policy
it was created with, so the trainers set the policy only while they build their networks
(``dtype_policy``) and restore the previous one after, even on an error: nothing leaks into
code that builds a model later (tests, metrics, another trainer in the same process).

What stays float32 whatever the policy (``float32_layers`` at their creation): every
network's output block (the generators' image layer, the discriminators' logit layer, the
SCoGAN encoder's z layer, the classifier heads), so images, logits and probabilities are
float32 and every loss, penalty and regulariser is computed in float32 from them; the
frozen VGG16 of the perceptual loss; the classifier the semantic loss and the classifier
metrics judge with (``as_float32``, also for a classifier trained in mixed precision);
dropout (``nets.layers.dropout``: Keras draws the mask in the layer's dtype, so a 16-bit
dropout would draw other masks from the same seed).

Which hardware each pays on (``hardware_warnings``): bfloat16 on an x86 CPU with AVX512_BF16
or AMX (BF16 on Arm), where oneDNN has fast bfloat16 kernels (elsewhere TensorFlow
converts in software, typically no faster than float32; not measured here), or on an
NVIDIA GPU of compute capability 8.0 or more; float16 on a GPU (7.0 or more). On this
project's AMD EPYC (AVX-512 with AVX512_BF16, no AVX512_FP16 or AMX) TensorFlow did not
engage oneDNN for float16 ("oneDNN supports DT_HALF only on platforms with AVX-512",
falling back to Eigen): a 128-channel 3x3 convolution ran 1.3x slower than float32 and a
1024x1024 matmul no faster, while bfloat16 ran both 1.9x faster (with another job on the
machine). Such a choice is warned about, not refused: it still trains, only slower.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import keras

from scogan.utils.config import PRECISIONS

LOW_PRECISION = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 flags; Arm's "Features" name it bf16
# The oldest NVIDIA GPUs with fast kernels: tensor cores for float16, Ampere for bfloat16.
GPU_CAPABILITY = {"mixed_float16": (7, 0), "mixed_bfloat16": (8, 0)}


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; valid choices: {', '.join(PRECISIONS)}")
    return precision


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Keras' global dtype policy set to ``precision`` inside the block, restored on leaving."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(check_precision(precision))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_layers() -> contextlib.AbstractContextManager[None]:
    """Layers created inside compute in float32 (an output block under a mixed policy)."""
    return dtype_policy("float32")


def compute_dtype(model: keras.Model) -> str:
    """The compute dtype of the first layer of ``model`` that has weights (``float32``,
    ``bfloat16`` or ``float16``): what the network mostly computes in."""
    for layer in _layers(model):
        if layer.weights:
            return layer.dtype_policy.compute_dtype
    return model.dtype_policy.compute_dtype


def _layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer of ``model``, nested models' layers included."""
    found = []
    for layer in model.layers:
        found.extend(_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return found


def as_float32(model: keras.Model) -> keras.Model:
    """``model`` itself when every layer computes in float32, else a float32 copy with the same
    weights (for a classifier trained in mixed precision that judges other networks)."""
    if all(layer.dtype_policy.name == "float32" for layer in _layers(model)):
        return model

    def rewrite(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy" and isinstance(node.get("config"), dict):
                return {**node, "config": {**node["config"], "name": "float32"}}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(value) for value in node]
        return node

    config = rewrite(json.loads(json.dumps(model.get_config())))
    with float32_layers():
        copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    copy.trainable = model.trainable
    return copy


def cpu_flags(path: str | Path = "/proc/cpuinfo") -> set[str]:
    """The instruction-set flags of the first processor listed (x86 ``flags``, Arm
    ``Features``; empty where unknown)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")) and ":" in line:
            return set(line.split(":", 1)[1].split())
    return set()


def gpu_capabilities() -> list[tuple[int, int] | None]:
    """Each visible GPU's compute capability (None where TensorFlow does not say)."""
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            capabilities.append(tuple(tf.config.experimental.get_device_details(gpu)["compute_capability"]))
        except (KeyError, TypeError, ValueError):
            capabilities.append(None)
    return capabilities


def hardware_warnings(precision: str, flags: set[str], gpus: list[tuple[int, int] | None]) -> list[str]:
    """Why ``precision`` will be slow on a machine with these CPU ``flags`` and GPU compute
    capabilities (``gpus``, empty for none); empty when it has fast kernels there."""
    check_precision(precision)
    if precision == "float32":
        return []
    wanted = GPU_CAPABILITY[precision]
    if gpus:
        slow = [c for c in gpus if c is not None and c < wanted]
        if slow:
            return [f"--precision {precision}: GPU compute capability {slow[0][0]}.{slow[0][1]} is below "
                    f"{wanted[0]}.{wanted[1]}, which its fast kernels need; expect no speed-up"]
        return []
    if precision == "mixed_float16":
        return ["--precision mixed_float16 on a machine without a GPU: TensorFlow's CPU kernels emulate "
                "float16 (slower than float32, measured 1.3x on a convolution); it is for GPUs. On a CPU "
                "use mixed_bfloat16 if it has AVX512_BF16 or AMX, else float32"]
    if not flags & set(CPU_BF16_FLAGS):
        return ["--precision mixed_bfloat16 on a CPU without AVX512_BF16 or AMX (no avx512_bf16 / amx_bf16 "
                "in /proc/cpuinfo): oneDNN has no fast bfloat16 kernels there, expect no speed-up over float32"]
    return []


def warn_if_slow(precision: str) -> list[str]:
    """``hardware_warnings`` for this machine, each also issued as a ``UserWarning``."""
    import warnings

    messages = [] if precision == "float32" else hardware_warnings(precision, cpu_flags(), gpu_capabilities())
    for message in messages:
        warnings.warn(message, stacklevel=3)
    return messages
