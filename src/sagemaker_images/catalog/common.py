"""What every catalog module shares: its dependencies, lookups and errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagemaker_images.catalog.arns import image_arn
from sagemaker_images.config import Pacing, Settings
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from sagemaker_images.records import ImageRecord
from sagemaker_images.store import Reads, Store, TimeFilters

DEFAULT_PAGE_SIZE = 10


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Deps:
    store: Store
    settings: Settings
    clock: Callable[[], int] = field(default=wall_clock_ms)
    pacing: Pacing = field(default=Pacing("seconds", 1.0))

    def transition_due(self, now_ms: int) -> int:
        """When the worker should finish a transition that starts now."""
        return self.pacing.due(now_ms)


def image_not_found(ctx: RequestContext, name: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"Image with ARN {image_arn(ctx.region, ctx.account, name)} does not exist"
    )


async def require_image(
    reads: Reads, ctx: RequestContext, name: str, *, lock: bool = False
) -> ImageRecord:
    image = await reads.images.find(ctx.account, ctx.region, name.lower(), lock=lock)
    if image is None:
        raise image_not_found(ctx, name)
    return image


def limit_exceeded(limit_name: str, limit: int, used: int, unit: str) -> ResourceLimitExceeded:
    return ResourceLimitExceeded(
        f"The account-level service limit '{limit_name}' is {limit} {unit}, with current"
        f" utilization of {used} {unit} and a request delta of 1 {unit}. Please contact AWS"
        " support to request an increase for this limit."
    )


def time_filters(request: dict[str, Any], modified_prefix: str = "LastModifiedTime") -> TimeFilters:
    """A list request's time bounds (the validator has made them epoch milliseconds)."""
    return TimeFilters(
        created_after=request.get("CreationTimeAfter"),
        created_before=request.get("CreationTimeBefore"),
        modified_after=request.get(f"{modified_prefix}After"),
        modified_before=request.get(f"{modified_prefix}Before"),
    )


def require_selector(request: dict[str, Any]) -> None:
    """Update and Delete of a version must name it, by `Version`, `Alias` or both."""
    if "Version" not in request and "Alias" not in request:
        raise ValidationError("Either Version or Alias must be specified.")
