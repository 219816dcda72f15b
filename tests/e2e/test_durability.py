"""Acknowledged changes survive restarts and kill -9; pending transitions resume."""

from __future__ import annotations

import pytest
from support import (
    ROLE,
    ServerProcess,
    create_image,
    create_version,
    image_status,
    studio_owner,
    version_status,
    wait_until,
)


def test_graceful_restart_keeps_everything(make_server, region):
    first = make_server("--transitions", "0")
    sm = first.client(region)
    create_image(sm, "kept", Description="survives")
    create_version(sm, "kept", Aliases=["stable"], ReleaseNotes="v1")
    before = sm.describe_image_version(ImageName="kept", Alias="stable")
    assert first.stop() == 0
    second = make_server("--transitions", "0", database_url=first.database_url)
    sm = second.client(region)
    assert sm.describe_image(ImageName="kept")["Description"] == "survives"
    after = sm.describe_image_version(ImageName="kept", Alias="stable")
    for member in (
        "ImageVersionArn",
        "BaseImage",
        "ContainerImage",
        "CreationTime",
        "ReleaseNotes",
        "Version",
    ):
        assert after[member] == before[member]
    assert create_version(sm, "kept") == 2


def test_kill_during_pending_jobs(make_server, region):
    quick = make_server("--transitions", "0")
    sm = quick.client(region)
    create_image(sm, "steady")
    for _ in range(3):
        create_version(sm, "steady")
    create_image(sm, "to-delete")
    quick.stop()

    slow = make_server("--transitions", "3", database_url=quick.database_url)
    sm = slow.client(region)
    for _ in range(5):
        sm.create_image_version(ImageName="steady", BaseImage="r/x:2")
    sm.delete_image_version(ImageName="steady", Version=2)
    sm.update_image_version(ImageName="steady", Version=1, AliasesToAdd=["pinned"])
    sm.create_image(ImageName="newborn", RoleArn=ROLE)
    sm.delete_image(ImageName="to-delete")
    assert version_status(sm, "steady", 8) == "CREATING"
    slow.kill()  # SIGKILL: no shutdown, jobs left claimed or pending

    again = make_server("--transitions", "3", database_url=quick.database_url)
    sm = again.client(region)
    # Every acknowledged change is there...
    assert [version_status(sm, "steady", n) for n in (4, 8)] == ["CREATING", "CREATING"]
    assert version_status(sm, "steady", 2) == "DELETING"
    assert sm.describe_image_version(ImageName="steady", Alias="pinned")["Version"] == 1
    assert image_status(sm, "newborn") == "CREATING"
    assert image_status(sm, "to-delete") == "DELETING"
    # ...and every pending transition finishes.
    wait_until(
        lambda: all(version_status(sm, "steady", n) == "CREATED" for n in range(4, 9)), timeout=30
    )
    wait_until(lambda: version_status(sm, "steady", 2) is None, timeout=30)
    wait_until(lambda: image_status(sm, "newborn") == "CREATED", timeout=30)
    wait_until(lambda: image_status(sm, "to-delete") is None, timeout=30)
    statuses = {
        v["ImageVersionStatus"]
        for v in sm.list_image_versions(ImageName="steady", MaxResults=100)["ImageVersions"]
    }
    assert statuses == {"CREATED"}
    assert create_version(sm, "steady") == 9


@pytest.mark.backends("sqlite")
def test_one_server_per_sqlite_file(make_server, region, tmp_path):
    """A second server on a served SQLite file would hand out version numbers and take over
    jobs behind the first one's back (and the first keeps rows it read until it commits):
    it refuses to start, and starts once the file is free, after a kill -9 too."""
    first = make_server("--transitions", "0")
    sm = first.client(region)
    create_image(sm, "owned")
    second = ServerProcess(tmp_path / "second", database_url=first.database_url)
    with pytest.raises(RuntimeError, match="server exited early") as refused:
        second.start(timeout=30)
    assert "another server is already serving" in str(refused.value)
    assert "Traceback" not in second.log()
    assert second.process is not None and second.process.returncode != 0
    assert create_version(sm, "owned") == 1  # the first one serves on, undisturbed

    first.kill()
    third = make_server("--transitions", "0", database_url=first.database_url)
    assert create_version(third.client(region), "owned") == 2


def _app_status(sm, key: dict[str, str], name: str) -> str:
    return sm.describe_app(**key, AppName=name)["Status"]


def test_kill_while_apps_start_and_stop_leaves_none_stuck(make_server, region):
    quick = make_server("--transitions", "0")
    sm = quick.client(region)
    key = {**studio_owner(sm), "AppType": "JupyterServer"}
    sm.create_app(**key, AppName="stopping")
    wait_until(lambda: _app_status(sm, key, "stopping") == "InService")
    quick.stop()

    slow = make_server("--transitions", "3", database_url=quick.database_url)
    sm = slow.client(region)
    for name in ("one", "two", "three"):
        sm.create_app(**key, AppName=name)
    sm.delete_app(**key, AppName="stopping")
    slow.kill()  # SIGKILL: the launches and the stop are left pending

    again = make_server("--transitions", "3", database_url=quick.database_url)
    sm = again.client(region)
    assert [_app_status(sm, key, n) for n in ("one", "two", "three", "stopping")] == [
        "Pending",
        "Pending",
        "Pending",
        "Deleting",
    ]
    wait_until(
        lambda: (
            [_app_status(sm, key, n) for n in ("one", "two", "three", "stopping")]
            == ["InService", "InService", "InService", "Deleted"]
        ),
        timeout=30,
    )
    launched = sm.describe_app(**key, AppName="one")
    assert launched["LastHealthCheckTimestamp"] >= launched["CreationTime"]
