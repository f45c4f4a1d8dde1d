"""The README stays a front page that works: short, with the two commands first, and every link to docs/ (and
every heading anchor the docs link to) pointing at something that exists."""

from __future__ import annotations

import re

from tests.conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#([\w-]+))?\)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in markdown.splitlines()
        if line.startswith("#")
    }


def test_the_readme_is_a_front_page_with_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    first_block = readme.split("```")[1]
    assert "make dev" in first_block and "make test" in first_block


def test_every_link_between_the_readme_and_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target, anchor in LINK.findall(page.read_text()):
            path = (page.parent / target).resolve()
            if not path.is_file():
                broken.append(f"{page.name} → {target}")
            elif anchor and anchor not in _anchors(path.read_text()):
                broken.append(f"{page.name} → {target}#{anchor}")
    assert broken == []
    for page in pages[1:]:
        assert page.read_text().split("\n", 3)[2].startswith("What this page is for"), page.name
