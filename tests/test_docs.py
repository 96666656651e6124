"""The documentation: README.md stays a short guide, and no relative link or image is dangling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 260

# [text](target "title") and ![alt](target); reference definitions "[label]: target";
# HTML src= / href=. Targets with a scheme (https:, mailto:) are not checked.
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
HTML_LINK = re.compile(r"(?:src|href)=\"([^\"]+)\"")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _strip_fences(text: str) -> str:
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code spans (which may wrap a line)."""
    return re.sub(r"(`+)(?:(?!\1)(?:[^\n]|\n(?![ \t]*\n)))+?\1", "", _strip_fences(text))


def relative_links(text: str) -> list[str]:
    """Every link or image target of a markdown text that is not an absolute URL."""
    prose = _prose(text)
    targets = [*INLINE_LINK.findall(prose), *REFERENCE_LINK.findall(prose), *HTML_LINK.findall(prose)]
    return [target for target in targets if not SCHEME.match(target)]


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a markdown text (duplicates get -1, -2, ...)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", _strip_fences(text), flags=re.MULTILINE):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_the_link_checker_finds_links_and_images_but_not_code():
    text = "\n".join([
        "See [usage](docs/usage.md#modes) and ![grid](docs/images/a.png \"a grid\").",
        "[ref]: docs/b.md",
        "A [web page](https://example.org) and `[not](a_link.md)`.",
        "```python", "x = y[0](z)  # [code](c.md)", "```",
        "<img src=\"docs/images/c.png\">",
    ])
    assert relative_links(text) == ["docs/usage.md#modes", "docs/images/a.png", "docs/b.md",
                                    "docs/images/c.png"]
    assert heading_anchors("# Classifiers (`--gan_type classifier`)\n## Data\n## Data\n") == {
        "classifiers---gan_type-classifier", "data", "data-1"}


def test_readme_is_a_short_guide():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_and_image_resolves(path):
    missing = []
    for target in relative_links(path.read_text()):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_file():
            missing.append(f"{target} (no file {resolved})")
        elif anchor and resolved.suffix == ".md" and anchor not in heading_anchors(resolved.read_text()):
            missing.append(f"{target} (no heading #{anchor} in {resolved.relative_to(ROOT)})")
    assert not missing, f"{path.relative_to(ROOT)}: " + "; ".join(missing)
