"""The README and docs/ stand on their own: every file they link to or name in a path is in the
repository, and none points outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_is_a_file_of_the_repository(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside the repository: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_names_a_path_above_the_repository(page: Path) -> None:
    assert not re.search(r"(?<![\w.])\.\./", page.read_text()), page.name


def test_the_design_the_readme_points_to_is_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()

    assert "(docs/design.md)" in readme
    assert (ROOT / "docs" / "design.md").is_file()
