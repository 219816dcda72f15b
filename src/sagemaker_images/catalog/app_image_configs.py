"""CreateAppImageConfig, DescribeAppImageConfig, UpdateAppImageConfig,
DeleteAppImageConfig, ListAppImageConfigs.

Synchronous, unlike images: the change is done when the call returns. The three app
configurations are stored as sent and returned as stored; an update replaces the ones it is
sent and keeps the rest (Terraform sends only the blocks that changed).
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.arns import app_image_config_arn
from sagemaker_images.catalog.common import DEFAULT_PAGE_SIZE, Deps, compact, seconds, time_filters
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound
from sagemaker_images.store import DuplicateKey, Reads
from sagemaker_images.store.base import APP_IMAGE_CONFIG_TAGS
from sagemaker_images.store.records import AppImageConfigRecord

# Request member -> the store's column for that app configuration.
APP_CONFIGS = {
    "KernelGatewayImageConfig": "kernel_gateway",
    "JupyterLabAppImageConfig": "jupyter_lab",
    "CodeEditorAppImageConfig": "code_editor",
}

SORT_KEYS = pages.named_sort_keys("CreationTime", "LastModifiedTime", "Name")


def app_image_config_details(config: AppImageConfigRecord) -> dict[str, Any]:
    details: dict[str, Any] = {
        "AppImageConfigArn": app_image_config_arn(config.region, config.account, config.name),
        "AppImageConfigName": config.name,
        "CreationTime": seconds(config.created_ms),
        "LastModifiedTime": seconds(config.modified_ms),
    }
    for member, column in APP_CONFIGS.items():
        details[member] = getattr(config, column)
    return compact(details)


async def require_app_image_config(
    reads: Reads, ctx: RequestContext, name: str, *, lock: bool = False
) -> AppImageConfigRecord:
    config = await reads.find_app_image_config(ctx.account, ctx.region, name.lower(), lock=lock)
    if config is None:
        raise ResourceNotFound(
            f"AppImageConfig with ARN {app_image_config_arn(ctx.region, ctx.account, name)}"
            " does not exist"
        )
    return config


def _name_taken() -> ResourceInUse:
    return ResourceInUse("The ID or Name specified is already in use.")


class AppImageConfigs:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._store = deps.store

    async def create_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = request["AppImageConfigName"]
        tags = tag_pairs(request.get("Tags", ()))
        now = self._deps.clock()
        record = AppImageConfigRecord(
            id=0,
            account=ctx.account,
            region=ctx.region,
            name=name,
            created_ms=now,
            modified_ms=now,
            **{column: request.get(member) for member, column in APP_CONFIGS.items()},
        )
        async with self._store.transaction() as tx:
            if await tx.find_app_image_config(ctx.account, ctx.region, name.lower()) is not None:
                raise _name_taken()
            try:
                config_id = await tx.insert_app_image_config(record, name.lower())
            except DuplicateKey:
                raise _name_taken() from None
            await attach(tx, (APP_IMAGE_CONFIG_TAGS, config_id), tags)
        return {"AppImageConfigArn": app_image_config_arn(ctx.region, ctx.account, name)}

    async def describe_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        config = await require_app_image_config(
            self._store.reader, ctx, request["AppImageConfigName"]
        )
        return app_image_config_details(config)

    async def update_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        documents = {
            column: request[member] for member, column in APP_CONFIGS.items() if member in request
        }
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            config = await require_app_image_config(
                tx, ctx, request["AppImageConfigName"], lock=True
            )
            await tx.update_app_image_config(config.id, now, documents)
        return {"AppImageConfigArn": app_image_config_arn(ctx.region, ctx.account, config.name)}

    async def delete_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        async with self._store.transaction() as tx:
            config = await require_app_image_config(
                tx, ctx, request["AppImageConfigName"], lock=True
            )
            await tx.delete_app_image_config(config.id)
        return {}

    async def list_app_image_configs(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        listing = pages.sorted_listing(
            "ListAppImageConfigs",
            request,
            SORT_KEYS,
            default_sort="CreationTime",
            descending="Descending",
            page_size=DEFAULT_PAGE_SIZE,
        )
        rows = await self._store.reader.list_app_image_configs(
            ctx.account,
            ctx.region,
            time_filters(request, modified_prefix="ModifiedTime"),
            (request.get("NameContains") or "").lower() or None,
            listing.page,
        )
        return compact(
            {
                "AppImageConfigs": [app_image_config_details(r) for r in rows[: listing.limit]],
                "NextToken": listing.next_token(rows),
            }
        )
