"""What every page of the web catalog is built from: the frame (head, header with the
sections and the region switch, footer), the account and region a page shows, and the
pieces the pages share (statuses, copy buttons, tables, description lists, pagers, the
list form). Every value goes through html.element, which escapes it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_images import __version__
from sagemaker_images.ui.html import Child, Markup, element, join, link, path

# Statuses shown as failed, in progress or ready (the rest are neutral).
_FAILED = ("FAILED", "Failed")
_BUSY = ("CREATING", "UPDATING", "DELETING", "Pending", "Updating", "Deleting")
# Columns of the images table the list can be sorted by: (query value, ListImages SortBy).
IMAGE_SORTS = {"created": "CREATION_TIME", "modified": "LAST_MODIFIED_TIME", "name": "IMAGE_NAME"}
CONFIG_SORTS = {"created": "CreationTime", "modified": "LastModifiedTime", "name": "Name"}
SORT_LABELS = {"created": "Creation time", "modified": "Last modified", "name": "Name"}
ORDERS = {"desc": "Descending", "asc": "Ascending"}


@dataclass(frozen=True, slots=True)
class Where:
    """The account and region a page shows, and the regions that hold the account's data."""

    account: str
    region: str
    regions: Sequence[str]

    def to(self, *segments: str | int, **query: Any) -> str:
        """A catalog URL in this region."""
        return path(*segments, region=self.region, **query)


@dataclass(frozen=True, slots=True)
class Listing:
    """What a list page was asked for: filter, sort, order, page token."""

    contains: str = ""
    sort: str = "created"
    order: str = "desc"
    token: str | None = None


# ---------------------------------------------------------------------------- the frame


def page(where: Where, title: str, *body: Child, section: str = "") -> Markup:
    """A whole page: head, header (sections, account, region switch), main, footer."""
    sections = (("Images", ""), ("AppImageConfigs", "app-image-configs"), ("Domains", "domains"))
    nav = element(
        "nav",
        element(
            "ul",
            (
                element(
                    "li",
                    link(
                        where.to(*([target] if target else [])),
                        label,
                        aria_current="page" if section == label else None,
                    ),
                )
                for label, target in sections
            ),
        ),
        aria_label="Sections",
    )
    regions = sorted({*where.regions, where.region})
    switch = element(
        "nav",
        element("span", "Region:", class_="label"),
        element(
            "ul",
            (
                element(
                    "li",
                    link(
                        path(region=region),
                        region,
                        aria_current="page" if region == where.region else None,
                    ),
                )
                for region in regions
            ),
        ),
        aria_label="Regions",
        class_="regions",
    )
    search = element(
        "form",
        element("input", type="hidden", name="region", value=where.region),
        element(
            "label",
            element("span", "Find images", class_="label"),
            " ",
            element("input", type="search", name="q", maxlength="63", placeholder="name"),
        ),
        method="get",
        action=path("images"),
        role="search",
        class_="find",
    )
    header = element(
        "header",
        element("p", link(where.to(), "sagemaker-images"), class_="brand"),
        nav,
        search,
        element("p", "Account ", element("code", where.account), class_="where"),
        switch,
    )
    head = element(
        "head",
        element("meta", charset="utf-8"),
        element("meta", name="viewport", content="width=device-width, initial-scale=1"),
        element("title", f"{title} · sagemaker-images"),
        element("link", rel="stylesheet", href="/ui/static/style.css"),
        element("link", rel="icon", href="/ui/static/favicon.svg", type="image/svg+xml"),
        element("script", src="/ui/static/ui.js", defer=True),
    )
    footer = element("footer", f"sagemaker-images {__version__} · a read-only view of the catalog")
    return Markup(
        "<!doctype html>\n"
        + element("html", head, element("body", header, element("main", *body), footer), lang="en")
    )


def problem(
    where: Where, title: str, message: str, form: Markup | None = None, section: str = ""
) -> Markup:
    """The page of a request that cannot be answered (not found, bad input), with the
    header's sections and search; `form`: the list form the request came from, kept."""
    return page(
        where,
        title,
        element("h1", title),
        form,
        element("p", message, class_="problem"),
        element("p", link(where.to(), "Back to the images")),
        section=section,
    )


# ------------------------------------------------------------------------------ pieces


def status(value: str | None, reason: str | None = None) -> Markup:
    if not value:
        return Markup("")
    kind = (
        "failed"
        if value.endswith(_FAILED)
        else "busy"
        if value in _BUSY
        else "ready"
        if value in ("CREATED", "InService")
        else "neutral"
    )
    badge = element("span", value, class_=f"status {kind}")
    if reason:
        return join((badge, " ", element("span", reason, class_="reason")))
    return badge


def drift_badge(finding: Any) -> Markup:
    """That the last `drift` check found a version's tag leading elsewhere (its title: where,
    and when it was checked)."""
    if finding is None:
        return Markup("")
    now = finding.current or f"unresolvable ({finding.error})"
    checked = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(finding.checked_ms / 1000))
    return element(
        "span",
        "tag moved",
        class_="status failed drift",
        title=f"Its tag now leads to {now}, not to the pinned {finding.pinned}"
        f" (checked {checked}).",
    )


def copy_button(value: str, label: str) -> Markup:
    """A button that copies `value` (hidden until ui.js runs: without script it cannot)."""
    return element(
        "button",
        "Copy",
        type="button",
        class_="copy",
        data_copy=value,
        aria_label=label,
        hidden=True,
    )


def copyable(value: str | None, label: str) -> Markup:
    if not value:
        return Markup("")
    return join((element("code", value), " ", copy_button(value, label)))


def short_reference(value: str | None, *, registry: bool = True) -> Markup:
    """An image reference on one line: its digest cut short, without `registry` only the
    last part of its repository's path (`…/app:1`: what tells one version from another),
    and what still does not fit cut at the cell's edge; the whole is its title, and what
    its copy button copies."""
    if not value:
        return Markup("")
    name, at, digest = value.partition("@")
    if not registry and "/" in name:
        name = "…/" + name.rsplit("/", 1)[1]
    shown = name + (f"@{digest}" if at else "")
    if at and ":" in digest:
        algorithm, _, hexes = digest.partition(":")
        shown = f"{name}@{algorithm}:{hexes[:12]}…"
    # Cut at its start where its end tells versions apart (`ref tail`: right to left, the
    # text kept in its own order inside).
    code = (
        element("code", element("span", shown, dir="ltr"), title=value, class_="ref tail")
        if not registry
        else element("code", shown, title=value, class_="ref")
    )
    return element("span", code, " ", copy_button(value, f"Copy {value}"), class_="reference")


def image_reference(base: str, container: str | None) -> Markup:
    """A version's BaseImage, and under it the digest it was pinned to (when it was)."""
    shown = [short_reference(base, registry=False)]
    if container and container != base:
        _, at, digest = container.partition("@")
        if at and ":" in digest:
            algorithm, _, hexes = digest.partition(":")
            pinned = element("code", f"@{algorithm}:{hexes[:12]}…", title=container, class_="ref")
            copy = copy_button(container, f"Copy {container}")
            shown.append(element("span", "pinned ", pinned, " ", copy, class_="reference"))
        else:
            shown.append(short_reference(container, registry=False))
    return stacked(*shown)


def enumeration(value: str | None) -> Markup:
    """A value of one of the model's enumerations, never broken across lines."""
    if not value:
        return Markup("")
    return element("span", value, class_="enum")


def stacked(*values: Child) -> Markup:
    """Values one under another in a cell (those that are set)."""
    return join(element("span", value, class_="line") for value in values if value)


def clamped(text: str | None) -> Markup:
    """Free text cut to two lines in a table (the whole is its title, and on its page)."""
    if not text:
        return Markup("")
    return element("span", text, title=text, class_="clamped")


def alias_list(aliases: list[str]) -> Markup:
    return join((element("code", alias, class_="alias"), " ") for alias in aliases)


def tag_list(tags: dict[str, str]) -> Markup:
    if not tags:
        return Markup("")
    return element(
        "ul",
        (
            element("li", element("code", key), " = ", element("code", value))
            for key, value in tags.items()
        ),
        class_="tags",
    )


def tags_section(tags: dict[str, str], level: int = 2) -> Markup:
    heading = element(f"h{level}", "Tags")
    if not tags:
        return join((heading, element("p", "No tags.", class_="empty")))
    return join(
        (heading, table(("Key", "Value"), ((element("code", k), v) for k, v in tags.items())))
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Child]],
    caption: str | None = None,
    class_: str | None = None,
) -> Markup:
    """A table in a box of its own, which scrolls sideways when the table is wider."""
    return element(
        "div",
        element(
            "table",
            element("caption", caption) if caption else None,
            element("thead", element("tr", (element("th", h, scope="col") for h in headers))),
            element(
                "tbody", (element("tr", (element("td", cell) for cell in row)) for row in rows)
            ),
            class_=class_,
        ),
        class_="scroll",
    )


def details(pairs: Iterable[tuple[str, Child]]) -> Markup:
    """A description list of the pairs whose value is set."""
    return element(
        "dl",
        (
            element("div", element("dt", term), element("dd", value))
            for term, value in pairs
            if value not in (None, "", Markup(""))
        ),
    )


def pager(where: Where, listing: Listing, next_token: str | None, *segments: str) -> Markup:
    """First-page and next-page links (the catalog's pages are keyset pages: forward only)."""
    query = {"q": listing.contains, "sort": listing.sort, "order": listing.order}
    links = []
    if listing.token:
        links.append(link(where.to(*segments, **query), "First page"))
    if next_token:
        links.append(link(where.to(*segments, **query, next=next_token), "Next page", rel="next"))
    if not links:
        return Markup("")
    return element(
        "nav", element("ul", (element("li", a) for a in links)), aria_label="Pages", class_="pager"
    )


def list_form(where: Where, listing: Listing, noun: str, *segments: str) -> Markup:
    """The filter and sort form of a list page (a GET form: it changes nothing)."""

    def select(name: str, label: str, options: dict[str, str], chosen: str) -> Markup:
        return element(
            "label",
            f"{label} ",
            element(
                "select",
                (
                    element("option", shown, value=value, selected=value == chosen)
                    for value, shown in options.items()
                ),
                name=name,
            ),
        )

    return element(
        "form",
        element("input", type="hidden", name="region", value=where.region),
        element(
            "label",
            f"{noun} name contains ",
            element("input", type="search", name="q", value=listing.contains, maxlength="63"),
        ),
        select("sort", "Sort by", SORT_LABELS, listing.sort),
        select("order", "Order", {"desc": "Descending", "asc": "Ascending"}, listing.order),
        element("button", "Apply", type="submit"),
        method="get",
        action=path(*segments),
        class_="filter",
    )


def version_link(where: Where, image: str, version: int | None) -> Markup:
    if version is None:
        return Markup("")
    return link(where.to("images", image, "versions", version), str(version))
