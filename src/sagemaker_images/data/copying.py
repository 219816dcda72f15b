"""Copy a whole catalog from a SageMaker-compatible endpoint (AWS itself, or another
sagemaker-images server) into a database, through boto3 and the public API only.

Each image is read whole (its versions, their aliases, its tags) and then written in one
transaction, so an interrupted copy leaves whole images behind; running it again adds what
is missing (images, versions, aliases, tags) without duplicating anything, and brings the
members of what was copied before up to date. Version numbers are the source's, gaps
included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sagemaker_images.catalog.arns import parse
from sagemaker_images.data.archive import ConfigEntry, ImageEntry, VersionEntry
from sagemaker_images.data.importing import Imported, add_image, add_missing
from sagemaker_images.records import (
    APP_IMAGE_CONFIG_TAGS,
    AppImageConfigRecord,
    ImageRecord,
    VersionRecord,
    columns_of,
)
from sagemaker_images.store.base import Store


class CopyError(Exception):
    """The source answered something that cannot be copied; the message says what."""


def source_client(endpoint_url: str | None, profile: str | None, region: str | None) -> Any:
    """A boto3 SageMaker client; AWS's own endpoint where `endpoint_url` is None."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=profile, region_name=region)
    return session.client(
        "sagemaker",
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 10}),
    )


@dataclass
class Plan:
    """What the source holds, by name: listed first, so progress has a total."""

    images: list[str]
    configs: list[str]


def plan(client: Any) -> Plan:
    """Oldest first, so that the copies are made (and numbered) in the order of the source."""
    images = [
        image["ImageName"]
        for page in _pages(
            client, "list_images", "Images", SortBy="CREATION_TIME", SortOrder="ASCENDING"
        )
        for image in page
    ]
    configs = [
        config["AppImageConfigName"]
        for page in _pages(
            client,
            "list_app_image_configs",
            "AppImageConfigs",
            SortBy="CreationTime",
            SortOrder="Ascending",
        )
        for config in page
    ]
    return Plan(images, configs)


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
    for name in planned.configs:
        config = await asyncio.to_thread(read_config, client, name)
        if config is not None:
            await _write_config(store, config, done)
        advance(name)


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


def read_config(client: Any, name: str) -> ConfigEntry | None:
    answer = _describe(client.describe_app_image_config, AppImageConfigName=name)
    if answer is None:
        return None
    account, region = _owner(answer["AppImageConfigArn"])
    record = AppImageConfigRecord(
        id=0,
        account=account,
        region=region,
        name_key=name.lower(),
        **_members(AppImageConfigRecord, answer),
    )
    return ConfigEntry(record, _tags(client, answer["AppImageConfigArn"]))


async def _write_image(store: Store, image: ImageEntry, done: Imported) -> None:
    now = int(time.time() * 1000)
    r = image.record
    async with store.transaction() as tx:
        existing = await tx.images.find(r.account, r.region, r.name_key, lock=True)
        if existing is None:
            await add_image(tx, image, now, done)
        else:
            await add_missing(tx, existing, image, now, done)


async def _write_config(store: Store, config: ConfigEntry, done: Imported) -> None:
    r = config.record
    async with store.transaction() as tx:
        existing = await tx.app_image_configs.find(r.account, r.region, r.name_key)
        if existing is None:
            config_id = await tx.app_image_configs.insert(r)
            done.app_image_configs += 1
        else:
            config_id = existing.id
            await tx.app_image_configs.update(config_id, **_updatable(r))
        await tx.tags.put(APP_IMAGE_CONFIG_TAGS, config_id, config.tags.items())


def _updatable(record: AppImageConfigRecord) -> dict[str, Any]:
    return {
        c.name: getattr(record, c.name)
        for c in columns_of(AppImageConfigRecord)
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
