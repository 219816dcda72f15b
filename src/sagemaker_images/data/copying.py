"""Copy a whole catalog from a SageMaker-compatible endpoint (AWS itself, or another
sagemaker-images server) into a database, through boto3 and the public API only: images
with their versions, AppImageConfigs, Studio lifecycle configs, and Studio domains, user
profiles and spaces (not apps: they are what runs, not what is catalogued).

Each image is read whole (its versions, their aliases, its tags) and then written in one
transaction, so an interrupted copy leaves whole images behind; running it again adds what
is missing (images, versions, aliases, tags) without duplicating anything, and brings the
members of what was copied before up to date. Version numbers are the source's, gaps
included.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sagemaker_images.data.archive import ONE_LINE, Entry, ImageEntry, VersionEntry
from sagemaker_images.data.importing import Imported, add_entry, add_image, add_missing, held_row
from sagemaker_images.resources.arns import parse
from sagemaker_images.resources.kinds import DOMAIN, IMAGE, ResourceKind, snake_case
from sagemaker_images.resources.records import ImageRecord, VersionRecord, columns_of
from sagemaker_images.store import Store

log = logging.getLogger(__name__)


class CopyError(Exception):
    """The source answered something that cannot be copied; the message says what."""


# What an endpoint's reads are signed with when no credentials are configured: a server
# that checks no signatures takes any key; one that does refuses these, and says so.
PLACEHOLDER_KEY = ("sagemaker-images-copy", "no-credentials-configured")
PLACEHOLDER_REGION = "us-east-1"


def source_client(endpoint_url: str | None, profile: str | None, region: str | None) -> Any:
    """A boto3 SageMaker client; AWS's own endpoint where `endpoint_url` is None.

    AWS needs credentials and a region. Another server may check no signatures: without
    credentials, its reads are signed with placeholders, and without a region they read
    us-east-1 (both said at info)."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=profile, region_name=region)
    keys: dict[str, str] = {}
    if endpoint_url is not None and session.get_credentials() is None:
        log.info(
            "no AWS credentials configured: signing the reads of %s with placeholder keys"
            " (a server that checks signatures refuses them; give --profile or"
            " AWS_ACCESS_KEY_ID)",
            endpoint_url,
        )
        keys = dict(
            zip(("aws_access_key_id", "aws_secret_access_key"), PLACEHOLDER_KEY, strict=True)
        )
    if session.region_name is None:
        if endpoint_url is None:
            raise CopyError("copying from AWS needs a region: give --region, or set AWS_REGION")
        log.info("no region given: reading %s's catalog of %s", endpoint_url, PLACEHOLDER_REGION)
        region = PLACEHOLDER_REGION
    return session.client(
        "sagemaker",
        endpoint_url=endpoint_url,
        region_name=region or session.region_name,
        config=Config(retries={"mode": "standard", "max_attempts": 10}),
        **keys,
    )


@dataclass(frozen=True)
class Source:
    """How one kind of one-line resource is listed and described at the source, from its
    declaration: its List and Describe calls, and the members a Describe takes (its key's)."""

    kind: ResourceKind[Any]

    @property
    def lister(self) -> str:
        return snake_case(f"List{self.kind.wire_plural}")

    @property
    def describer(self) -> str:
        return snake_case(f"Describe{self.kind.wire}")

    @property
    def identity(self) -> tuple[str, ...]:
        """The members of a listed item that its Describe call takes."""
        columns = {c.name: c.member for c in columns_of(self.kind.record)}
        return tuple(str(columns["name" if c == "name_key" else c]) for c in self.kind.key)


SOURCES = {name: Source(kind) for name, kind in ONE_LINE.items()}


@dataclass
class Plan:
    """What the source holds: listed first, so progress has a total. Images by name, the
    rest as (kind, the members a Describe takes), domains before what lives in them."""

    images: list[str]
    entries: list[tuple[str, dict[str, Any]]]

    @property
    def total(self) -> int:
        return len(self.images) + len(self.entries)

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.entries if k == kind)


def plan(client: Any) -> Plan:
    """Oldest first, so that the copies are made (and numbered) in the order of the source."""
    images = [
        image["ImageName"]
        for page in _pages(
            client, "list_images", "Images", SortBy="CREATION_TIME", SortOrder="ASCENDING"
        )
        for image in page
    ]
    entries = [
        (kind, {member: item[member] for member in source.identity})
        for kind, source in SOURCES.items()
        for page in _pages(
            client, source.lister, source.kind.wire_plural, **source.kind.oldest_first
        )
        for item in page
    ]
    return Plan(images, entries)


async def copy_catalog(
    client: Any, store: Store, planned: Plan, advance: Callable[[str], None], done: Imported
) -> None:
    """Copy every planned resource, calling `advance(name)` after each is written and
    counting what was added in `done`."""
    # Reads run in a thread: the loop stays free to take an interruption (Ctrl-C cancels the
    # copy at its next await, and SQLite's statements never wait on the loop).
    for name in planned.images:
        image = await asyncio.to_thread(read_image, client, name)
        if image is not None:
            await _write_image(store, image, done)
        advance(name)
    for kind, identity in planned.entries:
        entry = await asyncio.to_thread(read_entry, client, kind, identity)
        if entry is not None:
            await _write_entry(store, ONE_LINE[kind], entry, done)
        advance("/".join(identity.values()))


def read_image(client: Any, name: str) -> ImageEntry | None:
    """The image with its versions, aliases and tags; None if it went away meanwhile."""
    answer = _describe(client.describe_image, ImageName=name)
    if answer is None:
        return None
    account, region = _owner(answer["ImageArn"])
    versions = []
    for page in _pages(client, "list_image_versions", "ImageVersions", ImageName=name):
        for listed in page:
            number = listed["Version"]
            described = _describe(client.describe_image_version, ImageName=name, Version=number)
            if described is None:
                continue
            aliases = [
                alias
                for aliases_page in _pages(
                    client,
                    "list_aliases",
                    "SageMakerImageVersionAliases",
                    ImageName=name,
                    Version=number,
                )
                for alias in aliases_page
            ]
            version = VersionRecord(image_id=0, **_members(VersionRecord, described))
            versions.append(VersionEntry(version, aliases))
    record = ImageRecord(
        id=0,
        account=account,
        region=region,
        name_key=name.lower(),
        last_version=max((v.record.version for v in versions), default=0),
        version_count=len(versions),
        **_members(ImageRecord, answer),
    )
    return ImageEntry(record, _tags(client, answer["ImageArn"]), versions)


def read_entry(client: Any, kind: str, identity: dict[str, Any]) -> Entry | None:
    """A one-line resource with its tags; None if it went away meanwhile."""
    source = SOURCES[kind]
    answer = _describe(getattr(client, source.describer), **identity)
    if answer is None:
        return None
    answer = {**source.kind.copy_defaults(answer), **answer}
    arn = answer[source.kind.arn_member]
    account, region = _owner(arn)
    members = _members(source.kind.record, answer)
    record = source.kind.record(
        id=0, account=account, region=region, name_key=str(members["name"]).lower(), **members
    )
    return Entry(record, _tags(client, arn) if source.kind.tagged else {})


async def _write_image(store: Store, image: ImageEntry, done: Imported) -> None:
    now = int(time.time() * 1000)
    r = image.record
    async with store.transaction() as tx:
        existing = await tx.of(IMAGE).find(r.account, r.region, r.name_key, lock=True)
        if existing is None:
            await add_image(tx, image, now, done)
        else:
            await add_missing(tx, existing, image, now, done)


async def _write_entry(store: Store, kind: ResourceKind[Any], entry: Entry, done: Imported) -> None:
    r = entry.record
    now = int(time.time() * 1000)
    async with store.transaction() as tx:
        row = await held_row(tx, kind, r)
        if row is None:
            row = await add_entry(tx, kind, entry, now, done)
        else:
            await tx.of(kind).update(row, **_updatable(r))
            if kind.tagged:
                await tx.tags.put(kind.arn_type, row, entry.tags.items())
        if kind.parent is DOMAIN and hasattr(r, "home_efs_uid"):
            # The domain's next HomeEfsFileSystemUid comes after this one's.
            domain = await tx.of(DOMAIN).find(r.account, r.region, r.domain_id)
            uid = int(r.home_efs_uid) if str(r.home_efs_uid).isdigit() else 0
            if domain is not None and uid > domain.last_uid:
                await tx.of(DOMAIN).update(domain.id, last_uid=uid)


def _updatable(record: Any) -> dict[str, Any]:
    """A record's member columns, but its name (how it was found)."""
    return {
        c.name: getattr(record, c.name)
        for c in columns_of(type(record))
        if c.member is not None and c.name != "name"
    }


def _members(record_type: type, answer: dict[str, Any]) -> dict[str, Any]:
    """A record's member columns from a Describe answer (timestamps in milliseconds)."""
    values = {}
    for column in columns_of(record_type):
        if column.member is None:
            continue
        value = answer.get(column.member)
        if isinstance(value, datetime):
            value = round(value.timestamp() * 1000)
        if value is None and not column.optional:
            raise CopyError(f"the source's answer has no {column.member}: {answer!r:.200}")
        values[column.name] = value
    return values


def _owner(arn: str) -> tuple[str, str]:
    parsed = parse(arn)
    if parsed is None:
        raise CopyError(f"the source answered a malformed ARN {arn!r}")
    return parsed.account, parsed.region


def _tags(client: Any, arn: str) -> dict[str, str]:
    return {
        tag["Key"]: tag.get("Value", "")
        for page in _pages(client, "list_tags", "Tags", ResourceArn=arn)
        for tag in page
    }


def _describe(call: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any] | None:
    """The answer; None where the resource was deleted since it was listed."""
    try:
        return call(**params)
    except Exception as error:
        if _error_code(error) == "ResourceNotFound":
            return None
        raise


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[list[Any]]:
    for page in client.get_paginator(operation).paginate(**params):
        yield page.get(key, [])


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None
