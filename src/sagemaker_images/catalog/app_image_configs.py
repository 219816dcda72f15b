"""CreateAppImageConfig, DescribeAppImageConfig, UpdateAppImageConfig,
DeleteAppImageConfig, ListAppImageConfigs.

Synchronous, unlike images: the change is done when the call returns. The three app
configurations are stored as sent and returned as stored; an update replaces the ones it is
sent and keeps the rest (Terraform sends only the blocks that changed).
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.common import Handlers
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound
from sagemaker_images.resources.kinds import APP_IMAGE_CONFIG
from sagemaker_images.resources.records import AppImageConfigRecord
from sagemaker_images.store import DuplicateKey, Reads

CONFIG_WIRE = Wire(APP_IMAGE_CONFIG)
SORT_KEYS = pages.named_sort_keys(AppImageConfigRecord, "CreationTime", "LastModifiedTime", "Name")


async def require_app_image_config(
    reads: Reads, ctx: RequestContext, name: str, *, lock: bool = False
) -> AppImageConfigRecord:
    rows = reads.of(APP_IMAGE_CONFIG)
    config = await rows.find(ctx.account, ctx.region, name.lower(), lock=lock)
    if config is None:
        raise ResourceNotFound(
            f"AppImageConfig with ARN {APP_IMAGE_CONFIG.arn(ctx.region, ctx.account, name)}"
            " does not exist"
        )
    return config


def _name_taken() -> ResourceInUse:
    return ResourceInUse("The ID or Name specified is already in use.")


class AppImageConfigs(Handlers):
    kind = APP_IMAGE_CONFIG

    async def create_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = request["AppImageConfigName"]
        tags = tag_pairs(request.get("Tags", ()))
        now = self._runtime.clock()
        record = AppImageConfigRecord(
            id=0,
            account=ctx.account,
            region=ctx.region,
            name_key=name.lower(),
            created_ms=now,
            modified_ms=now,
            **CONFIG_WIRE.given(request),
        )
        async with self._store.transaction() as tx:
            configs = tx.of(APP_IMAGE_CONFIG)
            if await configs.find(ctx.account, ctx.region, record.name_key):
                raise _name_taken()
            try:
                config_id = await configs.insert(record)
            except DuplicateKey:
                raise _name_taken() from None
            await attach(tx, (APP_IMAGE_CONFIG.arn_type, config_id), tags)
        return {"AppImageConfigArn": APP_IMAGE_CONFIG.arn(ctx.region, ctx.account, name)}

    async def describe_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        config = await require_app_image_config(
            self._store.reader, ctx, request["AppImageConfigName"]
        )
        prefix = APP_IMAGE_CONFIG.arn_prefix(ctx.region, ctx.account)
        return CONFIG_WIRE.described(config, prefix)

    async def update_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        changes = CONFIG_WIRE.changes(request)
        now = self._runtime.clock()
        async with self._store.transaction() as tx:
            config = await require_app_image_config(
                tx, ctx, request["AppImageConfigName"], lock=True
            )
            await tx.of(APP_IMAGE_CONFIG).update(config.id, modified_ms=now, **changes)
        arn = APP_IMAGE_CONFIG.arn(ctx.region, ctx.account, config.name)
        return {"AppImageConfigArn": arn}

    async def delete_app_image_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        async with self._store.transaction() as tx:
            config = await require_app_image_config(
                tx, ctx, request["AppImageConfigName"], lock=True
            )
            await tx.of(APP_IMAGE_CONFIG).delete(config.id)
        return {}

    async def list_app_image_configs(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_by_name(ctx, request, CONFIG_WIRE, SORT_KEYS)
