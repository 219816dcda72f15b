"""State-change events on the application itself: what is written for each status an
image or version enters, in EventBridge's envelope, as the control API keeps them and as
a webhook receives them."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import pytest
from event_support import (
    IMAGE_CHANGE,
    VERSION_CHANGE,
    Receiver,
    eventually,
    per_resource,
    story,
)

ROLE = "arn:aws:iam::123456789012:role/r"
ACCOUNT = "123456789012"


def kept(app: Any) -> list[dict[str, Any]]:
    status, _, payload = app.request(
        "GET", b"/_sagemaker-images/events", b"", [(b"host", b"test")], b""
    )
    assert status == 200
    events: list[dict[str, Any]] = json.loads(payload)["events"]
    return events


def complete(app: Any, arn: str | None = None, fail: str | None = None) -> None:
    body = {k: v for k, v in (("arn", arn), ("fail", fail)) if v is not None}
    status, _, _ = app.request(
        "POST", b"/_sagemaker-images/complete", b"", [(b"host", b"t")], json.dumps(body).encode()
    )
    assert status == 200


def test_an_image_life_in_events(make_app, region):
    """Every status each resource enters, once, in order, with the documented fields."""
    app = make_app(control_api=True, transitions="immediate")
    sm = app.client(region)
    sm.create_image(ImageName="Life", RoleArn=ROLE, Tags=[{"Key": "team", "Value": "ml"}])
    sm.create_image_version(ImageName="Life", BaseImage="repo/life:1")
    sm.create_image_version(ImageName="Life", BaseImage="repo/life:2")
    sm.update_image(ImageName="Life", Description="now described")
    sm.delete_image_version(ImageName="Life", Version=1)
    sm.delete_image(ImageName="Life")
    events = kept(app)
    assert story(events) == [
        ("image/life", "CREATING"),
        ("image/life", "CREATED"),
        ("image-version/life/1", "CREATING"),
        ("image-version/life/1", "CREATED"),
        ("image-version/life/2", "CREATING"),
        ("image-version/life/2", "CREATED"),
        ("image/life", "UPDATING"),
        ("image/life", "CREATED"),
        ("image-version/life/1", "DELETING"),
        ("image-version/life/1", "DELETED"),
        ("image/life", "DELETING"),
        ("image-version/life/2", "DELETING"),
        ("image-version/life/2", "DELETED"),
        ("image/life", "DELETED"),
    ]
    assert len({e["id"] for e in events}) == len(events)
    image_arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:image/life"
    first = events[0]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first["id"]
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"])
    assert {k: v for k, v in first.items() if k not in ("id", "time")} == {
        "version": "0",
        "detail-type": IMAGE_CHANGE,
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "region": region,
        "resources": [image_arn],
        "detail": {
            "ImageName": "Life",
            "ImageArn": image_arn,
            "ImageStatus": "CREATING",
            "Version": None,
            "Tags": {"team": "ml"},
        },
    }
    version_arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:image-version/life/2"
    assert events[5]["detail-type"] == VERSION_CHANGE
    assert events[5]["resources"] == [version_arn]
    assert events[5]["detail"] == {
        "ImageArn": image_arn,
        "ImageVersionArn": version_arn,
        "ImageVersionStatus": "CREATED",
        "Version": 2,
        "Tags": {"team": "ml"},
    }
    # An image's events carry its latest version's number.
    assert [e["detail"]["Version"] for e in events if e["detail-type"] == IMAGE_CHANGE] == [
        None,
        None,
        2,
        2,
        2,
        2,
    ]


def test_failures_carry_their_reason(make_app, region):
    app = make_app(control_api=True, transitions="manual")
    sm = app.client(region)
    sm.create_image(ImageName="failing", RoleArn=ROLE)
    arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:image/failing"
    complete(app, arn, fail="the role cannot be assumed")
    sm.update_image(ImageName="failing", Description="again")
    complete(app, arn)
    sm.create_image_version(ImageName="failing", BaseImage="repo/f:1")
    complete(
        app, f"arn:aws:sagemaker:{region}:{ACCOUNT}:image-version/failing/1", fail="no such tag"
    )
    sm.delete_image(ImageName="failing")
    complete(app, arn, fail="still in use")
    events = kept(app)
    assert story(events) == [
        ("image/failing", "CREATING"),
        ("image/failing", "CREATE_FAILED"),
        ("image/failing", "UPDATING"),
        ("image/failing", "CREATED"),
        ("image-version/failing/1", "CREATING"),
        ("image-version/failing/1", "CREATE_FAILED"),
        ("image/failing", "DELETING"),
        ("image-version/failing/1", "DELETING"),
        ("image/failing", "DELETE_FAILED"),
    ]
    reasons = [e["detail"].get("FailureReason") for e in events]
    assert reasons == [
        None,
        "the role cannot be assumed",
        None,
        None,
        None,
        "no such tag",
        None,
        None,
        "still in use",
    ]


def test_events_are_kept_until_reset_or_forgotten(make_app, region):
    app = make_app(control_api=True, transitions="immediate")
    sm = app.client(region)
    sm.create_image(ImageName="kept", RoleArn=ROLE)
    assert len(kept(app)) == 2
    status, _, payload = app.request(
        "DELETE", b"/_sagemaker-images/events", b"", [(b"host", b"t")], b""
    )
    assert (status, json.loads(payload)) == (200, {"forgotten": 2})
    assert kept(app) == []
    sm.update_image(ImageName="kept", Description="d")
    assert len(kept(app)) == 2
    app.request("POST", b"/_sagemaker-images/reset", b"", [(b"host", b"t")], b"{}")
    assert kept(app) == []


def test_no_events_for_studio_resources(make_app, region):
    """AWS documents no events for domains, profiles, spaces or apps: none are written."""
    app = make_app(control_api=True, transitions="immediate")
    sm = app.client(region)
    sm.create_domain(
        DomainName="quiet",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-0123456789abcdef0"],
        VpcId="vpc-0123456789abcdef0",
    )
    assert kept(app) == []


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def metric(app: Any, name: str, sink: str) -> float:
    _, _, payload = app.request("GET", b"/metrics", b"", [(b"host", b"t")], b"")
    for line in payload.decode().splitlines():
        if line.startswith(f'{name}{{sink="{sink}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} for {sink}")


def test_a_webhook_gets_each_event_signed_and_in_order(make_app, region, receiver):
    app = make_app(
        transitions="immediate",
        events_webhooks=(receiver.url,),
        events_webhook_secret="s3cret",
    )
    sm = app.client(region)
    sm.create_image(ImageName="hooked", RoleArn=ROLE)
    sm.create_image_version(ImageName="hooked", BaseImage="repo/h:1")
    events = receiver.wait_for(lambda got: len(got) >= 4)
    assert per_resource(events) == {
        "image/hooked": ["CREATING", "CREATED"],
        "image-version/hooked/1": ["CREATING", "CREATED"],
    }
    for headers, body, event in receiver.received:
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-SageMaker-Images-Signature"] == expected
        assert headers["X-SageMaker-Images-Event-Id"] == event["id"]
        assert headers["Content-Type"] == "application/json"
    sink = f"webhook {receiver.url}"

    def all_recorded() -> None:
        assert metric(app, "sagemaker_images_events_delivered_total", sink) == 4
        assert metric(app, "sagemaker_images_events_undelivered", sink) == 0

    eventually(all_recorded)


def test_a_webhook_that_refuses_is_retried_and_its_lag_shows(make_app, region, receiver):
    receiver.status = 503
    app = make_app(transitions="immediate", events_webhooks=(receiver.url,))
    sm = app.client(region)
    sm.create_image(ImageName="waiting", RoleArn=ROLE)
    sink = f"webhook {receiver.url}"
    assert receiver.wait_for(lambda _: receiver.refused >= 2) == []

    def retried() -> None:
        assert metric(app, "sagemaker_images_events_retried_total", sink) >= 1

    eventually(retried)
    assert metric(app, "sagemaker_images_events_undelivered", sink) == 2
    assert metric(app, "sagemaker_images_events_oldest_undelivered_age_seconds", sink) >= 0
    receiver.status = 200
    events = receiver.wait_for(lambda got: len(got) >= 2)
    assert story(events) == [("image/waiting", "CREATING"), ("image/waiting", "CREATED")]

    def none_waits() -> None:
        assert metric(app, "sagemaker_images_events_undelivered", sink) == 0

    eventually(none_waits)


def test_a_webhook_that_is_not_up_yet_gets_everything_once_it_is(make_app, region, caplog):
    """Nothing listens at the URL when the server starts, nor for a while: the events wait
    in the database and arrive, in order, once something does."""
    import logging

    from support import free_port

    caplog.set_level(logging.DEBUG, logger="sagemaker_images.events.delivery")
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    app = make_app(transitions="immediate", events_webhooks=(url,))
    sm = app.client(region)
    sm.create_image(ImageName="early", RoleArn=ROLE)
    sm.create_image_version(ImageName="early", BaseImage="repo/e:1")
    sink = f"webhook {url}"
    eventually(lambda: _at_least(metric(app, "sagemaker_images_events_retried_total", sink), 2))
    assert metric(app, "sagemaker_images_events_undelivered", sink) == 4
    late = Receiver(port).start()
    try:
        events = late.wait_for(lambda got: len(got) >= 4)
    finally:
        late.stop()
    assert per_resource(events) == {
        "image/early": ["CREATING", "CREATED"],
        "image-version/early/1": ["CREATING", "CREATED"],
    }
    assert any("ConnectionRefusedError" in r.getMessage() for r in caplog.records)
    (creating,) = [e for e in events if story([e]) == [("image/early", "CREATING")]]

    def logged() -> None:  # once the delivery job has its answers
        lines = [r.getMessage() for r in caplog.records]
        said = f"event {creating['id']} (arn:aws:sagemaker:{region}:{ACCOUNT}:image/early"
        assert any(line.startswith(said) and " delivered to " in line for line in lines)

    eventually(logged)


def _at_least(value: float, least: float) -> None:
    assert value >= least


def test_the_source_can_be_one_of_yours(make_app, region):
    """AWS's own EventBridge refuses PutEvents from a source that starts with `aws.`."""
    app = make_app(control_api=True, transitions="immediate", events_source="platform.images")
    app.client(region).create_image(ImageName="sourced", RoleArn=ROLE)
    assert {e["source"] for e in kept(app)} == {"platform.images"}


@pytest.mark.backends("sqlite")
def test_a_sink_taken_out_of_the_settings_leaves_nothing_behind(make_app, region):
    """The only server of its database starts without the sink: its undelivered events and
    its delivery job go (where servers share a database, once none has named it for ten
    minutes)."""
    from support import free_port, query_database

    closed = f"http://127.0.0.1:{free_port()}/nobody"
    app = make_app(transitions="immediate", events_webhooks=(closed,))
    app.client(region).create_image(ImageName="left", RoleArn=ROLE)
    url = app.settings.database_url
    assert query_database(url, "SELECT COUNT(*) FROM events") == [(2,)]
    app.stop()
    make_app(database_url=url)
    assert query_database(url, "SELECT COUNT(*) FROM events") == [(0,)]
    assert query_database(url, "SELECT COUNT(*) FROM event_deliveries") == [(0,)]
    assert query_database(url, "SELECT COUNT(*) FROM jobs WHERE kind = 'events.deliver'") == [(0,)]
