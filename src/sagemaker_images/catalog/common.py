"""What every catalog module shares: its dependencies, lookups and response helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagemaker_images.catalog.arns import image_arn
from sagemaker_images.config import Settings
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from sagemaker_images.store import Reads, Store
from sagemaker_images.store.records import ImageRecord, TimeFilters

DEFAULT_PAGE_SIZE = 10


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Deps:
    store: Store
    settings: Settings
    clock: Callable[[], int] = field(default=wall_clock_ms)

    def transition_due(self, now_ms: int) -> int:
        """When the worker should finish a transition that starts now."""
        return now_ms + round(self.settings.transition_seconds * 1000)


def seconds(ms: int) -> float:
    """Responses carry times as epoch seconds, as AWS JSON 1.1 does; the store keeps ms."""
    return ms / 1000


# Times beyond these are kept at them: filters as far off as 1e300 s mean "no bound", and a
# database integer cannot hold more.
_MIN_MS, _MAX_MS = -(2**63), 2**63 - 1


def millis(epoch_seconds: float | None) -> int | None:
    if epoch_seconds is None:
        return None
    return max(_MIN_MS, min(_MAX_MS, round(epoch_seconds * 1000)))


def compact(values: dict[str, Any]) -> dict[str, Any]:
    """Drop absent members: AWS omits them rather than sending null."""
    return {k: v for k, v in values.items() if v is not None}


def image_not_found(ctx: RequestContext, name: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"Image with ARN {image_arn(ctx.region, ctx.account, name)} does not exist"
    )


async def require_image(
    reads: Reads, ctx: RequestContext, name: str, *, lock: bool = False
) -> ImageRecord:
    image = await reads.find_image(ctx.account, ctx.region, name.lower(), lock=lock)
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
    return TimeFilters(
        created_after=millis(request.get("CreationTimeAfter")),
        created_before=millis(request.get("CreationTimeBefore")),
        modified_after=millis(request.get(f"{modified_prefix}After")),
        modified_before=millis(request.get(f"{modified_prefix}Before")),
    )


def exactly_one_selector(request: dict[str, Any]) -> None:
    if ("Version" in request) == ("Alias" in request):
        raise ValidationError("Exactly one of Version or Alias must be specified.")
