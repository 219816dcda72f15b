"""AppImageConfigs: one row each, their app configurations kept as JSON documents."""

from __future__ import annotations

from typing import Any

from sagemaker_images.records import APP_IMAGE_CONFIG_TAGS, AppImageConfigRecord
from sagemaker_images.store.named import NamedReads
from sagemaker_images.store.sql import Statements
from sagemaker_images.store.tables import Table
from sagemaker_images.store.tags import delete_all_tags

APP_IMAGE_CONFIGS = Table("app_image_configs", AppImageConfigRecord)


class AppImageConfigReads(NamedReads[AppImageConfigRecord]):
    table = APP_IMAGE_CONFIGS


class AppImageConfigWrites(AppImageConfigReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def insert(self, config: AppImageConfigRecord) -> int:
        row = await self._s.one(
            APP_IMAGE_CONFIGS.insert_sql, APP_IMAGE_CONFIGS.insert_params(config)
        )
        assert row is not None
        return int(row[0])

    async def update(self, config_id: int, **changes: Any) -> None:
        assignments, params = APP_IMAGE_CONFIGS.assignments(changes)
        await self._s.run(
            f"UPDATE app_image_configs SET {assignments} WHERE id = ?", [*params, config_id]
        )

    async def delete(self, config_id: int) -> None:
        await delete_all_tags(self._s, APP_IMAGE_CONFIG_TAGS, config_id)
        await self._s.run("DELETE FROM app_image_configs WHERE id = ?", (config_id,))
