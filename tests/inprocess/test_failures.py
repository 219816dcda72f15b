"""When the server itself fails: an internal failure answers 500 without a trace, and a
transition that keeps failing ends in AWS's *_FAILED state once the worker gives up.

The faults are real ones, made in the database behind the server's back (a dropped table,
a trigger that refuses a change), as a damaged or misconfigured database would make them.
"""

from __future__ import annotations

import pytest
from support import (
    create_image,
    create_version,
    image_status,
    query_database,
    version_status,
    wait_until,
)
from support import raw_call as call

# Each trigger refuses one change, on each dialect: (SQLite, PostgreSQL).
REFUSE = {
    "image ready after an update": (
        "CREATE TRIGGER refuse BEFORE UPDATE OF status ON images"
        " WHEN OLD.status = 'UPDATING' AND NEW.status = 'CREATED'"
        " BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
        "images",
        "BEFORE UPDATE OF status",
        "OLD.status = 'UPDATING' AND NEW.status = 'CREATED'",
    ),
    "image removed": (
        "CREATE TRIGGER refuse BEFORE DELETE ON images"
        " BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
        "images",
        "BEFORE DELETE",
        "true",
    ),
    "version removed": (
        "CREATE TRIGGER refuse BEFORE DELETE ON image_versions"
        " BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
        "image_versions",
        "BEFORE DELETE",
        "true",
    ),
}


def execute(app, backend: str, *statements: str) -> None:
    for statement in statements:
        query_database(app.settings.database_url, statement)


def refuse(app, backend: str, change: str) -> None:
    sqlite_trigger, table, timing, condition = REFUSE[change]
    if backend == "sqlite":
        execute(app, backend, sqlite_trigger)
        return
    execute(
        app,
        backend,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'disk says no'; END $$",
        f"CREATE TRIGGER refuse {timing} ON {table} FOR EACH ROW"
        f" WHEN ({condition}) EXECUTE FUNCTION refuse()",
    )


def allow(app, backend: str) -> None:
    if backend == "sqlite":
        execute(app, backend, "DROP TRIGGER refuse")
    else:
        execute(app, backend, "DROP FUNCTION refuse() CASCADE")


@pytest.fixture
def app(make_app):
    """Transitions at once, and a job that fails for a reason of ours is tried twice."""
    return make_app(transitions="0", job_attempts=2)


def test_an_internal_failure_is_a_500_without_a_trace(app, backend, region):
    sm = app.client(region)
    arn = create_image(sm, "tagged")
    execute(app, backend, "DROP TABLE tags")
    status, headers, body = call(app, "SageMaker.ListTags", {"ResourceArn": arn}, region=region)
    assert (status, body) == (
        500,
        {
            "__type": "InternalFailure",
            "message": "We encountered an internal error. Please try again.",
        },
    )
    assert headers["x-amzn-requestid"]
    assert sm.describe_image(ImageName="tagged")["ImageStatus"] == "CREATED"  # serving on


def test_an_update_that_keeps_failing_ends_update_failed(app, backend, region):
    sm = app.client(region)
    create_image(sm, "stuck", Description="before")
    refuse(app, backend, "image ready after an update")
    sm.update_image(ImageName="stuck", Description="after")
    wait_until(lambda: image_status(sm, "stuck") == "UPDATE_FAILED", timeout=30)
    described = sm.describe_image(ImageName="stuck")
    assert described["FailureReason"].startswith("Internal error after 2 attempts: ")
    assert "disk says no" in described["FailureReason"]
    assert described["Description"] == "after"
    # A failed update is not a busy image: once the fault is gone, it can be updated again.
    allow(app, backend)
    sm.update_image(ImageName="stuck", Description="again")
    wait_until(lambda: image_status(sm, "stuck") == "CREATED")
    assert "FailureReason" not in sm.describe_image(ImageName="stuck")


def test_a_delete_that_keeps_failing_ends_delete_failed(app, backend, region):
    sm = app.client(region)
    create_image(sm, "undeletable")
    create_version(sm, "undeletable")
    refuse(app, backend, "image removed")
    sm.delete_image(ImageName="undeletable")
    wait_until(lambda: image_status(sm, "undeletable") == "DELETE_FAILED", timeout=30)
    assert sm.describe_image(ImageName="undeletable")["FailureReason"].startswith(
        "Internal error after 2 attempts: "
    )
    allow(app, backend)
    sm.delete_image(ImageName="undeletable")  # may be asked again
    wait_until(lambda: image_status(sm, "undeletable") is None)


def test_a_version_delete_that_keeps_failing_ends_delete_failed(app, backend, region):
    sm = app.client(region)
    create_image(sm, "versioned")
    create_version(sm, "versioned", Aliases=["kept"])
    refuse(app, backend, "version removed")
    sm.delete_image_version(ImageName="versioned", Alias="kept")
    wait_until(lambda: version_status(sm, "versioned", 1) == "DELETE_FAILED", timeout=30)
    described = sm.describe_image_version(ImageName="versioned", Version=1)
    assert described["FailureReason"].startswith("Internal error after 2 attempts: ")
    listed = sm.list_image_versions(ImageName="versioned")["ImageVersions"]
    assert [(v["ImageVersionStatus"], "FailureReason" in v) for v in listed] == [
        ("DELETE_FAILED", True)
    ]
    # Not busy (only CREATING and DELETING are): it can be changed and deleted again.
    sm.update_image_version(ImageName="versioned", Version=1, ReleaseNotes="still here")
    allow(app, backend)
    sm.delete_image_version(ImageName="versioned", Version=1)
    wait_until(lambda: version_status(sm, "versioned", 1) is None)
