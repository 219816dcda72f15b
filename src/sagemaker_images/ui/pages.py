"""The web catalog's pages, as HTML: one function a page, from what catalog/browse.py reads,
built from the pieces of layout.py. Times are shown in UTC, ISO 8601.
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog.browse import (
    AppView,
    Attachment,
    ImageRow,
    Member,
    StudioDomain,
    VersionRow,
)
from sagemaker_images.doctor.report import Finding, Report, ordered
from sagemaker_images.ui.html import Child, Markup, element, iso_time, join, link
from sagemaker_images.ui.layout import (
    Listing,
    Where,
    alias_list,
    clamped,
    copyable,
    details,
    drift_badge,
    enumeration,
    image_reference,
    list_form,
    page,
    pager,
    stacked,
    status,
    table,
    tag_list,
    tags_section,
    version_link,
)


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
    apps: list[AppView],
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
        # What fits beside each other at 1,280 px; every member is on the version's page.
        body.append(
            table(
                (
                    "Version",
                    "Status",
                    "Aliases",
                    "Image",
                    "Job type",
                    "Framework",
                    "Release notes",
                    "Created",
                ),
                (
                    (
                        version_link(where, name, v["Version"]),
                        join(
                            (
                                status(v["ImageVersionStatus"], v.get("FailureReason")),
                                " ",
                                drift_badge(row.drift),
                            )
                        ),
                        alias_list(row.aliases),
                        image_reference(v["BaseImage"], v.get("ContainerImage")),
                        stacked(enumeration(v.get("JobType")), enumeration(v.get("Processor"))),
                        stacked(v.get("MLFramework"), v.get("ProgrammingLang")),
                        clamped(v.get("ReleaseNotes")),
                        iso_time(v["CreationTime"], to_the_second=True),
                    )
                    for row in versions
                    for v in (row.details,)
                ),
                class_="versions",
            )
        )
    else:
        body.append(element("p", "No versions.", class_="empty"))
    body.append(pager(where, Listing(token=token), next_token, "images", name))
    body.append(uses_section(where, uses, "image"))
    body.append(element("h2", "Apps running it"))
    live = [app for app in apps if app.details["Status"] in _LIVE]
    if live:
        body.append(apps_table(where, live, with_domain=True))
    else:
        body.append(element("p", "No app runs a version of this image.", class_="empty"))
    return page(where, name, *body, section="Images")


_LIVE = ("Pending", "InService", "Deleting")


def apps_table(where: Where, apps: list[AppView], *, with_domain: bool = False) -> Markup:
    """Apps: who runs each, its status (and why it failed), the image and version it runs
    (as asked for, and the catalog's version it launched, flagged when its tag moved)."""
    headers = ("Owner", "App", "Status", "Image", "Version", "Created")
    rows = []
    for app in apps:
        d = app.details
        kind, owner = (
            ("UserProfile", d["UserProfileName"])
            if "UserProfileName" in d
            else ("Space", d.get("SpaceName", ""))
        )
        label = "User profile" if kind == "UserProfile" else "Space"
        href = where.to("domains", d["DomainId"]) + f"#{_anchor(kind, owner)}"
        rows.append(
            (
                stacked(
                    link(href, f"{label} {owner}"),
                    element("code", d["DomainId"]) if with_domain else None,
                ),
                stacked(element("span", d["AppName"]), enumeration(d["AppType"])),
                status(d["Status"], d.get("FailureReason")),
                _app_image(where, app),
                _app_version(where, app),
                iso_time(d["CreationTime"], to_the_second=True),
            )
        )
    return table(headers, rows, class_="apps")


def _app_image(where: Where, app: AppView) -> Markup:
    arn = (app.details.get("ResourceSpec") or {}).get("SageMakerImageArn")
    if not arn:
        return element("span", "none", class_="muted")
    name = arn.rsplit("/", 1)[-1]
    if app.image is not None:
        return link(where.to("images", app.image), app.image)
    if arn.split(":")[4:5] != [where.account]:
        return element("span", name, " ", element("span", "(SageMaker's)", class_="muted"))
    return element("span", name, title=arn)


def _app_version(where: Where, app: AppView) -> Markup:
    spec = app.details.get("ResourceSpec") or {}
    asked: Child = None
    if spec.get("SageMakerImageVersionAlias"):
        asked = element("span", f"alias {spec['SageMakerImageVersionAlias']}", class_="muted")
    elif spec.get("SageMakerImageVersionArn") not in (None, "None"):
        asked = element("span", "as named", class_="muted")
    if app.image is None or app.version is None:
        return stacked(asked) if asked else Markup("")
    launched = join((version_link(where, app.image, app.version), " ", drift_badge(app.drift)))
    return stacked(launched, asked or element("span", "latest", class_="muted"))


def version_page(
    where: Where, name: str, row: VersionRow, paired: list[str] | None = None
) -> Markup:
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
                ("Drift", drift_badge(row.drift) if row.drift else None),
                *((label, _shown(v.get(member))) for label, member in _VERSION_COLUMNS),
                ("Created", iso_time(v["CreationTime"])),
                ("Last modified", iso_time(v["LastModifiedTime"])),
            )
        ),
    ]
    if paired is not None:
        body.append(_preflight_links(where, name, v["Version"], paired))
    return page(where, title, *body, section="Images")


def _preflight_links(where: Where, name: str, version: int, paired: list[str]) -> Markup:
    """The preflight, on demand: the image alone, or with each AppImageConfig it is
    attached with (reading the image from its registry takes a while: never on load)."""
    target = ("images", name, "versions", version, "preflight")
    links = [element("li", link(where.to(*target), "Check the image alone"))]
    links += [
        element("li", link(where.to(*target, config=config), f"Check with AppImageConfig {config}"))
        for config in paired
    ]
    return join(
        (
            element("h2", "Preflight"),
            element(
                "p",
                "Reads the image from its registry and says what would stop Studio launching it.",
                class_="muted",
            ),
            element("ul", links, class_="preflight"),
        )
    )


def preflight_page(
    where: Where, name: str, row: VersionRow, config: str | None, report: Report
) -> Markup:
    number = row.details["Version"]
    title = f"Preflight of {name} version {number}"
    summary = (
        f"{report.errors} error{'' if report.errors == 1 else 's'},"
        f" {report.warnings} warning{'' if report.warnings == 1 else 's'}"
    )
    read = report.read
    layers = f"{read.get('LayersRead', 0)} of {report.layers}"
    body: list[Child] = [
        element(
            "p",
            link(where.to("images", name, "versions", number), f"{name} version {number}"),
            class_="up",
        ),
        element("h1", title),
        details(
            (
                ("AppImageConfig", config or "none: the image alone"),
                ("Image", copyable(report.container_image, "Copy the image reference")),
                (
                    "Manifest",
                    element("code", report.manifest_digest) if report.manifest_digest else None,
                ),
                ("Platform", report.platform or None),
                ("Read", f"{read.get('Level', 'L0')}, {layers} layers"),
                ("Result", summary),
            )
        ),
        _findings_table(report.findings)
        if report.findings
        else element("p", "Nothing found about the image itself.", class_="empty"),
    ]
    for app in report.apps:
        body.append(element("h2", f"As a {app.app_type} app"))
        if app.kernels_found is not None:
            kernels = ", ".join(app.kernels_found) or "none"
            body.append(element("p", f"Kernels found: {kernels}"))
        body.append(
            _findings_table(app.findings)
            if app.findings
            else element("p", f"Nothing would stop a {app.app_type} app.", class_="empty")
        )
    return page(where, title, *body, section="Images")


_SEVERITY_CLASS = {"error": "failed", "warning": "busy"}


def _findings_table(findings: list[Finding]) -> Markup:
    return table(
        ("Severity", "Code", "Message"),
        (
            (
                element(
                    "span",
                    f.severity,
                    class_=f"status {'failed' if f.severity == 'error' else 'busy'}",
                ),
                element("code", f.code),
                f.message,
            )
            for f in ordered(findings)
        ),
        class_="findings",
    )


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
        element(sub, "Apps"),
        apps_table(where, domain.apps) if domain.apps else element("p", "No apps.", class_="empty"),
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
