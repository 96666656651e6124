"""Prints the "Command-line options" tables of docs/usage.md from the argparse parser.

    python tools/options_table.py            # print the markdown
    python tools/options_table.py --write    # replace the block between the markers in docs/usage.md

The block sits between ``<!-- options:begin -->`` and ``<!-- options:end -->``;
``tests/test_config.py`` fails when it differs from what this prints, so the docs
cannot drift from ``python main.py --help``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scogan.utils.cli_help import default_text, help_text  # noqa: E402
from scogan.utils.config import build_parser  # noqa: E402

BEGIN, END = "<!-- options:begin -->", "<!-- options:end -->"
OPTIONS_DOC = ROOT / "docs" / "usage.md"


def _default(action: argparse.Action) -> str:
    """`value`, then the gan types' own defaults (``default_text``); — for None (the meaning says)."""
    if isinstance(action, argparse._StoreTrueAction):
        return "flag"
    text = default_text(action)
    if text is None:
        return "—"
    if action.default is None:
        return f"— ({text})"
    return f"`{action.default}`{text[len(str(action.default)):]}"


def options_markdown() -> str:
    """One table per option group, in parser order."""
    parser = build_parser()
    lines: list[str] = []
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings and a.dest != "help"]
        if not actions:
            continue
        lines += [f"**{group.title[0].upper()}{group.title[1:]}**", "", "| option | default | meaning |",
                  "|---|---|---|"]
        for action in actions:
            names = ", ".join(f"`{name}`" for name in action.option_strings)
            meaning = help_text(action).replace("|", "\\|")
            if action.choices:
                meaning += f" Choices: {', '.join(map(str, action.choices))}."
            lines.append(f"| {names} | {_default(action)} | {meaning} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def options_block(text: str) -> str:
    """The markdown between the markers of ``text`` (the contents of OPTIONS_DOC)."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{OPTIONS_DOC.relative_to(ROOT)} has no {BEGIN} ... {END} block")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main() -> None:
    table = options_markdown()
    if "--write" not in sys.argv[1:]:
        print(table, end="")
        return
    path = OPTIONS_DOC
    text = path.read_text()
    options_block(text)  # both markers must be there
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")
    print(f"updated {path}")


if __name__ == "__main__":
    main()
