"""What every catalog module shares: what the catalog runs with, the base of each kind's
handlers, lookups and errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.config import Pacing, Settings
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from sagemaker_images.resources.kinds import IMAGE, ResourceKind
from sagemaker_images.resources.records import ImageRecord
from sagemaker_images.store import Reads, Store, TimeFilters

DEFAULT_PAGE_SIZE = 10


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the catalog runs with: its store, its settings, a clock, and the pacing of
    asynchronous transitions."""

    store: Store
    settings: Settings
    clock: Callable[[], int] = field(default=wall_clock_ms)
    pacing: Pacing = field(default=Pacing("seconds", 1.0))

    def transition_due(self, now_ms: int) -> int:
        """When the worker should finish a transition that starts now."""
        return self.pacing.due(now_ms)

    def limit(self, kind: ResourceKind[Any]) -> int:
        """How many of `kind` one scope may hold (its quota's setting)."""
        assert kind.quota is not None, f"{kind.name} has no quota"
        limit: int = getattr(self.settings, kind.quota.setting)
        return limit


class Handlers:
    """The handlers of one kind's operations (`kind.operations`, or `operations`): each a
    method named as its operation in snake case (`describe_image` serves DescribeImage).
    Every subclass is found by `catalog/service.py`; none is listed anywhere."""

    kind: ClassVar[ResourceKind[Any] | None] = None
    operations: ClassVar[tuple[str, ...]] = ()
    every: ClassVar[list[type[Handlers]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Handlers.every.append(cls)

    @classmethod
    def served(cls) -> tuple[str, ...]:
        return cls.operations or (cls.kind.operations if cls.kind else ())

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._store = runtime.store

    async def _list_by_name(
        self,
        ctx: RequestContext,
        request: dict[str, Any],
        wire: Wire,
        sort_keys: Mapping[str, pages.SortKey],
        equal: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A List call of a kind known by its name alone (AppImageConfigs, lifecycle
        configs): newest first unless asked otherwise, `NameContains` ignoring case, the
        creation and modification time filters, and columns `equal`."""
        kind = wire.kind
        operation = f"List{kind.wire_plural}"
        listing = pages.sorted_listing(
            operation,
            ctx,
            request,
            sort_keys,
            default_sort="CreationTime",
            descending="Descending",
            page_size=DEFAULT_PAGE_SIZE,
        )
        rows = await self._store.reader.of(kind).page(
            ctx.account,
            ctx.region,
            listing.page,
            equal=equal,
            times=time_filters(request, modified_prefix="ModifiedTime"),
            name_contains=(request.get("NameContains") or "").lower() or None,
        )
        prefix = kind.arn_prefix(ctx.region, ctx.account)
        return {
            kind.wire_plural: [wire.listed(row, prefix) for row in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }


def image_not_found(ctx: RequestContext, name: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"Image with ARN {IMAGE.arn(ctx.region, ctx.account, name)} does not exist"
    )


async def require_image(
    reads: Reads, ctx: RequestContext, name: str, *, lock: bool = False
) -> ImageRecord:
    image = await reads.of(IMAGE).find(ctx.account, ctx.region, name.lower(), lock=lock)
    if image is None:
        raise image_not_found(ctx, name)
    return image


def limit_exceeded(kind: ResourceKind[Any], limit: int, used: int) -> ResourceLimitExceeded:
    quota = kind.quota
    assert quota is not None, f"{kind.name} has no quota"
    unit = quota.unit
    return ResourceLimitExceeded(
        f"The account-level service limit '{quota.name}' is {limit} {unit}, with current"
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
