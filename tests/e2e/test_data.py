"""Moving a catalog: backup and restore, export and import, copy from a live endpoint.

One source server (SQLite, transitions held until the control API completes them) holds a
catalog with every kind of state: gaps in version numbers, failed creations and updates,
transitions in progress, aliases, tags, metadata and the three kinds of app configuration,
in two regions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    ROLE,
    ServerProcess,
    catalog_answers,
    query_database,
    run_cli,
    wait_until,
)

from sagemaker_images.testing import ControlClient

REGIONS = ("us-east-1", "eu-west-1")
HELD = ("--transitions", "manual", "--control-api")
PADDING = ("pad-1", "pad-2", "pad-3")


def _populate(server: ServerProcess) -> None:
    control = ControlClient(server.endpoint)
    clients = [server.client(region) for region in REGIONS]
    for sm in clients:
        sm.create_image(
            ImageName="Training",
            RoleArn=ROLE,
            Description="GPU training",
            DisplayName="Training images",
            Tags=[{"Key": "team", "Value": "ml"}, {"Key": "cost-centre", "Value": "42"}],
        )
        for name in ("Notebook", "Broken", *PADDING):
            sm.create_image(ImageName=name, RoleArn=ROLE)
        sm.create_app_image_config(
            AppImageConfigName="kernels",
            KernelGatewayImageConfig={
                "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3"}],
                "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 1000},
            },
            Tags=[{"Key": "team", "Value": "ml"}],
        )
        sm.create_app_image_config(
            AppImageConfigName="lab",
            JupyterLabAppImageConfig={
                "ContainerConfig": {
                    "ContainerArguments": ["--debug"],
                    "ContainerEnvironmentVariables": {"A": "1"},
                }
            },
        )
        sm.create_app_image_config(AppImageConfigName="editor", CodeEditorAppImageConfig={})
        sm.update_app_image_config(
            AppImageConfigName="editor",
            CodeEditorAppImageConfig={"ContainerConfig": {"ContainerEntrypoint": ["code"]}},
        )
    control.complete()
    for region, sm in zip(REGIONS, clients, strict=True):
        for number in range(1, 5):
            sm.create_image_version(
                ImageName="Training",
                BaseImage=f"registry.example/train:{number}",
                ClientToken=f"token-{region}-{number}",
                Aliases=[f"v{number}", *(["latest"] if number == 4 else [])],
                JobType="TRAINING",
                MLFramework="PyTorch 2.1",
                ProgrammingLang="Python 3.11",
                Processor="GPU",
                Horovod=number % 2 == 0,
                ReleaseNotes=f"release {number}",
                VendorGuidance="STABLE",
            )
        for name in PADDING:
            for number in (1, 2):
                sm.create_image_version(ImageName=name, BaseImage=f"r/{name}:{number}")
    control.complete()
    for sm in clients:
        sm.delete_image_version(ImageName="Training", Version=2)  # a gap in the numbers
    control.complete()
    for sm in clients:
        _studio(sm, control)
    for sm in clients:
        failed = sm.create_image_version(ImageName="Training", BaseImage="r/missing:1")
        control.complete(failed["ImageVersionArn"], fail="manifest unknown")
        sm.update_image(ImageName="Broken", Description="broken on purpose")
        control.complete(_arn(sm, "Broken"), fail="role cannot be assumed")
    for sm in clients:
        # Left in progress: a version being created and an image being created.
        sm.create_image_version(ImageName="Notebook", BaseImage="r/notebook:1")
        sm.create_image(ImageName="Pending", RoleArn=ROLE, Tags=[{"Key": "k", "Value": ""}])
        (domain,) = sm.list_domains()["Domains"]
        sm.create_space(DomainId=domain["DomainId"], SpaceName="later")


KERNELS = {"ImageName": "Training", "AppImageConfigName": "kernels"}


def _studio(sm, control: ControlClient) -> None:
    """A domain attaching images and a lifecycle config, a user profile and a shared space
    with their own, and an app (which no export or copy carries: it is what runs)."""
    on_start = sm.create_studio_lifecycle_config(
        StudioLifecycleConfigName="On-Start",
        StudioLifecycleConfigContent="ZWNobyBIZWxsbw==",
        StudioLifecycleConfigAppType="JupyterLab",
        Tags=[{"Key": "team", "Value": "ml"}],
    )["StudioLifecycleConfigArn"]
    domain = sm.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        VpcId="vpc-0abc",
        SubnetIds=["subnet-0abc", "subnet-0def"],
        DefaultUserSettings={
            "ExecutionRole": ROLE,
            "KernelGatewayAppSettings": {"CustomImages": [KERNELS]},
            "JupyterLabAppSettings": {
                "CustomImages": [{**KERNELS, "AppImageConfigName": "lab", "ImageVersionNumber": 0}],
                "LifecycleConfigArns": [on_start],
            },
        },
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    control.complete(domain["DomainArn"])
    profile = sm.create_user_profile(
        DomainId=domain["DomainId"],
        UserProfileName="Alice",
        UserSettings={
            "KernelGatewayAppSettings": {"CustomImages": [{**KERNELS, "ImageVersionNumber": 3}]}
        },
        Tags=[{"Key": "owner", "Value": "alice"}],
    )
    control.complete(profile["UserProfileArn"])
    app = sm.create_app(
        DomainId=domain["DomainId"],
        UserProfileName="Alice",
        AppType="JupyterLab",
        AppName="default",
        ResourceSpec={"LifecycleConfigArn": on_start},
    )
    control.complete(app["AppArn"])
    space = sm.create_space(
        DomainId=domain["DomainId"],
        SpaceName="shared",
        SpaceSettings={
            "AppType": "JupyterLab",
            "KernelGatewayAppSettings": {"CustomImages": [KERNELS]},
        },
        OwnershipSettings={"OwnerUserProfileName": "Alice"},
        SpaceSharingSettings={"SharingType": "Shared"},
        SpaceDisplayName="Shared space",
    )
    control.complete(space["SpaceArn"])


def _arn(sm, name: str) -> str:
    return sm.describe_image(ImageName=name)["ImageArn"]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("source"), args=HELD).start() as server:
        _populate(server)
        yield server
        server.stop()


@pytest.fixture(scope="module")
def archive(source: ServerProcess) -> bytes:
    exported = run_cli("export", "--database", source.database_url)
    assert exported.returncode == 0, exported.stderr
    assert (
        b"exported 14 images, 22 versions, 6 app image configs, 2 Studio lifecycle configs, 2"
        b" domains, 2 user profiles and 4 spaces" in exported.stderr
    )
    return exported.stdout


def _answers(server: ServerProcess) -> dict[str, dict]:
    return {region: catalog_answers(server.client(region)) for region in REGIONS}


def test_export_from_sqlite_import_into_postgresql_answers_the_same(
    source, archive, databases, tmp_path
):
    url = databases.create()
    imported = run_cli("import", "--database", url, stdin=archive)
    assert imported.returncode == 0, imported.stderr
    assert (
        b"imported 14 images, 22 versions, 6 app image configs, 2 Studio lifecycle configs, 2"
        b" domains, 2 user profiles and 4 spaces" in imported.stderr
    )
    assert b"6 transitions will finish when a server runs" in imported.stderr
    with ServerProcess(tmp_path / "target", args=HELD, database_url=url).start() as target:
        expected = _answers(source)
        assert expected["us-east-1"]["version Training/5"]["ImageVersionStatus"] == "CREATE_FAILED"
        assert [v["Version"] for v in expected["us-east-1"]["versions of Training"]] == [5, 4, 3, 1]
        assert _answers(target) == expected
        # The transitions in progress came along: the target finishes them.
        ControlClient(target.endpoint).complete()
        sm = target.client("us-east-1")
        assert sm.describe_image(ImageName="Pending")["ImageStatus"] == "CREATED"
        # Apps run at the source; none is exported (what runs is not catalogued).
        assert [a["Status"] for a in source.client("us-east-1").list_apps()["Apps"]] == [
            "InService"
        ]
        assert sm.list_apps()["Apps"] == []
        (domain,) = sm.list_domains()["Domains"]
        later = sm.describe_space(DomainId=domain["DomainId"], SpaceName="later")
        assert later["Status"] == "InService"
        notebook = sm.describe_image_version(ImageName="Notebook", Version=1)
        assert notebook["ImageVersionStatus"] == "CREATED"
        # Numbers carry on after the highest ever given, as in the source.
        made = sm.create_image_version(ImageName="Training", BaseImage="r/x:6")
        assert made["ImageVersionArn"].endswith("/training/6")
        assert target.stop() == 0


def test_export_of_one_account(source):
    exported = run_cli("export", "--database", source.database_url, "--account", "999999999999")
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines[0]["account"] == "999999999999"
    assert lines[1:] == [
        {
            "kind": "end",
            "images": 0,
            "versions": 0,
            "app_image_configs": 0,
            "studio_lifecycle_configs": 0,
            "domains": 0,
            "user_profiles": 0,
            "spaces": 0,
        }
    ]


def test_import_refuses_conflicts_unless_told_to_merge(archive, tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert run_cli("import", "--database", url, stdin=archive).returncode == 0
    changed = "UPDATE images SET description = 'changed here' WHERE name = 'Training'"
    query_database(url, changed)
    refused = run_cli("import", "--database", url, stdin=archive)
    assert refused.returncode == 1
    message = refused.stderr.decode()
    assert "nothing imported: the catalog already holds 30 resources of the file" in message
    assert "  image Training (account 123456789012, us-east-1)" in message
    assert "  app-image-config lab (account 123456789012, eu-west-1)" in message
    assert "--merge skip" in message

    def descriptions() -> set[str]:
        return {row[0] for row in query_database(url, "SELECT description FROM images")} - {None}

    assert descriptions() == {"changed here", "broken on purpose"}
    skipped = run_cli("import", "--database", url, "--merge", "skip", stdin=archive)
    assert skipped.returncode == 0, skipped.stderr
    assert b"skipped 30 already there" in skipped.stderr
    assert descriptions() == {"changed here", "broken on purpose"}
    replaced = run_cli("import", "--database", url, "--merge", "overwrite", stdin=archive)
    assert replaced.returncode == 0, replaced.stderr
    assert b"replaced 30" in replaced.stderr
    assert descriptions() == {"GPU training", "broken on purpose"}
    assert query_database(url, "SELECT COUNT(*) FROM image_versions") == [(22,)]
    again = run_cli("export", "--database", url)
    assert again.stdout.splitlines()[1:] == archive.splitlines()[1:]


def _broken(archive: bytes, number: int, line: bytes | None) -> bytes:
    lines = archive.splitlines()
    if line is None:
        del lines[number - 1]
    else:
        lines[number - 1] = line
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda a: _broken(a, len(a.splitlines()), None), "the file is truncated: no end line"),
        (lambda a: _broken(a, 3, b'{"kind": "version", "ima'), "line 3: not JSON"),
    ],
)
def test_a_bad_file_imports_nothing_and_names_the_line(archive, tmp_path, edit, complaint):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = run_cli("import", "--database", url, stdin=edit(archive))
    assert result.returncode == 1
    assert complaint in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert not (tmp_path / "catalog.db").exists()


def test_import_into_a_served_sqlite_catalog_is_refused(source, archive):
    result = run_cli("import", "--database", source.database_url, "--merge", "skip", stdin=archive)
    assert result.returncode == 1
    assert "another server is already serving" in result.stderr.decode()
    assert "stop the server on it first" in result.stderr.decode()


def test_copy_from_a_server_that_checks_no_signatures_needs_no_credentials(source, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key == "AWS_CA_BUNDLE"
    }
    env |= {
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_images", "copy", "--from-endpoint", source.endpoint,
         "--database", url],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    said = result.stderr
    assert "no AWS credentials configured: signing the reads of" in said
    assert "placeholder keys" in said and "no region given: reading" in said
    assert query_database(url, "SELECT COUNT(*) FROM images")[0][0] > 0


def test_copy_server_to_server_resumes_after_an_interruption(source, tmp_path):
    control = ControlClient(source.endpoint)
    # Slow reads, so that the copy can be interrupted half-way.
    control.faults(operation="ListAliases", latency_ms=150)
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    command = [
        sys.executable,
        "-m",
        "sagemaker_images",
        "copy",
        "--from-endpoint",
        source.endpoint,
        "--region",
        "us-east-1",
        "--database",
        url,
    ]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDCOPY",
        "AWS_SECRET_ACCESS_KEY": "copy",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    # Ctrl-C as a terminal sends it: a test run started in the background (`make test &`,
    # `nohup`) ignores SIGINT, its children inherit that, and the copy would finish.
    copying = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )

    def copied() -> int:
        try:
            return int(query_database(url, "SELECT COUNT(*) FROM images")[0][0])
        except Exception:
            return 0

    try:
        wait_until(lambda: copied() >= 2, timeout=60)
        copying.send_signal(signal.SIGINT)
        _, stderr = copying.communicate(timeout=60)
    finally:
        control.clear_faults()
        if copying.poll() is None:
            copying.kill()
    assert copying.returncode == 130, stderr
    assert b"run the same command again to copy the rest" in stderr
    partial = copied()
    assert 2 <= partial < 7

    # What was copied stays; the source changes meanwhile; the copy resumes.
    sm = source.client("us-east-1")
    added = sm.create_image_version(ImageName="pad-1", BaseImage="r/pad-1:3")
    control.complete(added["ImageVersionArn"])
    resumed = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert b"copied 7 images, " in resumed.stderr
    again = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert (
        b"copied 7 images, 0 new versions, 3 app image configs, 1 Studio lifecycle config,"
        b" 1 domain, 1 user profile and 2 spaces" in again.stderr
    )

    with ServerProcess(tmp_path / "target", args=HELD, database_url=url).start() as target:
        copied_answers = catalog_answers(target.client("us-east-1"))
        assert _settled(copied_answers) == _settled(catalog_answers(sm))
        # What was in progress at the source is finished by the copy's own server (the API
        # tells nothing of when the source will finish it).
        assert copied_answers["image Pending"]["ImageStatus"] == "CREATED"
        assert copied_answers["version Notebook/1"]["ImageVersionStatus"] == "CREATED"
        later = next(k for k in copied_answers if k.endswith("/later"))
        assert copied_answers[later]["Status"] == "InService"
        assert target.client("eu-west-1").list_images()["Images"] == []
        assert target.stop() == 0


IN_PROGRESS = ("Pending", "Notebook", "later")


def _settled(answers: dict) -> dict:
    """The answers about everything but the resources with transitions in progress."""

    def settled(item: object) -> bool:
        names = {item.get("ImageName"), item.get("SpaceName")} if isinstance(item, dict) else ()
        return not any(name in IN_PROGRESS for name in names)

    return {
        key: [item for item in value if settled(item)] if isinstance(value, list) else value
        for key, value in answers.items()
        if not any(
            key.endswith((f" {name}", f"/{name}")) or f" {name}/" in key for name in IN_PROGRESS
        )
    }


def test_backup_of_a_catalog_being_written_restores(tmp_path):
    with ServerProcess(tmp_path / "live", args=("--transitions", "immediate")).start() as server:
        sm = server.client()
        stop = threading.Event()
        acknowledged: list[str] = []

        def write() -> None:
            while not stop.is_set():
                name = f"image-{len(acknowledged)}"
                sm.create_image(ImageName=name, RoleArn=ROLE)
                sm.create_image_version(ImageName=name, BaseImage="r/x:1")
                acknowledged.append(name)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            wait_until(lambda: len(acknowledged) >= 20)
            before = len(acknowledged)
            backup = run_cli("backup", "--database", server.database_url, f"{tmp_path / 'copies'}/")
            after = len(acknowledged)
        finally:
            stop.set()
            writer.join()
        assert backup.returncode == 0, backup.stderr
        (copy,) = (tmp_path / "copies").iterdir()  # catalog-<UTC time>.db
        assert re.fullmatch(r"catalog-\d{8}T\d{6}Z\.db", copy.name), copy.name
        assert f"to {copy}".encode() in backup.stderr
        assert server.stop() == 0

    # Restoring is copying the file back, with the server stopped.
    live = Path(server.database_url.removeprefix("sqlite:///"))
    for leftover in live.parent.glob(live.name + "-*"):
        leftover.unlink()
    shutil.copyfile(copy, live)
    with ServerProcess(tmp_path / "live", database_url=server.database_url).start() as restored:
        sm = restored.client()
        names = {
            image["ImageName"]
            for page in sm.get_paginator("list_images").paginate()
            for image in page["Images"]
        }
        # Everything acknowledged before the backup began is in it, nothing after it ended.
        assert set(acknowledged[:before]) <= names
        assert len(names) <= after + 1
        for name in acknowledged[:before]:
            version = sm.describe_image_version(ImageName=name, Version=1)
            assert version["ImageVersionStatus"] == "CREATED", name
        assert restored.stop() == 0


def test_backups_in_a_directory_never_replace_each_other_and_a_file_only_when_told(tmp_path):
    with ServerProcess(tmp_path / "live").start() as server:
        server.client().create_image(ImageName="kept", RoleArn=ROLE)
        first = run_cli("backup", "--database", server.database_url, str(tmp_path))
        second = run_cli("backup", "--database", server.database_url, str(tmp_path))
        assert first.returncode == second.returncode == 0, (first.stderr, second.stderr)
        made = sorted(p.name for p in tmp_path.glob("catalog-*.db"))
        assert len(made) == 2  # in one second: the second named `-2`, or in the next
        assert re.fullmatch(r"catalog-\d{8}T\d{6}Z(-2)?\.db", made[-1]), made
        named = tmp_path / "named.db"
        assert run_cli("backup", "--database", server.database_url, str(named)).returncode == 0
        again = run_cli("backup", "--database", server.database_url, str(named))
        assert (again.returncode, again.stderr.decode().strip()) == (
            1,
            f"Error: {named} exists already: give another name, a directory (each backup is"
            " then a file of its own, named by its time), or --overwrite to replace it",
        )
        told = run_cli("backup", "--database", server.database_url, str(named), "--overwrite")
        assert told.returncode == 0, told.stderr


def test_backup_mistakes_are_one_line(tmp_path, databases):
    missing = run_cli("backup", "--database", f"sqlite:///{tmp_path / 'none.db'}", "x.db")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        f"Error: there is no catalog at {tmp_path / 'none.db'}".encode(),
    )
    postgresql = run_cli("backup", "--database", "postgresql://u:secret@db/catalog", "x.db")
    assert postgresql.returncode == 2
    text = postgresql.stderr.decode()
    assert "pg_dump --format=custom --file catalog.dump 'postgresql://u:***@db/catalog'" in text
    assert "secret" not in text
