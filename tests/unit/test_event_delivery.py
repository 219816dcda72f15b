"""The pieces of event delivery that need no server: waves, backoff, EventBridge's batches,
the webhook's signature, what metrics may show of a URL."""

from __future__ import annotations

import hashlib
import hmac

from sagemaker_images.events.delivery import BACKOFF_CAP, backoff_ms, waves
from sagemaker_images.events.envelope import envelope
from sagemaker_images.events.eventbridge import MOST_BYTES, batches, entry, entry_size
from sagemaker_images.events.sinks import shown_url
from sagemaker_images.events.webhook import signature
from sagemaker_images.store.events import IMAGE_EVENT, VERSION_EVENT, NewEvent, StoredEvent


def stored(n: int, name: str, version: int | None = None, **changes: object) -> StoredEvent:
    kind = IMAGE_EVENT if version is None else VERSION_EVENT
    fields = {
        "account": "123456789012",
        "region": "us-east-1",
        "kind": kind,
        "name": name,
        "version": version,
        "status": "CREATED",
        "failure_reason": None,
        "tags": {},
        "created_ms": 1_765_000_000_999,
        **changes,
    }
    return StoredEvent(n, f"uuid-{n}", NewEvent(**fields))  # type: ignore[arg-type]


def test_a_wave_holds_one_event_per_resource_in_order():
    events = [
        stored(1, "a"),
        stored(2, "a", 1),
        stored(3, "a"),
        stored(4, "b"),
        stored(5, "a", 1),
        stored(6, "a"),
    ]
    assert [[e.id for e in wave] for wave in waves(events)] == [[1, 2, 4], [3, 5], [6]]
    assert waves([]) == []


def test_backoff_doubles_to_its_cap_with_jitter():
    assert backoff_ms(1, lambda: 1.0) == 250
    assert backoff_ms(1, lambda: 0.0) == 125
    assert backoff_ms(3, lambda: 1.0) == 1000
    assert backoff_ms(40, lambda: 1.0) == BACKOFF_CAP * 1000
    assert backoff_ms(40, lambda: 0.0) == BACKOFF_CAP * 500


def test_failure_reason_only_on_failures_and_time_in_utc_seconds():
    failed = envelope(stored(1, "x", 2, status="CREATE_FAILED", failure_reason="no tag"))
    assert failed["detail"]["FailureReason"] == "no tag"
    assert failed["time"] == "2025-12-06T05:46:40Z"
    assert "FailureReason" not in envelope(stored(2, "x", 2, status="CREATING"))["detail"]


def test_eventbridge_calls_hold_ten_entries_and_256_kb_at_most():
    small = [entry(stored(n, f"i{n}"), "default") for n in range(23)]
    assert [len(b) for b in batches(small)] == [10, 10, 3]
    big_tags = {f"k{i}": "v" * 250 for i in range(400)}  # about 100 KB of detail each
    big = [entry(stored(n, f"i{n}", tags=big_tags), "bus") for n in range(5)]
    assert all(entry_size(item) > MOST_BYTES // 3 for item in big)
    cut = batches(big)
    assert [i for b in cut for i in b] == [0, 1, 2, 3, 4]
    assert all(sum(entry_size(big[i]) for i in b) <= MOST_BYTES for b in cut)
    assert [len(b) for b in cut] == [2, 2, 1]


def test_eventbridge_entries_carry_the_stable_id_in_the_detail():
    item = entry(stored(7, "x", 3), "my-bus")
    assert item["EventBusName"] == "my-bus"
    assert item["Source"] == "aws.sagemaker"
    assert item["DetailType"] == "SageMaker Image Version State Change"
    assert item["Resources"] == ["arn:aws:sagemaker:us-east-1:123456789012:image-version/x/3"]
    assert '"EventId":"uuid-7"' in item["Detail"]


def test_the_signature_is_the_bodys_hmac():
    body = b'{"id":"1"}'
    assert signature("key", body) == (
        "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()
    )


def test_urls_are_shown_without_credentials_or_query():
    assert shown_url("https://user:pw@hooks.example:8443/x?token=abc#f") == (
        "https://hooks.example:8443/x"
    )
    assert shown_url("http://[::1]:9/h") == "http://[::1]:9/h"


def test_eventbridge_partial_failures_leave_only_the_refused_entries():
    """PutEvents answers per entry: those it took are delivered, the others sent again."""
    import asyncio

    from botocore.stub import ANY, Stubber

    from sagemaker_images.events.eventbridge import EventBridgeSink

    sink = EventBridgeSink("http://127.0.0.1:9", "bus", "us-east-1")
    wave = [stored(n, f"image-{n}") for n in range(12)]
    with Stubber(sink._client) as stub:
        taken = [{"EventId": f"eb-{n}"} for n in range(10)]
        taken[3] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
        stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": taken}, {"Entries": ANY})
        stub.add_client_error("put_events", "ThrottlingException", "Rate exceeded")
        sent = asyncio.run(sink.send(wave))
        stub.assert_no_pending_responses()
    assert sent.delivered == [n for n in range(10) if n != 3]
    assert sent.failure == "PutEvents entry InternalFailure: try again"


def test_eventbridge_signs_with_the_credential_chain_or_a_placeholder(monkeypatch, caplog):
    from sagemaker_images.events.eventbridge import EventBridgeSink

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    assert EventBridgeSink("http://127.0.0.1:9", "bus", "us-east-1").placeholder
    assert "no AWS credentials found; PutEvents to http://127.0.0.1:9 is signed" in caplog.text
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert not EventBridgeSink("http://127.0.0.1:9", "bus", "us-east-1").placeholder
