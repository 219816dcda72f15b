"""What an operator's tools read: metrics, readiness and liveness, on the application."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from auth_support import KEY_A
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families
from support import ROLE, free_port, studio_owner

from sagemaker_images import __version__

pytestmark = pytest.mark.backends("sqlite")

HOST = [(b"host", b"sagemaker-images.test")]


def get(app, path: str, headers=HOST) -> tuple[int, dict[str, str], bytes]:
    return app.request("GET", path.encode(), b"", headers, b"")


def samples(text: bytes) -> dict[tuple[str, tuple], float]:
    """Every sample of an exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_metrics_count_calls_jobs_and_the_build(make_app):
    app = make_app(transitions="immediate")
    sm = app.client()
    sm.create_image(ImageName="metered-image", RoleArn=ROLE)
    with pytest.raises(ClientError):
        sm.describe_image(ImageName="not-there")
    status, headers, body = get(app, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(body)

    def value(name: str, **labels: str) -> float:
        return found[(name, tuple(sorted(labels.items())))]

    requests = "sagemaker_images_requests_total"
    assert value(requests, operation="CreateImage", status="200", error="") == 1
    assert value(requests, operation="DescribeImage", status="400", error="ResourceNotFound") == 1
    duration = "sagemaker_images_request_duration_seconds"
    assert value(f"{duration}_count", operation="CreateImage") == 1
    bounds = [
        labels[0][1]
        for name, labels in found
        if name == f"{duration}_bucket" and dict(labels)["operation"] == "CreateImage"
    ]
    assert bounds[0] == "0.0005" and bounds[-2:] == ["10.0", "+Inf"]
    assert value("sagemaker_images_requests_in_flight") == 0
    # Immediate transitions: the image's job is done, none is waiting.
    jobs = "sagemaker_images_job_duration_seconds_count"
    assert value(jobs, kind="image.create", outcome="done") == 1
    assert value("sagemaker_images_jobs", kind="version.create", state="queued") == 0
    assert value("sagemaker_images_build_info", version=__version__, backend="sqlite") == 1
    # Labels never name a resource, an ARN or a key.
    for text in (b"metered-image", b"not-there", b"arn:", b"AKID"):
        assert text not in body


def test_pending_jobs_are_gauged_when_scraped(make_app):
    app = make_app(transitions="manual")
    sm = app.client()
    sm.create_image(ImageName="waiting", RoleArn=ROLE)
    found = samples(get(app, "/metrics")[2])
    key = ("sagemaker_images_jobs", (("kind", "image.create"), ("state", "queued")))
    assert found[key] == 1


def test_apps_are_gauged_by_status_when_scraped(make_app):
    app = make_app(transitions="immediate")
    sm = app.client()
    app_key = {**studio_owner(sm, "metered"), "AppType": "JupyterServer"}
    for name in ("one", "two", "three"):
        sm.create_app(**app_key, AppName=name)
    sm.delete_app(**app_key, AppName="one")
    sm.create_app(
        **app_key,
        AppName="broken",
        ResourceSpec={"SageMakerImageArn": "arn:aws:sagemaker:us-east-1:123456789012:image/none"},
    )
    found = samples(get(app, "/metrics")[2])
    counts = {
        status: found[("sagemaker_images_apps", (("status", status),))]
        for status in ("Pending", "InService", "Deleting", "Deleted", "Failed")
    }
    assert counts == {"Pending": 0, "InService": 2, "Deleting": 0, "Deleted": 1, "Failed": 1}


def test_metrics_can_be_turned_off_or_served_on_their_own_port(make_app):
    off = make_app(metrics=False)
    assert get(off, "/metrics")[0] == 404
    port = free_port()
    apart = make_app(metrics_address=f"127.0.0.1:{port}")
    assert get(apart, "/metrics")[0] == 404
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert b"sagemaker_images_build_info" in response.read()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=10)
    assert refused.value.code == 404


def test_metrics_want_a_signature_when_signatures_are_verified(auth_server):
    status, _, body = get(auth_server, "/metrics")
    assert (status, json.loads(body)["__type"]) == (403, "MissingAuthenticationToken")
    request = AWSRequest(
        method="GET",
        url="http://sagemaker-images.test/metrics",
        headers={"Host": "sagemaker-images.test"},
    )
    SigV4Auth(KEY_A.credentials(), "sagemaker", "us-east-1").add_auth(request)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    status, _, body = get(auth_server, "/metrics", headers)
    assert status == 200, body
    assert b"sagemaker_images_requests_total" in body


def test_readiness_and_liveness(make_app):
    app = make_app()
    assert get(app, "/healthz")[:1] == (200,)
    status, _, body = get(app, "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    assert app.request("HEAD", b"/readyz", b"", HOST, b"")[0] == 200


@pytest.mark.backends("postgresql")
def test_the_postgresql_pool_is_gauged(make_app):
    app = make_app(database_pool_size=3)
    app.client().list_images()
    found = samples(get(app, "/metrics")[2])
    in_use = found[("sagemaker_images_database_connections", (("state", "in_use"),))]
    idle = found[("sagemaker_images_database_connections", (("state", "idle"),))]
    # The scrape itself and the worker may hold connections meanwhile; never more than 3.
    assert 1 <= in_use + idle <= 3
    assert found[("sagemaker_images_database_waiting_callers", ())] == 0
    # One call at a time: no read ever waited with another of its statement.
    assert found[("sagemaker_images_database_read_groups_total", ())] == 0
    assert found[("sagemaker_images_database_grouped_reads_total", ())] == 0
    build = ("sagemaker_images_build_info", (("backend", "postgresql"), ("version", __version__)))
    assert found[build] == 1
