"""XLA (``--jit``): the training step compiled with ``tf.function(..., jit_compile=True)``.

Every trainer's step compiles as it is: ``tf.random.Generator`` draws, Keras' seeded
dropout, the nested tape of the gradient penalty, the SCoGAN terms, the optimizers'
updates; there are no summaries or data-dependent shapes inside a step. XLA draws other
random numbers than TensorFlow's kernels from the same generator state, so a ``--jit`` run
is a different sample of the same training. What does not compile fails at the first call,
and ``first_call`` turns that into a ``ConfigurationError`` naming the operations and, for
the known cases (``XLA_HINTS``), what to change.
"""

from __future__ import annotations

import re

import tensorflow as tf

from scogan.utils.config import ConfigurationError


def compile_step(function, jit: bool):
    """``function`` as a ``tf.function`` without autograph; XLA-compiled when ``jit``.

    No autograph: the steps use Python control flow only on Python values (domains,
    disc_iters, options), so converting their source bought nothing and cost 4-7 s of
    tracing per run (measured on a 2-iteration run: 26.6 s -> 14.4 s under cProfile).
    """
    return tf.function(function, autograph=False, jit_compile=True if jit else None)


def first_call(step_fn, arguments: tuple, jit: bool):
    """``step_fn(*arguments)``, the call that traces (and with ``jit`` compiles) it: an XLA
    compilation error becomes a ``ConfigurationError`` saying which operations and what to do."""
    try:
        return step_fn(*arguments)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
        if not jit or "XLA" not in error.message:
            raise
        raise ConfigurationError(f"--jit: XLA cannot compile this training step: {xla_failure(error.message)}; "
                                 "run without --jit") from None


def xla_failure(message: str) -> str:
    """What an XLA compilation error says in one line: the operations without an XLA kernel
    and where the first was created, else the error's first line."""
    ops = list(dict.fromkeys(re.findall(r"(\w+) \(No registered '", message)))
    if not ops:
        first = message.strip().splitlines()[0][:300]
        if "deterministic" in message:  # e.g. max pooling's gradient under op determinism
            first += " (TensorFlow's op determinism is on: tf.config.experimental.enable_op_determinism)"
        return first
    lines = [line.strip() for line in message.splitlines()]
    created = []  # the traceback of the first operation, outermost frame first
    if "The op is created at:" in lines:
        for line in lines[lines.index("The op is created at:") + 1:]:
            if not line.startswith("File "):
                break
            created.append(line)
    where = f" (created at {created[-1]})" if created else ""
    hints = [XLA_HINTS[op] for op in ops if op in XLA_HINTS]
    return f"operation(s) {', '.join(ops)} have no XLA kernel{where}" + "".join(f"; {hint}" for hint in hints)


# Operations of this project's steps that XLA cannot compile in some setting, and why.
XLA_HINTS = {
    "MaxPoolGradGrad": "the gradient penalty differentiates max pooling (the digit and rotate "
                       "discriminators) twice, which XLA does in float32 only: with --jit use --precision float32",
}

