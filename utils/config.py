"""The run configuration: one immutable dataclass, built once from the command line.

Every field is a command-line option of the same name (``--field_name``), with the
help text kept next to the field. Option names follow the thesis framework so its
users feel at home; its old names are accepted as aliases (``--epochs`` for
``--iterations``, ``--disc_penalty`` for ``--penalty``). Boolean options are real
flags (``--resume``, argparse ``store_true``), so a value cannot be mistaken for "on".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scogan.utils.cli_help import EXAMPLES, HelpFormatter

DATA_DIR_ENV = "COGAN_DATA_DIR"
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras dtype policies (utils.precision)
RESOLVED_KEY = "resolved"  # config.json's record of what the typed options resolved to (utils.resolved)


class ConfigurationError(ValueError):
    """Options that cannot work together (e.g. more shared layers than a net has)."""


def _opt(default: Any, help: str, *, choices: Sequence[str] | None = None,
         aliases: Sequence[str] = (), group: str = "training", type: Any = None,
         nargs: str | None = None, registry: str | None = None, metavar: str | None = None) -> Any:
    """A Config field and its option. ``registry`` ("module:NAME") is the registry of the
    option's valid names; ``{names}`` in ``help`` stands for them (filled in by ``help_text``,
    which imports the registry only when help is shown)."""
    return field(default=default, metadata={
        "help": help, "choices": choices, "aliases": tuple(aliases), "group": group, "type": type,
        "nargs": nargs, "registry": registry, "metavar": metavar,
    })


@dataclass(frozen=True)
class Config:
    """All options of one run. Saved as ``config.json`` in the run directory."""

    # -- what to run -------------------------------------------------------------------------
    gan_type: str = _opt("cogan", "Model to train: gan (one domain), cogan (weight sharing), "
                         "scogan (soft coupling by generator regularisers), classifier (the "
                         "pretrained classifier of the semantic loss / pair class agreement), "
                         "uda (CoGAN domain adaptation, paper Sec. 5: a classifier on the "
                         "discriminators' shared layer learns domain 1's labels, never domain 2's).",
                         choices=("gan", "cogan", "scogan", "classifier", "uda"), group="run")
    mode: str = _opt("train", "train a model, or use the run in --dir: evaluate it, sample "
                     "tuples of images from it, render latent walks (interpolate), or translate "
                     "real images of one domain to the others (translate).",
                     choices=("train", "evaluate", "sample", "interpolate", "translate"), group="run")
    dir: str | None = _opt(None, "Run directory (config, checkpoints, samples, TensorBoard logs, "
                           "metrics). Default for training: runs/<time>_<gan_type>_<cogan_data>. "
                           "An existing non-empty directory is never overwritten: pass --resume "
                           "to continue it.", group="run")
    resume: bool = _opt(False, "Continue the run in --dir from its latest checkpoint, with its "
                        "saved configuration (only --iterations may be raised).", group="run")
    seed: int = _opt(0, "Random seed for weights, noise, data order and dropout.", group="run")
    # -- data --------------------------------------------------------------------------------
    cogan_data: str = _opt("mnist2edge", "The task: the image domains learnt jointly (two for most "
                           "tasks, three for mnist2edge2negative, one folder each for folders; "
                           "--gan_type gan learns one of them). Valid names: {names}.", group="data",
                           registry="scogan.data:TASKS")
    data_dir: str | None = _opt(None, f"Folder holding the raw official files (e.g. "
                                f"DATA_DIR/mnist/train-images-idx3-ubyte.gz) and/or prepared "
                                f"tfds datasets. Default: ${DATA_DIR_ENV}.", group="data")
    data_source: str = _opt("auto", "Where images come from: tfds (prepared or downloadable), "
                            "raw official files under --data_dir, or the MNIST subset bundled "
                            "with the code. auto tries prepared tfds, then raw files; without "
                            "--data_dir and $COGAN_DATA_DIR it goes on to the bundled subset "
                            "(MNIST only), then a tfds download if the network answers.",
                            choices=("auto", "tfds", "raw", "bundled"), group="data")
    cache: str = _opt("auto", "Decode file-backed domains once, not every epoch: into memory, "
                      "or a file in --cache_dir; auto: memory if it fits 1/4 of free memory.",
                      choices=("auto", "memory", "disk", "none"), group="data")
    cache_dir: str | None = _opt(None, "Folder of --cache disk files, shared by runs. Default: "
                                 "$XDG_CACHE_HOME/scogan or ~/.cache/scogan.",
                                 group="data")
    gan_domain: int = _opt(1, "With --gan_type gan: which domain of the task to learn (1-based).",
                           group="data")
    image_size: int | None = _opt(None, "Image height and width (default: the task's own, 32 for "
                                  "digits, 128 for CelebA and CycleGAN pairs).", group="data",
                                  type=int)
    attribute: str = _opt("Smiling", "CelebA attribute splitting the two domains (without, "
                          "with).", group="data", metavar="NAME")
    domain_dirs: tuple[str, ...] | None = _opt(None, "With --cogan_data folders (required there): "
                                               "one folder of images per domain (k >= 2).",
                                               group="data", nargs="+")
    background_dir: str | None = _opt(None, "Folder of colour photos whose random crops are "
                                      "blended with digits to make MNIST-M (default: "
                                      "DATA_DIR/celeba/img_align_celeba).", group="data")
    # -- objective ---------------------------------------------------------------------------
    loss: str = _opt("ce", "Adversarial loss: ce (non-saturating cross-entropy), minimax (the "
                     "saturating original), wgan (Wasserstein; give the critic --penalty wgan-gp or "
                     "clip). Valid names: {names}.", group="objective", registry="scogan.losses:LOSSES")
    penalty: str = _opt("none", "Discriminator penalty: none, wgan-gp (gradient penalty weighted by "
                        "--penalty_weight_d) or clip (weights clipped to +-(--clip)). Valid names: "
                        "{names}.", aliases=("--disc_penalty",), group="objective",
                        registry="scogan.penalties:DISCRIMINATOR_PENALTIES")
    gen_penalty: str = _opt("none", "--gan_type scogan: generator penalty, none or feature (the "
                            "feature regulariser: the sum over K = --shared_layers blocks (default "
                            "3), counted after the projection of z, of the mean squared difference "
                            "of the generators' outputs). Valid names: {names}.",
                            group="objective", registry="scogan.penalties:GENERATOR_PENALTIES")
    penalty_weight_d: float = _opt(10.0, "Weight of the discriminator penalty (WGAN-GP lambda).",
                                   group="objective")
    penalty_weight_g: float = _opt(10.0, "Weight of the generator penalty (thesis alpha_FR).",
                                   group="objective")
    clip: float = _opt(0.01, "Weight-clipping bound for --penalty clip.", group="objective")
    weight_decay: float = _opt(0.0005, "L2 weight decay rate c: adds c * sum(w^2) over kernels "
                               "to each network's loss (the CoGAN digit setting 0.0005; CelebA "
                               "used 0.0001; 0 disables).", group="objective")
    shared_gradient: str = _opt("sum", "How a shared weight combines the domains' gradients: sum "
                                "(gradient of the summed losses, as the CoGAN code does) or mean "
                                "(divided by the number of domains sharing it).",
                                choices=("sum", "mean"), group="objective")
    # -- optimisation ------------------------------------------------------------------------
    batch_size: int = _opt(32, "Images per domain per batch (CoGAN paper: 128); under --strategy, "
                           "the global batch.")
    strategy: str = _opt("default", "Devices: default (one), mirrored (this machine's GPUs) or "
                         "multiworker (TF_CONFIG's machines; needs --dir); docs/distributed.md.",
                         choices=("default", "mirrored", "multiworker"))
    sync_batch_norm: bool = _opt(False, "Under --strategy: BatchNorm statistics of the global batch, "
                                 "not of each replica's rows.")
    iterations: int = _opt(1000, "Generator updates to train for (CoGAN paper: 25000).",
                           aliases=("--epochs",))
    disc_iters: int = _opt(1, "Discriminator updates per generator update (WGAN-GP: 5).")
    jit: bool = _opt(False, "XLA-compile the training step (on CPUs: slower).")
    optim_d: str = _opt("adam", "Discriminator optimizer.", choices=("adam", "rmsprop", "sgd"))
    optim_g: str = _opt("adam", "Generator optimizer.", choices=("adam", "rmsprop", "sgd"))
    # 5e-4, not DCGAN's 2e-4: measured on the default run (mnist2edge, 1,000 iterations at
    # width 0.25), 5e-4 gave pixel agreement 0.904 vs 0.880 shuffled, 2e-4 0.870 vs 0.862.
    lr_d: float = _opt(5e-4, "Discriminator learning rate (with --gan_type classifier the "
                       "classifier's), sized for the short default run; the presets use 2e-4.")
    lr_g: float = _opt(5e-4, "Generator learning rate (and the SCoGAN cycle encoder's).")
    b1: float = _opt(0.5, "Adam's beta_1 (DCGAN: 0.5; WGAN-GP: 0.0), and the momentum of sgd (so "
                     "--optim_* sgd has momentum 0.5 unless --b1 0); rmsprop has neither.")
    b2: float = _opt(0.999, "Adam's beta_2 (DCGAN: 0.999; WGAN-GP: 0.9); sgd and rmsprop have none.")
    precision: str = _opt("float32", "Mixed policies compute layers in 16 bits, keep weights and "
                          "outputs float32; mixed_float16 adds loss scaling (docs/usage.md).",
                          choices=PRECISIONS)
    # -- networks ----------------------------------------------------------------------------
    g_arch: str = _opt("auto", "Generator architecture: auto (the thesis net for the image size: "
                       "digit for 32x32, faces for 64 to 256) or one of {names}.", group="networks",
                       registry="scogan.nets:GENERATORS")
    d_arch: str = _opt("auto", "Discriminator architecture: auto (as --g_arch) or one of {names}.",
                       group="networks", registry="scogan.nets:DISCRIMINATORS")
    shared_layers: int | None = _opt(None, "Generator blocks shared between domains, counted "
                                     "from the input (default: the architecture's, all but the "
                                     "last for digit). With --gan_type scogan nothing is shared "
                                     "and this is K, the blocks after the projection of z that "
                                     "the feature regulariser compares (default 3, as the "
                                     "thesis).", group="networks", type=int)
    d_shared_layers: int | None = _opt(None, "Discriminator blocks shared, counted from the "
                                       "output (default: the architecture's, the last 3 for "
                                       "digit; the thesis' SCoGAN shares nothing).",
                                       group="networks", type=int)
    # 0.125 with a full-width digit D (--d_width): measured on the default run (mnist2edge,
    # 1,000 iterations), pixel agreement 0.921 vs 0.881 shuffled in 4 min 46 s; width 0.25
    # with D at 0.25 too gave 0.904 vs 0.881, and 0.25 with a full D took 7 minutes.
    width: float = _opt(0.125, "Channel multiplier of every layer (the discriminators: see "
                        "--d_width): 1.0 is the thesis size; the default is CPU-sized.",
                        group="networks")
    d_width: float | None = _opt(None, "Channel multiplier of the discriminators only. Default: "
                                 "1.0 (or --width if larger) for the digit and rotate ones "
                                 "(small at the thesis size, cheap on a CPU), else --width.", group="networks", type=float)
    noise_dim: int = _opt(100, "Length of the latent vector z.", group="networks")
    noise_type: str = _opt("uniform", "Distribution of z: uniform in [-1, 1] or standard normal.",
                           choices=("uniform", "normal"), group="networks")
    weight_init: str = _opt("xavier", "Weight initialiser: xavier (Glorot uniform, the CoGAN "
                            "digit setting), normal (N(0, 0.02), DCGAN and CoGAN faces), he.",
                            choices=("normal", "xavier", "he"), group="networks")
    prelu_init: float = _opt(0.25, "Initial PReLU slope.", group="networks")
    upsample: str = _opt("transpose", "Generator upsampling: transpose (fractionally strided "
                         "convolutions, as the thesis) or resize (nearest resize then "
                         "convolution, against checkerboard artefacts).",
                         choices=("transpose", "resize"), group="networks")
    disc_norm: str = _opt("auto", "Normalisation in discriminators that have any: auto (layer "
                          "norm with --penalty wgan-gp, else batch norm), batch, layer, none.",
                          choices=("auto", "batch", "layer", "none"), group="networks")
    # -- SCoGAN regularisers -----------------------------------------------------------------
    semantic_loss: bool = _opt(False, "SCoGAN: add the semantic loss (a pretrained classifier "
                               "must classify both images of a pair alike).", group="scogan")
    semantic_weight: float = _opt(10.0, "Weight of the semantic loss.", group="scogan")
    classifier_path: str | None = _opt(None, "Pretrained classifier (.keras) for the semantic loss, "
                                       "mnist2svhn_pruned and pair class agreement (default: none; "
                                       "--mode evaluate: the run's); with --gan_type classifier, "
                                       "where to save it (default RUN/classifier.keras).",
                                       group="scogan")
    classifier_domains: str = _opt("all", "With --gan_type classifier: train on domain 1 only "
                                   "(1) or on the mixture of all labelled domains (all).",
                                   choices=("1", "all"), group="scogan")
    use_cycle: bool = _opt(False, "SCoGAN: add latent cycle consistency (a jointly trained "
                           "encoder maps each generated image back to z).", group="scogan")
    cycle_weight: float = _opt(10.0, "Weight of the cycle-consistency loss.", group="scogan")
    cycle_distance: str = _opt("l1", "Latent reconstruction error of the cycle loss: l1 (mean "
                               "absolute error, the thesis code, Listing 6.16) or l2 (mean squared "
                               "error, its Equation 4.3).", choices=("l1", "l2"), group="scogan")
    perceptual_loss: bool = _opt(False, "SCoGAN: add the perceptual loss (VGG16 content of the "
                                 "pair must match; Gram style must match each domain's real "
                                 "images).", group="scogan")
    # The thesis' weights (content 1e-3, style 1e-11) were set for Keras' VGG19 on 0-255
    # caffe-style inputs; with the torchvision VGG16 here (ImageNet-standardised inputs)
    # the raw terms are ~16 (content) and ~8e2 (style) at initialisation on MNIST2edge,
    # which those weights would make inert. These defaults make each weighted term ~1 at
    # initialisation, the scale of the adversarial loss, as the thesis' presumably were.
    content_weight: float = _opt(0.05, "Weight of the perceptual content term (thesis alpha; "
                                 "its 1e-3 was for a differently scaled VGG19).", group="scogan")
    style_weight: float = _opt(1e-3, "Weight of the perceptual style term (thesis beta; its "
                               "1e-11 was for a differently scaled VGG19).", group="scogan")
    content_layers: str = _opt("block4_conv2", "Comma-separated VGG16 layers for the content "
                               "term.", group="scogan", metavar="LAYERS")
    style_layers: str = _opt("block1_conv1,block2_conv1,block3_conv1", "Comma-separated VGG16 "
                             "layers for the style term.", group="scogan", metavar="LAYERS")
    # -- unsupervised domain adaptation (--gan_type uda) ---------------------------------------
    uda_protocol: str = _opt("paper", "--gan_type uda training images: paper (the CoGAN paper's "
                             "protocol: a random 2,000 MNIST and 1,800 USPS images, see "
                             "--uda_sample_seed) or full (every training image). Both evaluate "
                             "on the full test sets.", choices=("paper", "full"), group="uda")
    uda_sample_seed: int = _opt(0, "--uda_protocol paper: seed of the random sample, whatever "
                                "--seed (the official configs use 0); the paper's 5 trials each "
                                "drew a new sample.", group="uda")
    uda_class_weight: float = _opt(10.0, "--gan_type uda: weight of the source classification "
                                   "loss in the discriminator loss (the official PyTorch code's "
                                   "cls_weight 10; its Caffe net used 0.5).", group="uda")
    uda_feature_weight: float = _opt(0.01, "--gan_type uda: weight of the squared distance of the "
                                     "discriminators' last hidden features of a fake pair (the "
                                     "official code's mse_weight 0.01; 0: off).", group="uda")
    uda_source_only: bool = _opt(False, "--gan_type uda: the source-only baseline: the same "
                                 "nets trained on the source classification loss alone (no "
                                 "adversarial or feature term, no generator update); the target "
                                 "is classified by the source path.", group="uda")
    # -- outputs -----------------------------------------------------------------------------
    images_while_training: int = _opt(250, "Save a sample grid every this many iterations "
                                      "(0: only at the end).", group="outputs")
    checkpoint_every: int = _opt(500, "Save a checkpoint every this many iterations (and at "
                                 "the end, and when interrupted).", group="outputs")
    # Iterations alone put hours at risk at full width (0.5 it/s there), so time bounds it too.
    checkpoint_minutes: float = _opt(5.0, "Also save a checkpoint when this many minutes have "
                                     "passed since the last one, so a crash loses at most that "
                                     "much work.", group="outputs")
    on_nan: str = _opt("stop", "When a loss, gradient or weight is NaN or infinite: stop "
                       "(exit 3, the run marked diverged) or rollback (restore the last "
                       "checkpoint, scale the learning rates by --nan_lr_factor, go on; at "
                       "most --nan_rollbacks times).",
                       choices=("stop", "rollback"), group="outputs")
    nan_lr_factor: float = _opt(0.5, "With --on_nan rollback: factor applied to the learning "
                                "rates at each rollback.", group="outputs")
    nan_rollbacks: int = _opt(3, "With --on_nan rollback: rollbacks allowed before the run "
                              "stops as diverged.", group="outputs")
    log_every: int = _opt(10, "Log losses to TensorBoard and losses.csv every this many "
                          "iterations.", group="outputs")
    quiet: bool = _opt(False, "Print warnings and errors only: no progress bar, no progress "
                       "messages (the results a mode prints, e.g. the --mode evaluate table, "
                       "still print). Excludes --verbose.", group="outputs")
    verbose: bool = _opt(False, "Also print debug messages (the first step's tracing time, "
                         "checkpoints written, the HParams summary, each checkpoint scored). "
                         "Excludes --quiet.", group="outputs")
    metrics: str = _opt("pixel_agreement", "Comma-separated metrics for --mode evaluate (there, without it: the metrics the run was trained with); a "
                        "classifier run's default is classifier_accuracy, a uda run's "
                        "target_accuracy,source_accuracy. Valid names: {names}.", group="evaluation",
                        registry="scogan.metrics:METRICS", metavar="NAMES")
    num_pairs: int = _opt(10000, "Generated pairs (latent vectors) per metric.", group="evaluation")
    checkpoints: str = _opt("latest", "--mode evaluate: the checkpoints to score, oldest first: "
                            "latest (the newest readable one), all (every kept one), or "
                            "checkpoint numbers, e.g. 500,1000 (ckpt-N holds iteration N), each "
                            "recorded at its iteration (metrics.jsonl, TensorBoard eval/<metric>).", group="evaluation")
    # -- using a trained run (inference/) -----------------------------------------------------
    out: str | None = _opt(None, "Output folder of --mode sample, interpolate and translate "
                           "(required there; created; an existing non-empty folder is refused).",
                           group="inference")
    num: int = _opt(64, "--mode sample: tuples of images to generate (one z each).",
                    group="inference")
    walks: int = _opt(8, "--mode interpolate: latent walks, each between two random z.",
                      group="inference")
    walk_steps: int = _opt(10, "--mode interpolate: images per walk, both ends included.",
                           group="inference")
    interpolation: str = _opt("linear", "--mode interpolate: linear, or slerp (spherical; "
                              "only for runs with --noise_type normal, whose z lie near a "
                              "sphere).", choices=("linear", "slerp"), group="inference")
    inputs: tuple[str, ...] | None = _opt(None, "--mode translate (required there): real images of "
                                          "--from_domain: "
                                          "PNG/JPEG/BMP/GIF files and/or .npz files of uint8 "
                                          "images (N, H, W[, C]).", group="inference", nargs="+")
    from_domain: int = _opt(1, "--mode translate: the domain of --inputs (1-based); the others "
                            "are the outputs.", group="inference")
    translate_loss: str = _opt("l2", "--mode translate: reconstruction loss between G_from(z) "
                               "and the input: l2 (the CoGAN paper's Euclidean loss, mean "
                               "squared pixel difference) or lpips (AlexNet LPIPS plus l2).",
                               choices=("l2", "lpips"), group="inference")
    translate_optimizer: str = _opt("lbfgs", "--mode translate: how z is searched: lbfgs "
                                    "(L-BFGS-B, as the paper; box bounds [-1, 1] for uniform z) "
                                    "or adam (projected onto the bounds).",
                                    choices=("lbfgs", "adam"), group="inference")
    translate_steps: int = _opt(300, "--mode translate: optimizer iterations per start.",
                                group="inference")
    restarts: int = _opt(4, "--mode translate: random starting z per image; the best "
                         "reconstruction is kept.", group="inference")
    translate_lr: float = _opt(0.1, "--mode translate: Adam learning rate (with "
                               "--translate_optimizer adam).", group="inference")

    def __post_init__(self) -> None:
        positive = ("batch_size", "iterations", "disc_iters", "noise_dim", "log_every",
                    "checkpoint_every", "num_pairs")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.images_while_training < 0:
            raise ValueError("--images_while_training must be >= 0")
        # NaN compares false with everything, so finiteness is checked before the bounds.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"--{f.name} must be a finite number, got {value}")
        for name in ("lr_d", "lr_g", "width", "d_width", "clip", "checkpoint_minutes", "nan_lr_factor"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        for name in ("penalty_weight_d", "penalty_weight_g", "weight_decay", "semantic_weight",
                     "cycle_weight", "content_weight", "style_weight", "prelu_init",
                     "uda_class_weight", "uda_feature_weight", "uda_sample_seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name} must be >= 0, got {getattr(self, name)}")
        for name in ("b1", "b2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"--{name} must be in [0, 1), got {getattr(self, name)}")
        if self.nan_lr_factor >= 1:
            raise ValueError(f"--nan_lr_factor must be below 1 (it lowers the learning rates), "
                             f"got {self.nan_lr_factor}")
        if self.nan_rollbacks < 0:
            raise ValueError(f"--nan_rollbacks must be >= 0, got {self.nan_rollbacks}")
        if self.image_size is not None and self.image_size < 1:
            raise ValueError(f"--image_size must be positive, got {self.image_size}")
        if self.gan_domain < 1:
            raise ValueError("--gan_domain is 1-based")
        if self.uda_source_only and self.gan_type != "uda":
            raise ValueError(f"--uda_source_only is the baseline of --gan_type uda (got --gan_type {self.gan_type})")
        if self.quiet and self.verbose:
            raise ValueError("--quiet and --verbose exclude each other; pass one of them")
        checkpoint_selection(self.checkpoints)  # a ValueError naming the malformed entry

    @property
    def resolved_data_dir(self) -> str | None:
        return self.data_dir or os.environ.get(DATA_DIR_ENV) or None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """A saved config.json: its typed options (the ``resolved`` block beside them records
        what they resolved to, ``utils.resolved``, and is not an option)."""
        values = json.loads(Path(path).read_text())
        values.pop(RESOLVED_KEY, None)
        return cls.from_dict(values)


def checkpoint_selection(text: str) -> str | tuple[int, ...]:
    """``--checkpoints`` parsed: ``"latest"``, ``"all"``, or the checkpoint numbers listed
    (``"500,ckpt-1000"`` -> (500, 1000)), sorted and without repeats. ValueError if malformed."""
    value = text.strip()
    if value in ("latest", "all"):
        return value
    numbers = []
    for part in (p.strip() for p in value.split(",")):
        digits = part[len("ckpt-"):] if part.startswith("ckpt-") else part
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(f"--checkpoints takes latest, all, or comma-separated checkpoint numbers "
                             f"(e.g. 500,1000); got {text!r}")
        numbers.append(int(digits))
    return tuple(sorted(set(numbers)))


_GROUP_TITLES = {
    "run": "run", "data": "data", "objective": "losses and penalties",
    "training": "optimisation", "networks": "networks", "scogan": "SCoGAN regularisers",
    "uda": "unsupervised domain adaptation (--gan_type uda)",
    "outputs": "outputs",
    "evaluation": "evaluation",
    "inference": "sampling, latent walks and translation",
}


def _field_type(f: dataclasses.Field) -> Any:
    if f.metadata.get("type") is not None:
        return f.metadata["type"]
    return {"int": int, "float": float}.get(str(f.type), str)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"expected true or false, got {text!r}")
    return lowered == "true"


def field_types() -> dict[str, Any]:
    """Each Config field's converter from text (``"0.5"`` -> 0.5, ``"false"`` -> False), by name.

    For tools that take ``field=value`` pairs (benchmarks); the command line itself uses
    real flags for booleans.
    """
    return {f.name: _boolean if f.type == "bool" else _field_type(f) for f in dataclasses.fields(Config)}


def _metavar(f: dataclasses.Field) -> str | None:
    """Short placeholders keep help on the option's line: N, X, NAME, PATH (choices: listed)."""
    if f.metadata["choices"]:
        return None
    if f.metadata["metavar"]:
        return f.metadata["metavar"]
    if f.metadata["registry"]:
        return "NAME"
    return {int: "N", float: "X"}.get(_field_type(f), "PATH")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of every Config field, grouped, with help and defaults."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        usage="%(prog)s [--mode MODE] [--gan_type TYPE] [--dir RUN] [OPTION ...]",
        description="Train and evaluate GANs, coupled GANs (CoGAN) and soft-coupled GANs (SCoGAN)\n"
        "that learn joint distributions of image domains from unpaired data.",
        epilog=EXAMPLES, formatter_class=HelpFormatter,
    )
    groups = {key: parser.add_argument_group(title) for key, title in _GROUP_TITLES.items()}
    for f in dataclasses.fields(Config):
        group = groups[f.metadata["group"]]
        names = [f"--{f.name}", *f.metadata["aliases"]]
        if f.type == "bool":
            action = group.add_argument(*names, dest=f.name, action="store_true", help=f.metadata["help"])
        else:
            action = group.add_argument(
                *names, dest=f.name, type=_field_type(f), default=f.default, nargs=f.metadata["nargs"],
                choices=f.metadata["choices"], help=f.metadata["help"], metavar=_metavar(f),
            )
        action.registry = f.metadata["registry"]
    return parser


# Defaults that depend on --gan_type, applied to options the user did not give. SCoGAN
# follows the thesis: WGAN loss with gradient penalty and 5 critic updates per generator
# update, with the DCGAN Adam learning rate 2e-4 (beta (0.5, 0.999) and uniform z are
# everyone's defaults).
GAN_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    # Nothing shared between the discriminators either (thesis Sec. 4.1, 5.1: Tables 3.1 and
    # 3.2 "without any shared layers"; its prototype's separate SCoGAN discriminators).
    "scogan": {"loss": "wgan", "penalty": "wgan-gp", "disc_iters": 5, "lr_d": 2e-4, "lr_g": 2e-4,
               "d_shared_layers": 0},
    # The Appendix B classifiers: Adam's usual settings (--optim_d, --lr_d, --b1, --b2).
    "classifier": {"lr_d": 1e-3, "b1": 0.9},
}


def parse_config(argv: Sequence[str] | None = None) -> tuple[Config, set[str]]:
    """Parse the command line into a Config, and the set of options given explicitly.

    Options not given take their defaults, except those ``GAN_TYPE_DEFAULTS`` sets
    for the chosen ``--gan_type``.
    """
    parser = build_parser()
    namespace = parser.parse_args(argv)
    explicit = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    for action in parser._actions:  # same options, no defaults: tells what the user typed
        if action.option_strings and action.dest != "help":
            kwargs = {"dest": action.dest}
            if isinstance(action, argparse._StoreTrueAction):
                kwargs["action"] = "store_true"
            else:
                kwargs["type"] = action.type
                kwargs["nargs"] = action.nargs
            explicit.add_argument(*action.option_strings, **kwargs)
    given = set(vars(explicit.parse_known_args(argv)[0]))
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(namespace).items()}
    for name, value in GAN_TYPE_DEFAULTS.get(values["gan_type"], {}).items():
        if name not in given:
            values[name] = value
    try:
        config = Config(**values)
    except ValueError as error:
        parser.error(str(error))
    return config, given
