"""Every relative link of README.md and docs/*.md names a file of the repository, and a
`#fragment` names a heading of its target, slugged as GitHub slugs headings. Links with a
scheme (https:, mailto:) are not followed."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title") and ![alt](target); the text may hold one level of brackets.
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[^)]*)?\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_HTML_ANCHOR = re.compile(r"""<a\s[^>]*(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0] * len(opened.group(1))
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text as rendered (code spans keep their content,
    links their text, tags go), lower-cased, punctuation but `-` and `_` dropped, each space
    a `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor a Markdown file offers: its headings' slugs (a repeated slug gets `-1`,
    `-2`, ... as on GitHub) and explicit `<a name=...>` / `id=...` anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        found.update(_HTML_ANCHOR.findall(line))
        heading = _HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def links(path: Path) -> list[tuple[int, str]]:
    """The link targets of a Markdown file, outside code, with their line numbers."""
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        line = _CODE_SPAN.sub("", line)
        targets = [m.group(1) for m in _INLINE_LINK.finditer(line)]
        reference = _REFERENCE.match(line)
        if reference:
            targets.append(reference.group(1))
        found += [(number, target.strip("<>")) for target in targets]
    return found


def broken(path: Path, target: str, root: Path = ROOT) -> str | None:
    """Why a link target of `path` is broken, or None when it is sound."""
    if _SCHEME.match(target):
        return None  # external (https:, mailto:): not checked
    file_part, _, fragment = target.partition("#")
    destination = (path.parent / unquote(file_part)).resolve() if file_part else path
    if not destination.is_relative_to(root):
        return "points outside the repository"
    if not destination.exists():
        return "names no file"
    if fragment:
        if destination.suffix.lower() != ".md" or not destination.is_file():
            return f"has a fragment, but {destination.name} has no headings"
        if unquote(fragment) not in anchors(destination):
            return f"#{fragment} is no heading of {destination.relative_to(root)}"
    return None


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_a_file_and_a_heading(path):
    problems = [
        f"{path.relative_to(ROOT)}:{number}: ({target}) {why}"
        for number, target in links(path)
        if (why := broken(path, target))
    ]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_documents_have_links_to_check():
    assert (ROOT / "docs").is_dir()
    assert any(links(path) for path in DOCUMENTS)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Studio domains, user profiles and spaces", "studio-domains-user-profiles-and-spaces"),
        ("`--resolve`", "--resolve"),
        ("`mock_sagemaker_images`", "mock_sagemaker_images"),
        ("The export format (version 2)", "the-export-format-version-2"),
        ("2026-11-30: PostgreSQL beside SQLite", "2026-11-30-postgresql-beside-sqlite"),
        ("A [linked](other.md) heading", "a-linked-heading"),
        ("Fast — or not?", "fast--or-not"),
    ],
)
def test_slugs_follow_github(heading, anchor):
    assert slug(heading) == anchor


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "guide.md").write_text("# A guide\n\n## Setting up\n\n## Setting up\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](guide.md#setting-up) [again](guide.md#setting-up-1) [here](#top)\n"
        "[gone](missing.md) [no heading](guide.md#nowhere) [out](../shared/x.md)\n"
        "`[code](ignored.md)` [web](https://example.com/missing.md)\n"
        "```\n[fenced](ignored.md)\n```\n"
        "# Top\n"
    )
    found = {target: broken(page, target, root=tmp_path) for _, target in links(page)}
    assert found == {
        "guide.md#setting-up": None,
        "guide.md#setting-up-1": None,
        "#top": None,
        "missing.md": "names no file",
        "guide.md#nowhere": "#nowhere is no heading of guide.md",
        "../shared/x.md": "points outside the repository",
        "https://example.com/missing.md": None,
    }
