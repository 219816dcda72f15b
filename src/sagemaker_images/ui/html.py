"""HTML built from values that are escaped unless they are markup already.

Catalog values (descriptions, release notes, tag values, container arguments) hold any
text a client sent. Pages are built only through `element`, which escapes every child and
attribute value that is not `Markup`, so no value can become markup by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape as _escape
from typing import Any
from urllib.parse import quote, urlencode


class Markup(str):
    """Text that is HTML already (built here, never from a value)."""

    __slots__ = ()


Child = Any  # Markup, text, a number, None (nothing), or an iterable of those


def text(value: Any) -> Markup:
    """A value shown as text."""
    if isinstance(value, Markup):
        return value
    return Markup(_escape(str(value), quote=True))


def join(children: Iterable[Child]) -> Markup:
    parts: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int | float):
            parts.append(text(child))
        else:
            parts.append(join(child))
    return Markup("".join(parts))


_VOID = frozenset({"meta", "link", "input", "br", "img"})


def element(name: str, /, *children: Child, **attributes: Any) -> Markup:
    """`<name attributes>children</name>`: `class_` stands for `class`, `_` in other names
    for `-`; an attribute whose value is None or False is left out, True is bare."""
    written = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        attribute = "class" if key == "class_" else key.replace("_", "-")
        written.append(attribute if value is True else f'{attribute}="{text(value)}"')
    opening = f"<{name}{''.join(' ' + a for a in written)}>"
    if name in _VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{name}>")


def link(href: str, *children: Child, **attributes: Any) -> Markup:
    return element("a", *children, href=href, **attributes)


def path(*segments: str | int, **query: Any) -> str:
    """A URL path under /ui/ of quoted segments, with the query parameters that are set."""
    url = "/ui/" + "/".join(quote(str(segment), safe="") for segment in segments)
    given = {key: value for key, value in query.items() if value not in (None, "")}
    return url + ("?" + urlencode(given) if given else "")


def iso_time(epoch: Any, *, to_the_second: bool = False) -> Markup:
    """A time of the catalog (epoch milliseconds) in UTC, ISO 8601, in a <time> element;
    `to_the_second`: shown shorter, for a table's narrow column (the whole is its title)."""
    if epoch is None:
        return Markup("")
    moment = datetime.fromtimestamp(epoch / 1000, UTC)
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"
    if to_the_second:
        return element("time", moment.strftime("%Y-%m-%d %H:%M:%SZ"), datetime=whole, title=whole)
    return element("time", whole, datetime=whole)
