"""The control API's routes and refusals, on the application itself."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.backends("sqlite")


def control(app, method: str, name: str, body: bytes = b"") -> tuple[int, dict]:
    status, headers, payload = app.request(
        method, f"/_sagemaker-images/{name}".encode(), b"", [(b"host", b"test")], body
    )
    assert headers["content-type"] == "application/json" or status == 404
    return status, json.loads(payload)


def test_it_is_served_only_when_asked_for(make_app):
    plain = make_app()
    status, answer = control(plain, "GET", "health")
    assert (status, answer["__type"]) == (404, "UnknownOperationException")
    served = make_app(control_api=True, transitions="manual")
    assert control(served, "GET", "health") == (
        200,
        {"status": "ok", "transitions": "manual", "database": "sqlite"},
    )


def test_bad_requests_are_refused_with_a_reason(make_app):
    app = make_app(control_api=True)
    assert control(app, "GET", "nothing")[0] == 404
    assert control(app, "GET", "reset") == (
        405,
        {"error": "GET is not allowed on /_sagemaker-images/reset"},
    )
    assert control(app, "POST", "reset", b"{not json") == (400, {"error": "the body is not JSON"})
    assert control(app, "POST", "reset", b"[1]") == (
        400,
        {"error": "the body must be a JSON object"},
    )
    assert control(app, "POST", "reset", b'{"accounts": "1"}')[0] == 400
    assert control(app, "POST", "reset", b'{"account": "abc"}') == (
        400,
        {"error": "account must be a string of digits"},
    )
    assert control(app, "POST", "complete", b'{"arn": 5}') == (
        400,
        {"error": "arn must be a string"},
    )
    assert control(app, "POST", "reset") == (200, {"reset": "all"})
