"""Events from real server processes to real consumers: EventBridge (moto in server mode,
which no one here wrote) with a rule whose target is an SQS queue, and a webhook; across a
kill -9 in the middle of a burst, and from two PostgreSQL servers sharing one catalog."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from event_support import (
    IMAGE_CHANGE,
    VERSION_CHANGE,
    Receiver,
    moto_server,
    per_resource,
    status_of,
    story,
    unique,
)
from support import wait_until

from sagemaker_images.testing.control import ControlClient

ROLE = "arn:aws:iam::123456789012:role/r"
MOTO_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[str]:
    with moto_server(tmp_path) as endpoint:
        yield endpoint


def _aws(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.mark.backends("sqlite")
def test_eventbridge_rule_to_sqs_receives_an_image_life(make_server, moto, region):
    events, sqs = _aws("events", moto), _aws("sqs", moto)
    queue = sqs.create_queue(QueueName="image-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.create_event_bus(Name="platform")
    events.put_rule(
        Name="sagemaker-images",
        EventBusName="platform",
        EventPattern=json.dumps({"source": ["aws.sagemaker"]}),
    )
    events.put_targets(
        Rule="sagemaker-images", EventBusName="platform", Targets=[{"Id": "q", "Arn": queue_arn}]
    )
    server = make_server(
        "--transitions",
        "manual",
        "--control-api",
        "--events-eventbridge",
        moto,
        "--events-bus",
        "platform",
        env=MOTO_KEYS,
    )
    sm = server.client(region)
    control = ControlClient(server.endpoint)
    image_arn = sm.create_image(
        ImageName="bridged", RoleArn=ROLE, Tags=[{"Key": "stage", "Value": "dev"}]
    )["ImageArn"]
    control.complete(image_arn)
    sm.create_image_version(ImageName="bridged", BaseImage="repo/b:1")
    control.complete(fail="manifest unknown")
    sm.create_image_version(ImageName="bridged", BaseImage="repo/b:2")
    control.complete()
    sm.update_image(ImageName="bridged", DisplayName="Bridged")
    control.complete()
    sm.delete_image(ImageName="bridged")
    control.complete()
    expected = [
        ("image/bridged", "CREATING"),
        ("image/bridged", "CREATED"),
        ("image-version/bridged/1", "CREATING"),
        ("image-version/bridged/1", "CREATE_FAILED"),
        ("image-version/bridged/2", "CREATING"),
        ("image-version/bridged/2", "CREATED"),
        ("image/bridged", "UPDATING"),
        ("image/bridged", "CREATED"),
        ("image/bridged", "DELETING"),
        ("image-version/bridged/1", "DELETING"),
        ("image-version/bridged/2", "DELETING"),
        ("image-version/bridged/1", "DELETED"),
        ("image-version/bridged/2", "DELETED"),
        ("image/bridged", "DELETED"),
    ]
    received: list[dict[str, Any]] = []

    def everything() -> bool:
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", ()):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return len(unique(received, "EventId")) >= len(expected)

    wait_until(everything, timeout=60, interval=0)
    got = unique(received, "EventId")
    # Each resource's events in the order it entered them (EventBridge keeps no order
    # between resources).
    for resource in {r for r, _ in expected}:
        assert [s for r, s in story(got) if r == resource] == [
            s for r, s in expected if r == resource
        ]
    assert sorted(story(got)) == sorted(expected)
    kept = control.events()
    assert [e["id"] for e in kept] == [e["detail"]["EventId"] for e in _in_order(got, kept)]
    failed = next(e for e in got if status_of(e) == "CREATE_FAILED")
    image_arn = f"arn:aws:sagemaker:{region}:123456789012:image/bridged"
    assert failed["source"] == "aws.sagemaker"
    assert failed["detail-type"] == VERSION_CHANGE
    assert failed["resources"] == [f"{image_arn.replace(':image/', ':image-version/')}/1"]
    assert {k: v for k, v in failed["detail"].items() if k != "EventId"} == {
        "ImageArn": image_arn,
        "ImageVersionArn": f"{image_arn.replace(':image/', ':image-version/')}/1",
        "ImageVersionStatus": "CREATE_FAILED",
        "Version": 1,
        "Tags": {"stage": "dev"},
        "FailureReason": "manifest unknown",
    }
    updated = [e for e in got if e["detail-type"] == IMAGE_CHANGE][2]
    assert updated["detail"]["ImageName"] == "bridged"
    assert updated["detail"]["Version"] == 2


def _in_order(got: list[dict[str, Any]], kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {e["detail"]["EventId"]: e for e in got}
    return [by_id[e["id"]] for e in kept]


def _burst(
    clients: list[Any],
    images: list[str],
    count: int,
    stop: threading.Event,
    made: list[str] | None = None,
) -> list[str]:
    """Create versions from several threads, round-robin over images and clients, until
    `count` are made or `stop` is set; the ARNs acknowledged (also added to `made` as they
    are)."""
    made = [] if made is None else made
    lock = threading.Lock()
    counter = iter(range(count))

    def work(worker: int) -> None:
        client = clients[worker % len(clients)]
        for n in counter:
            if stop.is_set():
                return
            try:
                arn = client.create_image_version(
                    ImageName=images[n % len(images)], BaseImage=f"repo/burst:{n}"
                )["ImageVersionArn"]
            except Exception:  # the server is being killed: unacknowledged
                continue
            with lock:
                made.append(arn)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return made


def _ordered_per_resource(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    return per_resource(unique(events))


@pytest.mark.backends("sqlite")
def test_kill_9_in_a_burst_loses_no_event(make_server, receiver, region):
    args = ("--transitions", "0", "--events-webhook", receiver.url)
    first = make_server(*args)
    sm = first.client(region)
    images = [f"burst-{n}" for n in range(4)]
    for name in images:
        sm.create_image(ImageName=name, RoleArn=ROLE)
    stop = threading.Event()
    made: list[str] = []

    def kill_midway() -> None:
        wait_until(lambda: len(made) >= 150, timeout=60, interval=0.001)
        first.kill()
        stop.set()

    killer = threading.Thread(target=kill_midway)
    killer.start()
    _burst([sm], images, 500, stop, made)
    killer.join()
    assert len(made) < 500, "the burst ended before the kill"
    assert made, "no create was acknowledged before the kill"
    second = make_server(*args, database_url=first.database_url)
    client = second.client(region)
    versions = [
        f"image-version/{name}/{v['Version']}"
        for name in images
        for v in client.list_image_versions(ImageName=name, MaxResults=100)["ImageVersions"]
    ]
    for arn in made:  # every acknowledged create is there
        assert arn.split(":", 5)[5] in versions
    wait_until(
        lambda: (
            all(
                s == ["CREATING", "CREATED"]
                for r, s in _ordered_per_resource(receiver.events()).items()
                if r.startswith("image-version/")
            )
            and len(_ordered_per_resource(receiver.events())) == len(versions) + len(images)
        ),
        timeout=120,
        interval=0.2,
    )
    per_resource = _ordered_per_resource(receiver.events())
    assert {r for r in per_resource if r.startswith("image-version/")} == set(versions)
    for name in images:
        assert per_resource[f"image/{name}"] == ["CREATING", "CREATED"]


@pytest.mark.backends("postgresql")
def test_two_servers_deliver_every_event_at_least_once(make_server, receiver, region):
    """A burst through two servers on one database, one of them killed (kill -9) halfway:
    each event reaches the webhook at least once, and counted once by its id, the events
    are exactly the transitions made, each resource's in order."""
    args = ("--transitions", "0.2", "--events-webhook", receiver.url)
    first = make_server(*args)
    second = make_server(*args, database_url=first.database_url)
    clients = [first.client(region), second.client(region)]
    images = [f"shared-{n}" for n in range(3)]
    for n, name in enumerate(images):
        clients[n % 2].create_image(ImageName=name, RoleArn=ROLE)
    made: list[str] = []
    stop = threading.Event()

    def kill_first_midway() -> None:
        wait_until(lambda: len(made) >= 150, timeout=60, interval=0.001)
        first.kill()

    killer = threading.Thread(target=kill_first_midway)
    killer.start()
    _burst(clients, images, 400, stop, made)
    killer.join()
    survivor = clients[1]
    versions = [
        f"image-version/{name}/{v['Version']}"
        for name in images
        for v in survivor.list_image_versions(ImageName=name, MaxResults=100)["ImageVersions"]
    ]
    assert {arn.split(":", 5)[5] for arn in made} <= set(versions)
    transitions = 2 * len(images) + 2 * len(versions)  # CREATING and CREATED of each
    wait_until(lambda: len(unique(receiver.events())) >= transitions, timeout=120, interval=0.2)
    got = unique(receiver.events())
    assert len(got) == transitions
    per = _ordered_per_resource(got)
    assert set(per) == {f"image/{name}" for name in images} | set(versions)
    for resource, statuses in per.items():
        assert statuses == ["CREATING", "CREATED"], resource
