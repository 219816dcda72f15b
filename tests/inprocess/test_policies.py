"""IAM-style policies on access keys, through boto3 against the application: every call a
key's policies allow works, every other one gets AWS's AccessDeniedException with AWS's
message and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from inprocess import InProcessApp
from policy_support import (
    ACCOUNT,
    ADMIN,
    CI,
    GUARDED,
    NOBODY,
    POLICIES,
    READER,
    REGION,
    SCENARIO,
    SCIENTIST,
    SECRET,
    PolicyKey,
    allow,
    arn,
    denial,
    document,
    write_policy_credentials,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
URI = "registry.example/team/image:1"


@pytest.fixture(scope="module")
def app(make_module_app: Any) -> InProcessApp:
    return make_module_app(SCENARIO, POLICIES)


@pytest.fixture(scope="module")
def make_module_app(
    backend: str, databases: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    from support import fresh_database

    from sagemaker_images.config import Settings

    started: list[InProcessApp] = []

    def make(keys: list[PolicyKey], policies: dict[str, str]) -> InProcessApp:
        workdir = tmp_path_factory.mktemp("policies")
        credentials = write_policy_credentials(workdir / "credentials.toml", keys, policies)
        settings = Settings(
            database_url=fresh_database(backend, databases, workdir),
            database_pool_size=4,
            transitions="immediate",
            credentials_file=str(credentials),
            access_log=False,
        )
        started.append(InProcessApp(settings).start())
        return started[-1]

    yield make
    for started_app in started:
        started_app.stop()


def client(app: InProcessApp, key: PolicyKey) -> Any:
    return app.client(REGION, access_key_id=key.access_key_id, secret_access_key=SECRET)


def refused(call: Any, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == message


def missing(call: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException")


def make_image(admin: Any, name: str, **extra: Any) -> None:
    admin.create_image(ImageName=name, RoleArn=ROLE, **extra)


def test_the_root_user_may_do_anything_and_a_key_with_no_policy_nothing(app):
    admin = client(app, ADMIN)
    make_image(admin, "root-made")
    assert admin.describe_image(ImageName="root-made")["ImageStatus"] == "CREATED"
    nobody = client(app, NOBODY)
    refused(
        lambda: nobody.describe_image(ImageName="root-made"),
        denial("nobody", "DescribeImage", arn("image/root-made")),
    )
    refused(
        lambda: nobody.list_images(),
        denial("nobody", "ListImages", arn("*")),
    )


def test_a_read_only_key_reads_and_writes_nothing(app):
    admin, reader = client(app, ADMIN), client(app, READER)
    make_image(admin, "readable")
    assert reader.describe_image(ImageName="readable")["ImageName"] == "readable"
    assert any(i["ImageName"] == "readable" for i in reader.list_images()["Images"])
    refused(
        lambda: reader.create_image(ImageName="Written", RoleArn=ROLE),
        denial("reader", "CreateImage", arn("image/written")),
    )
    missing(lambda: admin.describe_image(ImageName="Written"))
    refused(
        lambda: reader.delete_image(ImageName="readable"),
        denial("reader", "DeleteImage", arn("image/readable")),
    )
    assert admin.describe_image(ImageName="readable")["ImageStatus"] == "CREATED"
    refused(
        lambda: reader.add_tags(
            ResourceArn=arn("image/readable"), Tags=[{"Key": "k", "Value": "v"}]
        ),
        denial("reader", "AddTags", arn("image/readable")),
    )
    assert admin.list_tags(ResourceArn=arn("image/readable"))["Tags"] == []


def test_a_ci_key_versions_its_teams_images_and_moves_their_aliases_only(app):
    admin, ci = client(app, ADMIN), client(app, CI)
    for name in ("team-a-train", "team-b-train"):
        make_image(admin, name)
    ci.create_image_version(ImageName="team-a-train", BaseImage=URI, ClientToken="ci-1")
    ci.create_image_version(
        ImageName="team-a-train", BaseImage=URI, ClientToken="ci-2", Aliases=["stable"]
    )
    ci.update_image_version(
        ImageName="team-a-train", Alias="stable", AliasesToAdd=["prod"], AliasesToDelete=["stable"]
    )
    latest = ci.describe_image_version(ImageName="team-a-train")
    assert latest["Version"] == 2
    assert ci.list_aliases(ImageName="team-a-train", Version=2)["SageMakerImageVersionAliases"] == [
        "prod"
    ]
    refused(
        lambda: ci.create_image_version(
            ImageName="team-b-train", BaseImage=URI, ClientToken="ci-3"
        ),
        denial("ci", "CreateImageVersion", arn("image/team-b-train")),
    )
    assert admin.list_image_versions(ImageName="team-b-train")["ImageVersions"] == []
    admin.create_image_version(ImageName="team-b-train", BaseImage=URI, ClientToken="admin-1")
    # The latest version, looked up, is the resource a version read without Version is on.
    refused(
        lambda: ci.describe_image_version(ImageName="team-b-train"),
        denial("ci", "DescribeImageVersion", arn("image-version/team-b-train/1")),
    )
    refused(
        lambda: ci.update_image_version(ImageName="team-b-train", Version=1, AliasesToAdd=["x"]),
        denial("ci", "UpdateImageVersion", arn("image-version/team-b-train/1")),
    )
    assert admin.list_aliases(ImageName="team-b-train")["SageMakerImageVersionAliases"] == []
    refused(
        lambda: ci.delete_image_version(ImageName="team-a-train", Version=1),
        denial("ci", "DeleteImageVersion", arn("image-version/team-a-train/1")),
    )


def test_an_explicit_deny_wins_and_a_boundary_caps_what_policies_allow(app):
    admin, guarded = client(app, ADMIN), client(app, GUARDED)
    guarded.create_image(ImageName="guarded", RoleArn=ROLE)
    refused(
        lambda: guarded.delete_image(ImageName="guarded"),
        denial("guarded", "DeleteImage", arn("image/guarded"), "explicit"),
    )
    refused(
        lambda: guarded.update_image(ImageName="guarded", Description="changed"),
        denial("guarded", "UpdateImage", arn("image/guarded"), "boundary"),
    )
    assert "Description" not in admin.describe_image(ImageName="guarded")


def test_apps_launch_only_on_approved_images(app):
    admin, scientist = client(app, ADMIN), client(app, SCIENTIST)
    domain = admin.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )["DomainArn"].rsplit("/", 1)[1]
    admin.create_user_profile(DomainId=domain, UserProfileName="ana")
    for name in ("approved-torch", "unvetted"):
        make_image(admin, name)
        admin.create_image_version(ImageName=name, BaseImage=URI, ClientToken=name)
        admin.create_app_image_config(
            AppImageConfigName=f"{name}-config",
            KernelGatewayImageConfig={"KernelSpecs": [{"Name": "python3"}]},
        )
    admin.update_domain(
        DomainId=domain,
        DefaultUserSettings={
            "KernelGatewayAppSettings": {
                "CustomImages": [
                    {"ImageName": n, "AppImageConfigName": f"{n}-config"}
                    for n in ("approved-torch", "unvetted")
                ]
            }
        },
    )

    def launch(image: str, name: str) -> Any:
        return scientist.create_app(
            DomainId=domain,
            UserProfileName="ana",
            AppType="KernelGateway",
            AppName=name,
            ResourceSpec={
                "SageMakerImageArn": arn(f"image/{image}"),
                "InstanceType": "ml.t3.medium",
            },
        )

    launch("approved-torch", "approved")
    refused(
        lambda: launch("unvetted", "unvetted"),
        denial("scientist", "CreateApp", arn(f"app/{domain}/ana/kernelgateway/unvetted")),
    )
    names = {a["AppName"] for a in admin.list_apps(DomainIdEquals=domain)["Apps"]}
    assert names == {"approved"}


@pytest.fixture(scope="module")
def conditional(make_module_app: Any) -> InProcessApp:
    owner_only = document(
        allow(
            "sagemaker:DescribeImage",
            Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}},
        ),
        allow(
            ["sagemaker:CreateImage", "sagemaker:AddTags"],
            arn("image/*"),
            Condition={"StringEquals": {"aws:RequestTag/owner": "${aws:username}"}},
        ),
    )
    untagged_creator = document(allow("sagemaker:CreateImage"))
    keys = [
        ADMIN,
        PolicyKey("AKIAALICE00000000001", "alice", ["owner-only"]),
        PolicyKey("AKIACREATOR000000001", "creator", ["untagged-creator"]),
    ]
    return make_module_app(keys, {"owner-only": owner_only, "untagged-creator": untagged_creator})


def test_tags_given_at_creation_need_add_tags(conditional):
    creator = client(conditional, PolicyKey("AKIACREATOR000000001", "creator"))
    creator.create_image(ImageName="bare", RoleArn=ROLE)
    refused(
        lambda: creator.create_image(
            ImageName="tagged", RoleArn=ROLE, Tags=[{"Key": "k", "Value": "v"}]
        ),
        denial("creator", "AddTags", arn("image/tagged")),
    )
    missing(lambda: client(conditional, ADMIN).describe_image(ImageName="tagged"))


def test_request_and_resource_tags_with_a_policy_variable(conditional):
    admin = client(conditional, ADMIN)
    alice = client(conditional, PolicyKey("AKIAALICE00000000001", "alice"))
    alice.create_image(ImageName="alices", RoleArn=ROLE, Tags=[{"Key": "owner", "Value": "alice"}])
    refused(
        lambda: alice.create_image(
            ImageName="bobs", RoleArn=ROLE, Tags=[{"Key": "owner", "Value": "bob"}]
        ),
        denial("alice", "CreateImage", arn("image/bobs")),
    )
    admin.create_image(ImageName="bobs", RoleArn=ROLE, Tags=[{"Key": "owner", "Value": "bob"}])
    assert alice.describe_image(ImageName="alices")["ImageName"] == "alices"
    refused(
        lambda: alice.describe_image(ImageName="bobs"),
        denial("alice", "DescribeImage", arn("image/bobs")),
    )


def test_denials_are_counted_by_action(make_module_app):
    from test_metrics_and_health import get, samples

    app = make_module_app([ADMIN, NOBODY], {})
    nobody = client(app, NOBODY)
    for _ in range(2):
        refused(
            lambda: nobody.delete_image(ImageName="x"),
            denial("nobody", "DeleteImage", arn("image/x")),
        )
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    request = botocore.awsrequest.AWSRequest(
        method="GET",
        url="http://sagemaker-images.test/metrics",
        headers={"host": "sagemaker-images.test"},
    )
    credentials = botocore.credentials.Credentials(ADMIN.access_key_id, SECRET)
    botocore.auth.SigV4Auth(credentials, "sagemaker", REGION).add_auth(request)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    status, _, body = get(app, "/metrics", headers)
    assert status == 200
    found = samples(body)
    assert (
        found[("sagemaker_images_access_denials_total", (("action", "sagemaker:DeleteImage"),))]
        == 2
    )


def test_tag_keys_of_a_tag_removal_reach_its_conditions(make_module_app):
    temporary_only = document(
        allow(["sagemaker:DescribeImage", "sagemaker:ListTags"]),
        allow(
            "sagemaker:DeleteTags",
            Condition={"ForAllValues:StringLike": {"aws:TagKeys": "temp-*"}},
        ),
    )
    tidier = PolicyKey("AKIATIDIER0000000001", "tidier", ["temporary-only"])
    app = make_module_app([ADMIN, tidier], {"temporary-only": temporary_only})
    admin, tidy = client(app, ADMIN), client(app, tidier)
    tags = [{"Key": "temp-a", "Value": "1"}, {"Key": "team", "Value": "a"}]
    make_image(admin, "tagged", Tags=tags)
    tidy.delete_tags(ResourceArn=arn("image/tagged"), TagKeys=["temp-a"])
    refused(
        lambda: tidy.delete_tags(ResourceArn=arn("image/tagged"), TagKeys=["team"]),
        denial("tidier", "DeleteTags", arn("image/tagged")),
    )
    assert tidy.list_tags(ResourceArn=arn("image/tagged"))["Tags"] == [
        {"Key": "team", "Value": "a"}
    ]
