"""How ``python main.py --help`` presents the options of ``utils.config``.

Each option's help is followed by its default, shown once: the value, then the
``--gan_type`` defaults that replace it; a None default is never printed (the help says
what it means). ``{names}`` in a help text is replaced by the valid names of the option's
registry (``_opt(registry="module:NAME")``), imported only when help is shown, so the
list cannot drift from the code and parsing stays free of TensorFlow imports.
"""

from __future__ import annotations

import argparse
import textwrap

EXAMPLES = """\
examples:
  python main.py
      CoGAN on mnist2edge, CPU-sized (a few minutes, offline); prints its run directory
  python main.py --cogan_data horse2zebra --loss wgan --penalty wgan-gp
      CoGAN with WGAN-GP on horse2zebra (tfds downloads it, or pass --data_dir DATA)
  python main.py --gan_type scogan --gen_penalty feature --dir runs/fr
  python main.py --mode evaluate --dir runs/fr --metrics pixel_agreement
      SCoGAN with the feature regulariser, then its scores (appended to runs/fr/metrics.jsonl)

Options that cannot apply to the --mode, --gan_type or task chosen are refused or warned
about. The thesis' configurations: python -m scogan.experiments list
"""


def registry_names(spec: str) -> list[str]:
    """The names in the registry ``spec`` ("module:NAME"), imported on demand."""
    import importlib

    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name).names()


def help_text(action: argparse.Action) -> str:
    """An option's help with its registry's valid names filled in (no default appended)."""
    text = action.help or ""
    spec = getattr(action, "registry", None)
    return text.replace("{names}", ", ".join(registry_names(spec))) if spec else text


def default_text(action: argparse.Action) -> str | None:
    """The option's default as help shows it, with the ``GAN_TYPE_DEFAULTS`` that replace it
    (``0.0005; 0.0002 with --gan_type scogan``); None for none to show: a flag, or a None
    default, whose meaning the help text gives."""
    from scogan.utils.config import GAN_TYPE_DEFAULTS  # config imports this module

    shown = [] if action.default is None or action.default is False else [str(action.default)]
    shown += [f"{values[action.dest]} with --gan_type {gan_type}"
              for gan_type, values in GAN_TYPE_DEFAULTS.items() if action.dest in values]
    return "; ".join(shown) or None


def _with_default(action: argparse.Action) -> str:
    text = help_text(action)
    default = default_text(action) if action.dest != "help" else None
    if default is None:
        return text
    # A None default is explained by the text; only the gan types' own defaults follow it.
    return f"{text} ({default})" if action.default is None else f"{text} (default: {default})"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help texts wrapped and followed by their default, shown once (``default_text``);
    registry names filled in; the epilog's examples kept as written."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)

    def _expand_help(self, action: argparse.Action) -> str:
        return _with_default(action)

    def _split_lines(self, text: str, width: int) -> list[str]:
        # Never at a hyphen: names such as wgan-gp stay whole.
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)
