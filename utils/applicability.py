"""Options that cannot apply to the command typed: refused or warned about, with the reason.

``check_applicability(config, given)`` runs right after parsing (``main._main``), before
anything is read or created. Only options the user typed (``given``) are checked; a
default never is. ``RULES`` is the table: each rule names an option, the setting in which
it does not apply (every option in ``when`` has one of the listed values), the action
and the reason, and how to fix it.

Error or warning, one rule for all:

* **error** (exit 2, nothing created) when the option is for a different kind of
  command: another ``--mode`` (training options while a saved run is used, evaluation or
  inference options while training), or an option that exists only for another
  ``--gan_type`` or ``--cogan_data`` (``--gan_domain``, ``--classifier_domains``, the
  ``--uda_*`` and SCoGAN regulariser options, ``--attribute``, ``--domain_dirs``,
  ``--background_dir``). Typing one shows the command is not understood as it runs.
* **warning** (stderr, the command goes on) when a general option is not used by this
  configuration: the chosen ``--gan_type`` has no such part (a classifier has no
  generator, so no ``--noise_dim``; a single GAN shares nothing), or another option
  switched the part off (a term's weight without the term, ``--clip`` without
  ``--penalty clip``, Adam's ``--b2`` with sgd). Such options arrive with presets and
  with option lists shared by several runs; refusing them would break those scripts.

With ``--resume`` only the mode rules are checked: the run's saved configuration decides
the rest, and ``main.train`` refuses any option whose value differs from it. Options
whose value alone is invalid (``--uda_source_only`` without ``--gan_type uda``, a negative
weight) are refused by ``Config`` itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scogan.utils.config import Config

ERROR, WARNING = "error", "warning"
ALL_MODES = ("train", "evaluate", "sample", "interpolate", "translate")
RUN_MODES = ("sample", "interpolate", "translate")  # generate from a trained run


@dataclass(frozen=True)
class OneOf:
    """Holds when the option's value is one of ``values``."""

    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        return value in self.values


@dataclass(frozen=True)
class NoneOf:
    """Holds when the option's value is none of ``values``."""

    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        return value not in self.values


def one_of(*values: Any) -> OneOf:
    return OneOf(values)


def none_of(*values: Any) -> NoneOf:
    return NoneOf(values)


@dataclass(frozen=True)
class Rule:
    """``--option`` does not apply when every ``when`` condition holds.

    ``reason`` and ``fix`` are templates formatted with the configuration's fields
    (``{gan_type}``) and ``{it}`` ("it" or, for several options, "them"); mode rules also
    get ``{takes}``, the options the current mode takes.
    """

    option: str
    when: Mapping[str, OneOf | NoneOf]
    action: str
    reason: str
    fix: str

    @property
    def is_mode_rule(self) -> bool:
        return set(self.when) == {"mode"}

    def fires(self, config: Config) -> bool:
        return all(condition.holds(getattr(config, name)) for name, condition in self.when.items())


@dataclass(frozen=True)
class Issue:
    """One typed option that does not apply, and the rule that says why."""

    option: str
    rule: Rule
    reason: str  # formatted, with {it} left in
    fix: str  # formatted, with {it} left in

    @property
    def action(self) -> str:
        return self.rule.action


def _rules(options: Iterable[str], when: Mapping[str, OneOf | NoneOf], action: str, reason: str,
           fix: str) -> list[Rule]:
    return [Rule(option, dict(when), action, reason, fix) for option in options]


# -- which modes read which options --------------------------------------------------------------
# Every Config field not listed is a training option (--mode train only).
MODES: dict[str, tuple[str, ...]] = {
    "mode": ALL_MODES, "dir": ALL_MODES, "data_dir": ALL_MODES, "data_source": ALL_MODES,
    # evaluate scores with the metrics' own fixed seeds; the inference modes draw z from --seed.
    "seed": ("train", *RUN_MODES),
    # evaluate: replaces the run's classifier of the classifier metrics.
    "classifier_path": ("train", "evaluate"),
    "metrics": ("evaluate",), "num_pairs": ("evaluate",),
    "checkpoints": ("evaluate",), "quiet": ALL_MODES, "verbose": ALL_MODES,
    "out": RUN_MODES, "num": ("sample",),
    "walks": ("interpolate",), "walk_steps": ("interpolate",), "interpolation": ("interpolate",),
    **{name: ("translate",) for name in ("inputs", "from_domain", "translate_loss", "translate_optimizer",
                                         "translate_steps", "restarts", "translate_lr")},
}


def modes_of(option: str) -> tuple[str, ...]:
    """The modes that read ``option``."""
    return MODES.get(option, ("train",))


def _mode_rule(option: str) -> Rule:
    modes = modes_of(option)
    if modes == ("train",):
        reason = "--mode {mode} uses the run in --dir with the training options saved in its config.json"
    else:
        reason = f"--mode {{mode}} does not read {{it}} (for --mode {', '.join(modes)})"
    return Rule(option, {"mode": none_of(*modes)}, ERROR, reason, "leave {it} out{takes}")


# -- the table -------------------------------------------------------------------------------------
_SCOGAN_OPTIONS = ("gen_penalty", "penalty_weight_g", "semantic_loss", "semantic_weight", "use_cycle",
                   "cycle_weight", "cycle_distance", "perceptual_loss", "content_weight", "style_weight",
                   "content_layers", "style_layers")
_PERCEPTUAL_OPTIONS = ("content_weight", "style_weight", "content_layers", "style_layers")
# What a classifier run does not have (trainers.classifier: one net of its own, cross-entropy).
_NOT_IN_A_CLASSIFIER = ("loss", "penalty", "penalty_weight_d", "clip", "weight_decay", "shared_gradient",
                        "disc_iters", "optim_g", "lr_g", "g_arch", "d_arch", "shared_layers", "d_shared_layers",
                        "d_width", "noise_dim", "noise_type", "prelu_init", "upsample", "disc_norm",
                        "images_while_training")
# What the source-only baseline does not use (trainers.uda: no generator update, no adversarial term).
_NOT_IN_SOURCE_ONLY = ("loss", "penalty", "penalty_weight_d", "clip", "optim_g", "lr_g", "g_arch",
                       "shared_layers", "noise_dim", "noise_type", "upsample", "uda_feature_weight",
                       "images_while_training")
# Discriminator penalties by what they have (penalties.discriminator; tests check the registry).
PENALTIES_WITHOUT_LOSS = ("none", "clip")  # nothing for --penalty_weight_d to weight
PENALTIES_WITHOUT_CLIPPING = ("none", "wgan-gp")  # nothing for --clip to bound
# Discriminators without a normalisation layer (nets.digit, nets.rotate): --disc_norm has nothing to set.
UNNORMALISED_DISCRIMINATORS = ("digit", "rotate")
_LEAVE_OUT = "leave {it} out"

RULES: list[Rule] = [
    *[_mode_rule(f.name) for f in dataclasses.fields(Config) if modes_of(f.name) != ALL_MODES],
    # -- options of one gan type or task only: errors ---------------------------------------------
    *_rules(["gan_domain"], {"gan_type": none_of("gan")}, ERROR,
            "--gan_type {gan_type} learns every domain of the task; picking one is for --gan_type gan",
            "leave {it} out, or pass --gan_type gan"),
    *_rules(["classifier_domains"], {"gan_type": none_of("classifier")}, ERROR,
            "choosing the training domains is for --gan_type classifier, not --gan_type {gan_type}",
            "leave {it} out, or pass --gan_type classifier"),
    *_rules(["uda_protocol", "uda_sample_seed", "uda_class_weight", "uda_feature_weight"],
            {"gan_type": none_of("uda")}, ERROR,
            "--gan_type {gan_type} does no domain adaptation; the --uda_* options are for --gan_type uda",
            "leave {it} out, or pass --gan_type uda"),
    *_rules(_SCOGAN_OPTIONS, {"gan_type": none_of("scogan")}, ERROR,
            "SCoGAN's regularisers need --gan_type scogan, and --gan_type {gan_type} has none",
            "leave {it} out, or pass --gan_type scogan"),
    *_rules(["attribute"], {"cogan_data": none_of("celeba")}, ERROR,
            "only CelebA is split by an attribute, and --cogan_data is {cogan_data}",
            "leave {it} out, or pass --cogan_data celeba"),
    *_rules(["domain_dirs"], {"cogan_data": none_of("folders")}, ERROR,
            "only --cogan_data folders reads folders of images, and --cogan_data is {cogan_data}",
            "leave {it} out, or pass --cogan_data folders"),
    *_rules(["background_dir"], {"cogan_data": none_of("mnist2mnistm")}, ERROR,
            "only MNIST-M (--cogan_data mnist2mnistm) blends digits with photos, and --cogan_data is "
            "{cogan_data}", "leave {it} out, or pass --cogan_data mnist2mnistm"),
    # -- general options this gan type has no part for: warnings --------------------------------
    *_rules(_NOT_IN_A_CLASSIFIER, {"gan_type": one_of("classifier")}, WARNING,
            "--gan_type classifier trains one classifier net on cross-entropy (thesis Appendix B): no "
            "generator, no discriminator, no adversarial loss, penalty or weight decay; only --optim_d, "
            "--lr_d, --b1, --b2, --width and --weight_init set it", _LEAVE_OUT),
    *_rules(["shared_layers", "d_shared_layers", "shared_gradient"], {"gan_type": one_of("gan")}, WARNING,
            "--gan_type gan trains one GAN, which shares nothing", _LEAVE_OUT),
    *_rules(_NOT_IN_SOURCE_ONLY, {"uda_source_only": one_of(True)}, WARNING,
            "--uda_source_only trains the source classifier alone: no generator update and no adversarial "
            "or feature term", "leave {it} out, or drop --uda_source_only"),
    # -- parts switched off by another option: warnings -------------------------------------------
    *_rules(["penalty_weight_g"], {"gan_type": one_of("scogan"), "gen_penalty": one_of("none")}, WARNING,
            "--gen_penalty is none: there is no generator penalty to weight",
            "leave {it} out, or pass --gen_penalty feature"),
    *_rules(["shared_layers"], {"gan_type": one_of("scogan"), "gen_penalty": one_of("none")}, WARNING,
            "--gan_type scogan shares no generator block; there --shared_layers is K of the feature "
            "regulariser, and --gen_penalty is none", "leave {it} out, or pass --gen_penalty feature"),
    *_rules(["semantic_weight"], {"gan_type": one_of("scogan"), "semantic_loss": one_of(False)}, WARNING,
            "the semantic loss is off (no --semantic_loss)", "leave {it} out, or add --semantic_loss"),
    *_rules(["cycle_weight", "cycle_distance"], {"gan_type": one_of("scogan"), "use_cycle": one_of(False)},
            WARNING, "the cycle-consistency loss is off (no --use_cycle)", "leave {it} out, or add --use_cycle"),
    *_rules(_PERCEPTUAL_OPTIONS, {"gan_type": one_of("scogan"), "perceptual_loss": one_of(False)}, WARNING,
            "the perceptual loss is off (no --perceptual_loss)", "leave {it} out, or add --perceptual_loss"),
    *_rules(["uda_sample_seed"], {"gan_type": one_of("uda"), "uda_protocol": one_of("full")}, WARNING,
            "--uda_protocol full trains on every image; the seed draws the sample of --uda_protocol paper",
            "leave {it} out, or pass --uda_protocol paper"),
    *_rules(["penalty_weight_d"], {"penalty": one_of(*PENALTIES_WITHOUT_LOSS)}, WARNING,
            "--penalty {penalty} adds no loss term for it to weight (wgan-gp does)",
            "leave {it} out, or pass --penalty wgan-gp"),
    *_rules(["cache_dir"], {"cache": one_of("memory", "none")}, WARNING,
            "only --cache disk (or auto, for data too large for memory) writes files, and --cache is {cache}",
            "leave {it} out, or pass --cache disk"),
    *_rules(["clip"], {"penalty": one_of(*PENALTIES_WITHOUT_CLIPPING)}, WARNING,
            "only --penalty clip clips weights, and --penalty is {penalty}",
            "leave {it} out, or pass --penalty clip"),
    *_rules(["shared_gradient"], {"gan_type": one_of("cogan", "uda"), "shared_layers": one_of(0),
                                  "d_shared_layers": one_of(0)}, WARNING,
            "no layer is shared (--shared_layers 0 and --d_shared_layers 0)", _LEAVE_OUT),
    *_rules(["shared_gradient"], {"gan_type": one_of("scogan"), "d_shared_layers": one_of(0, None)}, WARNING,
            "--gan_type scogan shares no generator block, and no discriminator block with "
            "--d_shared_layers 0", "leave {it} out, or pass --d_shared_layers N"),
    # The optimizers (trainers.base.make_optimizer): adam takes b1 and b2, sgd takes b1 as its
    # momentum, rmsprop neither. A classifier and the source-only baseline use --optim_d alone.
    *_rules(["b1"], {"optim_d": one_of("rmsprop"), "optim_g": one_of("rmsprop")}, WARNING,
            "--b1 is Adam's beta_1 and SGD's momentum, and rmsprop has neither", _LEAVE_OUT),
    *_rules(["b1"], {"gan_type": one_of("classifier"), "optim_d": one_of("rmsprop")}, WARNING,
            "--b1 is Adam's beta_1 and SGD's momentum, and the classifier's --optim_d rmsprop has neither",
            _LEAVE_OUT),
    *_rules(["b1"], {"uda_source_only": one_of(True), "optim_d": one_of("rmsprop")}, WARNING,
            "--b1 is Adam's beta_1 and SGD's momentum, and the baseline's --optim_d rmsprop has neither",
            _LEAVE_OUT),
    *_rules(["b2"], {"optim_d": none_of("adam"), "optim_g": none_of("adam")}, WARNING,
            "--b2 is Adam's beta_2, and neither --optim_d nor --optim_g is adam", _LEAVE_OUT),
    *_rules(["b2"], {"gan_type": one_of("classifier"), "optim_d": none_of("adam")}, WARNING,
            "--b2 is Adam's beta_2, and the classifier's --optim_d is {optim_d}", _LEAVE_OUT),
    *_rules(["b2"], {"uda_source_only": one_of(True), "optim_d": none_of("adam")}, WARNING,
            "--b2 is Adam's beta_2, and the baseline's --optim_d is {optim_d}", _LEAVE_OUT),
    *_rules(["nan_lr_factor", "nan_rollbacks"], {"on_nan": one_of("stop")}, WARNING,
            "--on_nan stop never rolls back",
            "leave {it} out, or pass --on_nan rollback"),
    *_rules(["disc_norm"], {"d_arch": one_of(*UNNORMALISED_DISCRIMINATORS)}, WARNING,
            "the {d_arch} discriminator has no normalisation layer", _LEAVE_OUT),
    *_rules(["sync_batch_norm"], {"strategy": one_of("default")}, WARNING,
            "--strategy default trains on one device, whose BatchNorm statistics are already the "
            "whole batch's", "leave {it} out, or pass --strategy mirrored or multiworker"),
    *_rules(["jit"], {"strategy": one_of("mirrored", "multiworker")}, ERROR,
            "an XLA-compiled step cannot run the replicas of --strategy {strategy} yet (each replica's "
            "variables live on its own device)", "leave {it} out, or pass --strategy default"),
    *_rules(["translate_lr"], {"translate_optimizer": one_of("lbfgs")}, WARNING,
            "--translate_optimizer lbfgs (L-BFGS-B) takes no learning rate; adam does",
            "leave {it} out, or pass --translate_optimizer adam"),
]


def rules_of(option: str) -> list[Rule]:
    """The rules of ``option``, its mode rule first."""
    return [rule for rule in RULES if rule.option == option]


class _Fields(dict):
    """Format fields: the configuration's values, ``{takes}`` for mode rules, ``{it}`` kept."""

    def __init__(self, config: Config) -> None:
        super().__init__(dataclasses.asdict(config))
        takes = [f"--{f.name}" for f in dataclasses.fields(Config)
                 if config.mode in modes_of(f.name) and f.name != "mode"]
        self["takes"] = "" if config.mode == "train" else f" (--mode {config.mode} takes {', '.join(takes)})"

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def check_applicability(config: Config, given: Iterable[str]) -> list[Issue]:
    """The typed options that do not apply to ``config``, one issue each, in option order.

    An option in the wrong mode gets its mode rule; otherwise (and not with ``--resume``)
    the first rule that fires, errors before warnings.
    """
    fields = _Fields(config)
    typed = set(given)
    issues = []
    for f in dataclasses.fields(Config):
        if f.name not in typed:
            continue
        rules = rules_of(f.name)
        firing = [rule for rule in rules if rule.is_mode_rule and rule.fires(config)]
        if not firing and not config.resume:
            firing = sorted((rule for rule in rules if not rule.is_mode_rule and rule.fires(config)),
                            key=lambda rule: rule.action != ERROR)
        if firing:
            rule = firing[0]
            issues.append(Issue(f.name, rule, rule.reason.format_map(fields), rule.fix.format_map(fields)))
    return issues


def describe(issues: Iterable[Issue]) -> list[str]:
    """One stderr line per reason, errors first: ``error: --a, --b do not apply: REASON; FIX``."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for issue in issues:
        groups.setdefault((issue.action, issue.reason, issue.fix), []).append(f"--{issue.option}")
    lines = []
    for (action, reason, fix), options in sorted(groups.items(), key=lambda item: item[0][0] != ERROR):
        several = len(options) > 1
        if action == ERROR:
            verb = "do not apply" if several else "does not apply"
        else:
            verb = "are not used" if several else "is not used"
        lines.append(f"{action}: {', '.join(options)} {verb}: {_pronoun(reason, several)}; "
                     f"{_pronoun(fix, several)}")
    return lines


def _pronoun(text: str, several: bool) -> str:
    return text.replace("{it}", "them" if several else "it")
