"""What the web catalog shows. Every resource appears as the API answers it (the same
handlers and answer builders as Describe and List, so a page never disagrees with a
call), completed by the facts the API has no call for: a page of images' version counts,
latest versions and tags, a page of versions with their aliases, where the Studio
resources attach an image or an AppImageConfig, which version each app launched, and
what the last `drift` check found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sagemaker_images.catalog.app_image_configs import (
    CONFIG_WIRE,
    AppImageConfigs,
    require_app_image_config,
)
from sagemaker_images.catalog.apps import app_details
from sagemaker_images.catalog.common import Runtime, require_image
from sagemaker_images.catalog.domains import DOMAIN_WIRE
from sagemaker_images.catalog.images import IMAGE_WIRE, Images
from sagemaker_images.catalog.spaces import SPACE_WIRE
from sagemaker_images.catalog.studio import custom_images
from sagemaker_images.catalog.user_profiles import PROFILE_WIRE
from sagemaker_images.catalog.versions import Versions, require_version, version_details
from sagemaker_images.context import RequestContext
from sagemaker_images.resources.kinds import (
    APP,
    APP_IMAGE_CONFIG,
    DOMAIN,
    IMAGE,
    SPACE,
    USER_PROFILE,
)
from sagemaker_images.resources.records import DomainRecord
from sagemaker_images.store import Reads
from sagemaker_images.store.drift import DriftFinding

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class ImageRow:
    summary: dict[str, Any]  # a ListImages item
    version_count: int
    latest_version: int | None
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class VersionRow:
    details: dict[str, Any]  # DescribeImageVersion's answer
    aliases: list[str]
    drift: DriftFinding | None = None  # the last drift check's, if its tag had moved


@dataclass(frozen=True, slots=True)
class AppView:
    """An app as DescribeApp answers it, with the catalog's version it launched (image
    name as created, number) and what the last drift check found of that version."""

    details: dict[str, Any]
    image: str | None = None
    version: int | None = None
    drift: DriftFinding | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """One CustomImage entry of a Studio resource's settings."""

    kind: str  # "Domain", "UserProfile" or "Space"
    domain_id: str
    name: str  # the domain's, user profile's or space's name
    settings: str  # where the entry sits: "DefaultUserSettings.KernelGatewayAppSettings"
    image_name: str
    version: int | None  # ImageVersionNumber as stored (absent or 0: the latest)
    app_image_config_name: str


@dataclass(frozen=True, slots=True)
class Member:
    """A user profile or space of a domain, as Describe answers it, with its attachments."""

    kind: str
    details: dict[str, Any]
    tags: dict[str, str]
    attachments: list[Attachment]


@dataclass(frozen=True, slots=True)
class StudioDomain:
    details: dict[str, Any]  # DescribeDomain's answer
    tags: dict[str, str]
    attachments: list[Attachment]
    user_profiles: list[Member] = field(default_factory=list)
    spaces: list[Member] = field(default_factory=list)
    apps: list[AppView] = field(default_factory=list)


# The settings members of each Studio resource that may attach custom images.
_SETTINGS = {
    "Domain": ("DefaultUserSettings", "DefaultSpaceSettings", "DomainSettings"),
    "UserProfile": ("UserSettings",),
    "Space": ("SpaceSettings",),
}


def _attachments(kind: str, domain_id: str, name: str, answer: dict[str, Any]) -> list[Attachment]:
    found = []
    for member in _SETTINGS[kind]:
        for path, custom in custom_images(answer.get(member)):
            found.append(
                Attachment(
                    kind,
                    domain_id,
                    name,
                    ".".join((member, *path)),
                    custom["ImageName"],
                    custom.get("ImageVersionNumber"),
                    custom["AppImageConfigName"],
                )
            )
    return found


class Browse:
    def __init__(self, runtime: Runtime) -> None:
        self._reads = runtime.store.reader
        self._images = Images(runtime)
        self._versions = Versions(runtime)
        self._configs = AppImageConfigs(runtime)

    @property
    def reads(self) -> Reads:
        """The catalog's reads, for what the web catalog runs beside the API (a preflight)."""
        return self._reads

    async def regions(self, account: str) -> list[str]:
        return await self._reads.browse.regions(account)

    async def images(
        self, ctx: RequestContext, listing: dict[str, Any]
    ) -> tuple[list[ImageRow], str | None]:
        """A page of ListImages (`listing`: its request) with each image's extra facts."""
        answer = await self._images.list_images(ctx, {**listing, "MaxResults": PAGE_SIZE})
        summaries = answer["Images"]
        keys = [summary["ImageName"].lower() for summary in summaries]
        facts = await self._reads.browse.image_facts(ctx.account, ctx.region, keys)
        tags = await self._reads.browse.tags_of(IMAGE.arn_type, [f[0] for f in facts.values()])
        rows = []
        for key, summary in zip(keys, summaries, strict=True):
            row_id, count, latest = facts.get(key, (0, 0, None))  # (gone since the list)
            rows.append(ImageRow(summary, count, latest, tags.get(row_id, {})))
        return rows, answer.get("NextToken")

    async def image(
        self, ctx: RequestContext, name: str, token: str | None
    ) -> tuple[dict[str, Any], dict[str, str], list[VersionRow], str | None]:
        """DescribeImage, the image's tags, and a page of its versions, newest first."""
        image = await require_image(self._reads, ctx, name)
        described = IMAGE_WIRE.described(image, IMAGE.arn_prefix(ctx.region, ctx.account))
        tags = (await self._reads.browse.tags_of(IMAGE.arn_type, [image.id]))[image.id]
        request: dict[str, Any] = {
            "ImageName": name,
            "SortBy": "VERSION",
            "SortOrder": "DESCENDING",
            "MaxResults": PAGE_SIZE,
        }
        if token:
            request["NextToken"] = token
        listed = await self._versions.list_image_versions(ctx, request)
        numbers = [item["Version"] for item in listed["ImageVersions"]]
        records = await self._reads.browse.versions(image.id, numbers)
        aliases = await self._reads.browse.aliases(image.id, numbers)
        drift = await self._reads.drift.of_image(image.id)
        rows = [
            VersionRow(version_details(ctx, image, records[n]), aliases[n], drift.get(n))
            for n in numbers
            if n in records  # a version deleted between the two reads is left out
        ]
        return described, tags, rows, listed.get("NextToken")

    async def version(self, ctx: RequestContext, name: str, number: int) -> tuple[str, VersionRow]:
        """The image's name as created, and DescribeImageVersion with the aliases."""
        image, version = await require_version(
            self._reads, ctx, {"ImageName": name, "Version": number}
        )
        aliases = (await self._reads.browse.aliases(image.id, [number]))[number]
        drift = (await self._reads.drift.of_image(image.id)).get(number)
        return image.name, VersionRow(version_details(ctx, image, version), aliases, drift)

    async def app_image_configs(
        self, ctx: RequestContext, listing: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        answer = await self._configs.list_app_image_configs(
            ctx, {**listing, "MaxResults": PAGE_SIZE}
        )
        return answer["AppImageConfigs"], answer.get("NextToken")

    async def app_image_config(
        self, ctx: RequestContext, name: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        record = await require_app_image_config(self._reads, ctx, name)
        prefix = APP_IMAGE_CONFIG.arn_prefix(ctx.region, ctx.account)
        described = CONFIG_WIRE.described(record, prefix)
        tags = (await self._reads.browse.tags_of(APP_IMAGE_CONFIG.arn_type, [record.id]))[record.id]
        return described, tags

    async def studio(self, ctx: RequestContext) -> list[StudioDomain]:
        """Every domain of the region with its user profiles and spaces."""
        domains, profiles, spaces = await self._reads.browse.studio(ctx.account, ctx.region)
        tags = self._reads.browse.tags_of
        domain_tags = await tags(DOMAIN.arn_type, [d.id for d in domains])
        profile_tags = await tags(USER_PROFILE.arn_type, [p.id for p in profiles])
        space_tags = await tags(SPACE.arn_type, [s.id for s in spaces])
        shown: dict[str, StudioDomain] = {}
        for domain in domains:
            shown[domain.domain_id] = self._domain(ctx, domain, domain_tags[domain.id])
        for kind, members, member_tags, build, resource_kind in (
            ("UserProfile", profiles, profile_tags, PROFILE_WIRE.described, USER_PROFILE),
            ("Space", spaces, space_tags, SPACE_WIRE.described, SPACE),
        ):
            for member in members:
                holder = shown.get(member.domain_id)
                if holder is None:
                    continue
                prefix = resource_kind.arn_prefix(ctx.region, ctx.account, member.domain_id)
                details = build(member, prefix)
                attached = _attachments(kind, member.domain_id, member.name, details)
                listed = holder.user_profiles if kind == "UserProfile" else holder.spaces
                listed.append(Member(kind, details, member_tags[member.id], attached))
        for app in await self.apps(ctx):
            holder = shown.get(app.details["DomainId"])
            if holder is not None:
                holder.apps.append(app)
        return list(shown.values())

    async def apps(self, ctx: RequestContext, image: str | None = None) -> list[AppView]:
        """The apps of the region (those that launched one image, `image`: its name), in
        the order they were made, with the versions they run."""
        apps = await self._reads.of(APP).matching(
            ctx.account, ctx.region, runs_image=None if image is None else image.lower()
        )
        # The images the apps run, by name_key: the record and its drift findings.
        images: dict[str, tuple[Any, dict[int, DriftFinding]]] = {}
        shown = []
        for app in apps:
            key, number = app.runs_image, app.runs_version
            if key is None or number is None:
                shown.append(AppView(app_details(app)))
                continue
            if key not in images:
                record = await self._reads.of(IMAGE).find(ctx.account, ctx.region, key)
                drift = {} if record is None else await self._reads.drift.of_image(record.id)
                images[key] = (record, drift)
            record, drift = images[key]
            name = record.name if record is not None else key  # (the image is gone since)
            shown.append(AppView(app_details(app), name, number, drift.get(number)))
        return shown

    @staticmethod
    def _domain(ctx: RequestContext, domain: DomainRecord, tags: dict[str, str]) -> StudioDomain:
        details = DOMAIN_WIRE.described(domain, DOMAIN.arn_prefix(ctx.region, ctx.account))
        return StudioDomain(
            details, tags, _attachments("Domain", domain.domain_id, domain.name, details)
        )


def attachments_of(domains: list[StudioDomain]) -> list[Attachment]:
    """Every attachment of these domains and their members, in the order shown."""
    found: list[Attachment] = []
    for domain in domains:
        found.extend(domain.attachments)
        for member in (*domain.user_profiles, *domain.spaces):
            found.extend(member.attachments)
    return found
