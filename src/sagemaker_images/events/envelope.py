"""EventBridge's envelope of an event in the outbox, with SageMaker's detail for images and
image versions (AWS's developer guide: "Events that Amazon SageMaker AI sends to Amazon
EventBridge"), statuses as the API spells them."""

from __future__ import annotations

import time
from typing import Any

from sagemaker_images.resources.kinds import IMAGE, VERSION
from sagemaker_images.store.events import IMAGE_EVENT, NewEvent, StoredEvent

SOURCE = "aws.sagemaker"
DETAIL_TYPES = {
    IMAGE_EVENT: "SageMaker Image State Change",
    VERSION.arn_type: "SageMaker Image Version State Change",
}


def resource_arn(event: NewEvent) -> str:
    """The ARN the event is about (its `resources`): an image's, or an image version's."""
    if event.kind == IMAGE_EVENT:
        return IMAGE.arn(event.region, event.account, event.name)
    return VERSION.arn(event.region, event.account, event.name, event.version)


def detail(event: NewEvent) -> dict[str, Any]:
    image_arn = IMAGE.arn(event.region, event.account, event.name)
    found: dict[str, Any]
    if event.kind == IMAGE_EVENT:
        found = {"ImageName": event.name, "ImageArn": image_arn, "ImageStatus": event.status}
    else:
        found = {
            "ImageArn": image_arn,
            "ImageVersionArn": resource_arn(event),
            "ImageVersionStatus": event.status,
        }
    found["Version"] = event.version
    found["Tags"] = event.tags
    if event.status.endswith("_FAILED"):
        found["FailureReason"] = event.failure_reason or ""
    return found


def utc_seconds(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def envelope(stored: StoredEvent, source: str = SOURCE) -> dict[str, Any]:
    """The event as EventBridge delivers it to a rule's target; `id` is the outbox's
    stable id, the same on every delivery of the event."""
    event = stored.event
    return {
        "version": "0",
        "id": stored.uuid,
        "detail-type": DETAIL_TYPES[event.kind],
        "source": source,
        "account": event.account,
        "time": utc_seconds(event.created_ms),
        "region": event.region,
        "resources": [resource_arn(event)],
        "detail": detail(event),
    }
