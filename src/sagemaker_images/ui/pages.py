"""The web catalog's pages, as HTML: one function a page, from what catalog/browse.py reads.

Every value goes through html.element, which escapes it. Times are shown in UTC, ISO 8601.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_images import __version__
from sagemaker_images.catalog.browse import Attachment, ImageRow, Member, StudioDomain, VersionRow
from sagemaker_images.ui.html import Child, Markup, element, iso_time, join, link, path

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
    header = element(
        "header",
        element("p", link(where.to(), "sagemaker-images"), class_="brand"),
        nav,
        element(
            "p",
            "Account ",
            element("code", where.account),
            " · Region ",
            element("code", where.region),
            class_="where",
        ),
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


def problem(where: Where, status: int, title: str, message: str) -> Markup:
    """The page of a request that cannot be answered (not found, bad input)."""
    return page(
        where,
        title,
        element("h1", title),
        element("p", message, class_="problem"),
        element("p", link(where.to(), "Back to the images")),
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


def short_reference(value: str | None) -> Markup:
    """A container image reference with its digest cut short (the whole one is copied)."""
    if not value:
        return Markup("")
    shown = value
    name, at, digest = value.partition("@")
    if at and ":" in digest:
        algorithm, _, hexes = digest.partition(":")
        shown = f"{name}@{algorithm}:{hexes[:12]}…"
    return join((element("code", shown, title=value), " ", copy_button(value, f"Copy {value}")))


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
    headers: Sequence[str], rows: Iterable[Sequence[Child]], caption: str | None = None
) -> Markup:
    return element(
        "div",
        element(
            "table",
            element("caption", caption) if caption else None,
            element("thead", element("tr", (element("th", h, scope="col") for h in headers))),
            element(
                "tbody", (element("tr", (element("td", cell) for cell in row)) for row in rows)
            ),
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


# ------------------------------------------------------------------------------- pages


def images_page(
    where: Where, listing: Listing, rows: list[ImageRow], next_token: str | None
) -> Markup:
    body: list[Child] = [element("h1", "Images"), list_form(where, listing, "Image")]
    if rows:
        body.append(
            table(
                (
                    "Name",
                    "Display name",
                    "Status",
                    "Versions",
                    "Latest version",
                    "Last modified",
                    "Tags",
                ),
                (
                    (
                        link(
                            where.to("images", row.summary["ImageName"]), row.summary["ImageName"]
                        ),
                        row.summary.get("DisplayName"),
                        status(row.summary["ImageStatus"], row.summary.get("FailureReason")),
                        row.version_count,
                        version_link(where, row.summary["ImageName"], row.latest_version),
                        iso_time(row.summary["LastModifiedTime"]),
                        tag_list(row.tags),
                    )
                    for row in rows
                ),
            )
        )
    else:
        body.append(element("p", "No images here match.", class_="empty"))
    body.append(pager(where, listing, next_token))
    return page(where, "Images", *body, section="Images")


_VERSION_COLUMNS = (
    ("Job type", "JobType"),
    ("Processor", "Processor"),
    ("Framework", "MLFramework"),
    ("Language", "ProgrammingLang"),
    ("Horovod", "Horovod"),
    ("Vendor guidance", "VendorGuidance"),
    ("Release notes", "ReleaseNotes"),
)


def _shown(value: Any) -> Child:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def image_page(
    where: Where,
    image: dict[str, Any],
    tags: dict[str, str],
    versions: list[VersionRow],
    next_token: str | None,
    token: str | None,
    uses: list[Attachment],
) -> Markup:
    name = image["ImageName"]
    body: list[Child] = [
        element("h1", name),
        details(
            (
                ("Display name", image.get("DisplayName")),
                ("Description", image.get("Description")),
                ("Status", status(image["ImageStatus"], image.get("FailureReason"))),
                ("Role", copyable(image.get("RoleArn"), "Copy the role ARN")),
                ("ARN", copyable(image["ImageArn"], "Copy the image ARN")),
                ("Created", iso_time(image["CreationTime"])),
                ("Last modified", iso_time(image["LastModifiedTime"])),
            )
        ),
        tags_section(tags),
        element("h2", "Versions"),
    ]
    if versions:
        body.append(
            table(
                (
                    "Version",
                    "Status",
                    "Aliases",
                    "Base image",
                    "Container image",
                    *(label for label, _ in _VERSION_COLUMNS),
                    "Created",
                    "Last modified",
                ),
                (
                    (
                        version_link(where, name, row.details["Version"]),
                        status(row.details["ImageVersionStatus"], row.details.get("FailureReason")),
                        alias_list(row.aliases),
                        element("code", row.details["BaseImage"]),
                        short_reference(row.details.get("ContainerImage")),
                        *(_shown(row.details.get(member)) for _, member in _VERSION_COLUMNS),
                        iso_time(row.details["CreationTime"]),
                        iso_time(row.details["LastModifiedTime"]),
                    )
                    for row in versions
                ),
            )
        )
    else:
        body.append(element("p", "No versions.", class_="empty"))
    body.append(pager(where, Listing(token=token), next_token, "images", name))
    body.append(uses_section(where, uses, "image"))
    return page(where, name, *body, section="Images")


def version_page(where: Where, name: str, row: VersionRow) -> Markup:
    v = row.details
    title = f"{name} version {v['Version']}"
    body = [
        element("p", link(where.to("images", name), f"Image {name}"), class_="up"),
        element("h1", title),
        details(
            (
                ("ARN", copyable(v["ImageVersionArn"], "Copy the image version ARN")),
                ("Status", status(v["ImageVersionStatus"], v.get("FailureReason"))),
                ("Aliases", alias_list(row.aliases)),
                ("Base image", copyable(v["BaseImage"], "Copy the base image")),
                ("Container image", copyable(v.get("ContainerImage"), "Copy the container image")),
                *((label, _shown(v.get(member))) for label, member in _VERSION_COLUMNS),
                ("Created", iso_time(v["CreationTime"])),
                ("Last modified", iso_time(v["LastModifiedTime"])),
            )
        ),
    ]
    return page(where, title, *body, section="Images")


def uses_section(where: Where, uses: list[Attachment], noun: str) -> Markup:
    heading = element("h2", "Used in Studio")
    if not uses:
        return join(
            (
                heading,
                element(
                    "p", f"No domain, user profile or space attaches this {noun}.", class_="empty"
                ),
            )
        )
    return join((heading, attachments_table(where, uses, with_owner=True)))


def _owner_link(where: Where, use: Attachment) -> Markup:
    anchor = "" if use.kind == "Domain" else f"#{_anchor(use.kind, use.name)}"
    label = {"Domain": "Domain", "UserProfile": "User profile", "Space": "Space"}[use.kind]
    return link(where.to("domains", use.domain_id) + anchor, f"{label} {use.name}")


def _anchor(kind: str, name: str) -> str:
    return f"{'user-profile' if kind == 'UserProfile' else 'space'}-{name.lower()}"


def attachments_table(where: Where, uses: list[Attachment], *, with_owner: bool) -> Markup:
    headers = ("Attached by", "Settings") if with_owner else ("Settings",)
    return table(
        (*headers, "Image", "Version", "AppImageConfig"),
        (
            (
                *(
                    (_owner_link(where, use), element("code", use.settings))
                    if with_owner
                    else (element("code", use.settings),)
                ),
                link(where.to("images", use.image_name), use.image_name),
                version_link(where, use.image_name, use.version)
                if use.version
                else element("span", f"latest{' (0)' if use.version == 0 else ''}", class_="muted"),
                link(
                    where.to("app-image-configs", use.app_image_config_name),
                    use.app_image_config_name,
                ),
            )
            for use in uses
        ),
    )


def configs_page(
    where: Where, listing: Listing, configs: list[dict[str, Any]], next_token: str | None
) -> Markup:
    body: list[Child] = [
        element("h1", "AppImageConfigs"),
        list_form(where, listing, "AppImageConfig", "app-image-configs"),
    ]
    if configs:
        body.append(
            table(
                ("Name", "Configurations", "Kernels", "Created", "Last modified"),
                (
                    (
                        link(
                            where.to("app-image-configs", c["AppImageConfigName"]),
                            c["AppImageConfigName"],
                        ),
                        ", ".join(label for label, member in _CONFIG_KINDS if member in c),
                        ", ".join(
                            spec["Name"]
                            for spec in c.get("KernelGatewayImageConfig", {}).get("KernelSpecs", ())
                        ),
                        iso_time(c["CreationTime"]),
                        iso_time(c["LastModifiedTime"]),
                    )
                    for c in configs
                ),
            )
        )
    else:
        body.append(element("p", "No AppImageConfigs here match.", class_="empty"))
    body.append(pager(where, listing, next_token, "app-image-configs"))
    return page(where, "AppImageConfigs", *body, section="AppImageConfigs")


_CONFIG_KINDS = (
    ("KernelGateway", "KernelGatewayImageConfig"),
    ("JupyterLab", "JupyterLabAppImageConfig"),
    ("CodeEditor", "CodeEditorAppImageConfig"),
)


def _file_system(config: dict[str, Any]) -> Markup:
    fs = config.get("FileSystemConfig")
    if fs is None:
        return Markup("")
    return join(
        (
            element("h3", "File system"),
            details(
                (
                    ("Mount path", element("code", fs["MountPath"]) if "MountPath" in fs else None),
                    ("Default UID", fs.get("DefaultUid")),
                    ("Default GID", fs.get("DefaultGid")),
                )
            ),
        )
    )


def _container(config: dict[str, Any]) -> Markup:
    container = config.get("ContainerConfig")
    if container is None:
        return Markup("")

    def words(key: str) -> Markup:
        return join((element("code", word), " ") for word in container.get(key, ()))

    environment = container.get("ContainerEnvironmentVariables") or {}
    return join(
        (
            element("h3", "Container"),
            details(
                (
                    ("Entrypoint", words("ContainerEntrypoint")),
                    ("Arguments", words("ContainerArguments")),
                )
            ),
            table(
                ("Variable", "Value"),
                ((element("code", k), element("code", v)) for k, v in environment.items()),
                caption="Environment",
            )
            if environment
            else None,
        )
    )


def config_page(
    where: Where, config: dict[str, Any], tags: dict[str, str], uses: list[Attachment]
) -> Markup:
    name = config["AppImageConfigName"]
    body: list[Child] = [
        element("h1", name),
        details(
            (
                ("ARN", copyable(config["AppImageConfigArn"], "Copy the AppImageConfig ARN")),
                ("Created", iso_time(config["CreationTime"])),
                ("Last modified", iso_time(config["LastModifiedTime"])),
            )
        ),
        tags_section(tags),
    ]
    shown = False
    for label, member in _CONFIG_KINDS:
        kind = config.get(member)
        if kind is None:
            continue
        shown = True
        body.append(element("h2", f"{label} configuration"))
        specs = kind.get("KernelSpecs")
        if specs:
            body.append(element("h3", "Kernel specs"))
            body.append(
                table(
                    ("Name", "Display name"),
                    ((element("code", s["Name"]), s.get("DisplayName")) for s in specs),
                )
            )
        body.append(_container(kind))
        body.append(_file_system(kind))
    if not shown:
        body.append(element("p", "No configuration is set.", class_="empty"))
    body.append(uses_section(where, uses, "AppImageConfig"))
    return page(where, name, *body, section="AppImageConfigs")


def _member_table(where: Where, members: list[Member], kind: str) -> Markup:
    name_member = "UserProfileName" if kind == "UserProfile" else "SpaceName"
    rows = []
    for member in members:
        name = member.details[name_member]
        rows.append(
            (
                element("span", name, id=_anchor(kind, name)),
                status(member.details.get("Status"), member.details.get("FailureReason")),
                tag_list(member.tags),
                _attached_list(where, member.attachments),
            )
        )
    return table(("Name", "Status", "Tags", "Custom images"), rows)


def _attached_list(where: Where, uses: list[Attachment]) -> Markup:
    if not uses:
        return element("span", "none", class_="muted")
    return element(
        "ul",
        (
            element(
                "li",
                link(where.to("images", u.image_name), u.image_name),
                " ",
                f"version {u.version}" if u.version else "latest version",
                " with ",
                link(
                    where.to("app-image-configs", u.app_image_config_name), u.app_image_config_name
                ),
                " ",
                element("span", f"({u.settings})", class_="muted"),
            )
            for u in uses
        ),
        class_="attached",
    )


def domain_section(where: Where, domain: StudioDomain, level: int) -> Markup:
    d = domain.details
    h = f"h{level}"
    sub = f"h{level + 1}"
    title = d["DomainName"] if level > 1 else f"Domain {d['DomainName']}"
    parts: list[Child] = [
        element(h, link(where.to("domains", d["DomainId"]), title) if level > 1 else title),
        details(
            (
                ("Domain ID", element("code", d["DomainId"])),
                ("Status", status(d.get("Status"), d.get("FailureReason"))),
                ("Auth mode", d.get("AuthMode")),
                ("URL", element("code", d.get("Url"))),
                ("ARN", copyable(d["DomainArn"], "Copy the domain ARN")),
                ("Created", iso_time(d.get("CreationTime"))),
                ("Last modified", iso_time(d.get("LastModifiedTime"))),
                ("Tags", tag_list(domain.tags)),
            )
        ),
        element(sub, "Custom images of the domain's defaults"),
        attachments_table(where, domain.attachments, with_owner=False)
        if domain.attachments
        else element("p", "None.", class_="empty"),
        element(sub, "User profiles"),
        _member_table(where, domain.user_profiles, "UserProfile")
        if domain.user_profiles
        else element("p", "No user profiles.", class_="empty"),
        element(sub, "Spaces"),
        _member_table(where, domain.spaces, "Space")
        if domain.spaces
        else element("p", "No spaces.", class_="empty"),
    ]
    return element("section", parts)


def domains_page(where: Where, domains: list[StudioDomain]) -> Markup:
    body: list[Child] = [element("h1", "Domains")]
    if not domains:
        body.append(element("p", "No Studio domains in this region.", class_="empty"))
    body.extend(domain_section(where, domain, 2) for domain in domains)
    return page(where, "Domains", *body, section="Domains")


def domain_page(where: Where, domain: StudioDomain) -> Markup:
    title = f"Domain {domain.details['DomainName']}"
    return page(where, title, domain_section(where, domain, 1), section="Domains")
