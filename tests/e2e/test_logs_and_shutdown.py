"""What a running server tells its operator, and how it stops: log lines as text and as
JSON, and a graceful shutdown that answers the calls in flight."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest
from auth_support import KEY_A, client_for, write_credentials
from botocore.exceptions import ClientError
from support import (
    ACCESS_KEY,
    ROLE,
    SECRET_KEY,
    ServerProcess,
    create_image,
    create_version,
    image_status,
    raw_call,
    wait_until,
)

from sagemaker_images import __version__
from sagemaker_images.resources.kinds import OPERATIONS
from sagemaker_images.testing import ControlClient

ACCESS_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO sagemaker_images\.access:"
    r" request_id=(?P<request_id>\S+) operation=(?P<operation>\w+) status=(?P<status>\d{3})"
    r" error=(?P<error>\S+) duration_ms=(?P<duration_ms>\d+\.\d{3})"
    r" account=(?P<account>\d{12}) region=(?P<region>\S+) access_key_id=(?P<key>\S+)$",
    re.MULTILINE,
)
# The keys of a JSON access line: a contract with log pipelines, spelled out here.
LINE_KEYS = {"time", "level", "logger", "message"}
CALL_KEYS = {"request_id", "operation", "status", "error", "duration_ms"}
ACCESS_KEYS = LINE_KEYS | CALL_KEYS | {"account", "region", "access_key_id"}


def test_text_logs_say_what_an_operator_must_see(tmp_path):
    with ServerProcess(tmp_path, args=("--transitions", "0")).start() as server:
        sm = server.client("eu-west-1")
        created = sm.create_image(ImageName="logged", RoleArn=ROLE)
        wait_until(lambda: image_status(sm, "logged") == "CREATED")
        create_version(sm, "logged", base="registry.example/logged:1")
        with pytest.raises(ClientError):
            sm.describe_image(ImageName="absent")
        unknown, _, _ = raw_call(server, "SageMaker.CreateNotebookInstance", {}, region="eu-west-1")
        assert unknown == 400
        visits = {}
        for path in ("/ui/", "/ui/images/absent", "/metrics", "/healthz"):
            try:
                with urllib.request.urlopen(f"{server.endpoint}{path}?region=eu-west-1") as got:
                    visits[path] = got.status
            except urllib.error.HTTPError as error:
                visits[path] = error.code
        assert server.stop() == 0
    log = server.log()
    # Other paths are logged with their method and path (not the query), but health checks.
    assert visits == {"/ui/": 200, "/ui/images/absent": 404, "/metrics": 200, "/healthz": 200}
    visited = re.findall(r"method=GET path=(\S+) status=(\d{3}) duration_ms=", log)
    assert visited == [("/ui/", "200"), ("/ui/images/absent", "404"), ("/metrics", "200")]
    # An operation not served is logged by the name it was called with.
    assert "operation=CreateNotebookInstance status=400 error=UnknownOperationException" in log
    # The database URL exactly as it was given (an absolute SQLite path keeps its four /).
    assert (
        f"sagemaker-images {__version__} serving {len(OPERATIONS)} operations from {server.database_url}"
        " (transitions: 0, auth: off)"
    ) in log
    assert server.database_url.startswith("sqlite:////")
    calls = [match.groupdict() for match in ACCESS_LINE.finditer(log)]
    by_id = {call["request_id"]: call for call in calls}
    create = by_id[created["ResponseMetadata"]["RequestId"]]
    assert (create["operation"], create["status"], create["error"]) == ("CreateImage", "200", "-")
    assert {"operation": "DescribeImage", "status": "400", "error": "ResourceNotFound"}.items() <= (
        next(c for c in calls if c["status"] == "400").items()
    )
    for call in calls:
        assert (call["account"], call["region"], call["key"]) == (
            "123456789012",
            "eu-west-1",
            ACCESS_KEY,
        )
    assert "image logged (123456789012, eu-west-1): CREATED" in log
    assert (
        "image version logged/1 (123456789012, eu-west-1): CREATED,"
        " ContainerImage registry.example/logged:1"
    ) in log
    assert "shut down: every call answered" in log
    assert SECRET_KEY not in log
    assert "botocore" not in log and "Traceback" not in log


def test_json_logs_carry_refused_signatures_and_stable_keys(tmp_path):
    credentials = write_credentials(tmp_path / "credentials.toml", [KEY_A])
    args = ("--log-format", "json", "--credentials", str(credentials), "--transitions", "0")
    with ServerProcess(tmp_path, args=args).start() as server:
        sm = client_for(server, KEY_A, "us-east-1")
        create_image(sm, "json-logged")
        forged = client_for(server, KEY_A, "us-east-1", secret="not-the-secret")
        with pytest.raises(ClientError) as refused:
            forged.describe_image(ImageName="json-logged")
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert server.stop() == 0
    entries = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    for entry in entries:
        assert set(entry) >= LINE_KEYS, entry
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    access = [e for e in entries if e["logger"] == "sagemaker_images.access"]
    assert access and all(set(e) == ACCESS_KEYS for e in access)
    assert {(e["operation"], e["status"], e["error"]) for e in access} >= {
        ("CreateImage", 200, None),
        ("DescribeImage", 400, "InvalidSignatureException"),
    }
    assert all(e["access_key_id"] == KEY_A.access_key_id for e in access)
    (refusal,) = [e for e in entries if " refused: " in e["message"]]
    assert refusal["level"] == "INFO"
    assert f"InvalidSignatureException (access key {KEY_A.access_key_id})" in refusal["message"]
    assert "signature we calculated does not match" in refusal["message"]
    assert KEY_A.secret_access_key not in server.log()
    assert "not-the-secret" not in server.log()


def test_a_graceful_shutdown_answers_calls_in_flight_and_jobs_resume(tmp_path):
    args = ("--transitions", "2", "--control-api")
    with ServerProcess(tmp_path, args=args).start() as server:
        sm = server.client()
        sm.create_image(ImageName="interrupted", RoleArn=ROLE)  # CREATED in 2 s
        ControlClient(server.endpoint).faults(operation="DescribeImage", latency_ms=1500)
        answers: list[str] = []
        caller = threading.Thread(
            target=lambda: answers.append(image_status(sm, "interrupted") or "none")
        )
        caller.start()
        time.sleep(0.5)  # the call is being answered
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        caller.join(30)
        assert answers == ["CREATING"]
        assert server.process.wait(30) == 0
    assert "shut down: every call answered, pending transitions resume at next start" in (
        server.log()
    )
    again = ServerProcess(tmp_path, args=("--transitions", "2"))
    with again.start():
        wait_until(lambda: image_status(again.client(), "interrupted") == "CREATED", timeout=10)
        assert again.stop() == 0
    assert "1 pending transition(s) to finish, from earlier calls" in again.log()
