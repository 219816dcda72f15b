"""Reading the web catalog's pages in tests: a page's tables, links and text, parsed by the
standard library's HTML parser (what a browser would show, without a browser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from support import create_image, create_version

# Free text a client may send, meant to become markup if a page forgot to escape it.
PAYLOADS = (
    "<script>window.pwned = 1</script>",
    '"><img src=x onerror="window.pwned = 1">',
    "' onmouseover='window.pwned = 1' x='",
)


def store_hostile(sm: Any, name: str, payload: str) -> tuple[str, ...]:
    """An image, its version and an AppImageConfig holding `payload` in every free-text
    member; returns the paths of the pages that show them."""
    create_image(sm, name, Description=payload, DisplayName=payload.strip())
    create_version(sm, name, base=f"r/{name}:1", ReleaseNotes=payload)
    sm.create_app_image_config(
        AppImageConfigName=name,
        KernelGatewayImageConfig={"KernelSpecs": [{"Name": "k", "DisplayName": payload}]},
        JupyterLabAppImageConfig={
            "ContainerConfig": {
                "ContainerArguments": [payload],
                "ContainerEnvironmentVariables": {"VALUE": payload},
            }
        },
    )
    return (
        "/ui/",
        f"/ui/images/{name}",
        f"/ui/images/{name}/versions/1",
        f"/ui/app-image-configs/{name}",
    )


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    html: str
    title: str = ""
    tables: list[list[list[str]]] = field(default_factory=list)  # rows of cell texts
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    headings: list[tuple[int, str]] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)  # <dt> -> <dd> text
    text: str = ""

    def table(self, first_header: str) -> list[dict[str, str]]:
        """The rows of the table whose first header cell is `first_header`, as dicts."""
        for rows in self.tables:
            if rows and rows[0] and rows[0][0] == first_header:
                return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        raise AssertionError(f"no table headed {first_header!r} in {self.title!r}")

    def href(self, text: str) -> str:
        """The target of the first link whose text is `text`."""
        for href, shown in self.links:
            if shown == text:
                return href
        raise AssertionError(f"no link {text!r} on {self.title!r}: {self.links}")


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self._open: list[str] = []
        self._captures: list[list[str]] = []
        self._href: str | None = None
        self._dt = ""
        self._all: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"meta", "link", "input", "br", "img"}:
            return
        self._open.append(tag)
        if tag == "table":
            self.page.tables.append([])
        elif tag == "tr":
            self.page.tables[-1].append([])
        if tag in {"td", "th", "a", "li", "title", "h1", "h2", "h3", "h4", "dt", "dd"}:
            self._captures.append([])
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if not self._open or tag in {"meta", "link", "input", "br", "img"}:
            return
        self._open.pop()
        if tag in {"td", "th", "a", "li", "title", "h1", "h2", "h3", "h4", "dt", "dd"}:
            captured = " ".join("".join(self._captures.pop()).split())
            if self._captures:  # its text is its parent's too
                self._captures[-1].append(" " + captured + " ")
            if tag in {"td", "th"}:
                self.page.tables[-1][-1].append(captured)
            elif tag == "a":
                self.page.links.append((self._href or "", captured))
            elif tag == "title":
                self.page.title = captured
            elif tag.startswith("h"):
                self.page.headings.append((int(tag[1]), captured))
            elif tag == "dt":
                self._dt = captured
            elif tag == "dd":
                self.page.definitions[self._dt] = captured

    def handle_data(self, data: str) -> None:
        if self._captures:
            self._captures[-1].append(data)
        self._all.append(data)


def read_page(status: int, headers: dict[str, str], body: bytes) -> Page:
    page = Page(status, headers, body.decode())
    reader = _Reader(page)
    reader.feed(page.html)
    page.text = " ".join("".join(reader._all).split())
    return page


def get(app: Any, path: str, *, method: str = "GET", headers: Any = ()) -> Page:
    """A request answered by an in-process application."""
    raw_path, _, query = path.partition("?")
    status, answer_headers, body = app.request(
        method, raw_path.encode(), query.encode(), [(b"host", b"test"), *headers], b""
    )
    return read_page(status, answer_headers, body)
