"""Apps: where a custom image is launched, resolved against the catalog when it starts."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from support import ROLE, error_of, raw_call, wait_until

CONTENT = "ZWNobyBIZWxsbw=="
NETWORK = {"VpcId": "vpc-0abc", "SubnetIds": ["subnet-0abc"]}
KERNELS = {"ImageName": "kernels-image", "AppImageConfigName": "kernels"}
SAGEMAKER_IMAGE = "arn:aws:sagemaker:{region}:081325390199:image/{name}"


def build_catalog(
    sm, *, domain_settings: dict | None = None, settle=lambda: None, **domain: object
) -> str:
    """An image with one CREATED version, a KernelGateway AppImageConfig, a domain whose
    default user settings are `domain_settings`, and a user profile alice; the domain.
    `settle`: what ends transitions, where they do not end at once."""
    sm.create_image(ImageName="kernels-image", RoleArn=ROLE)
    settle()
    sm.create_image_version(ImageName="kernels-image", BaseImage="r/kernels:1", Aliases=["1.0"])
    sm.create_app_image_config(
        AppImageConfigName="kernels", KernelGatewayImageConfig={"KernelSpecs": [{"Name": "py"}]}
    )
    return studio(sm, domain_settings, settle, **domain)


def studio(sm, domain_settings: dict | None = None, settle=lambda: None, **domain: object) -> str:
    """A domain whose default user settings are `domain_settings`, and a user profile alice;
    the domain."""
    domain_id = sm.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE, **(domain_settings or {})},
        **NETWORK,
        **domain,
    )["DomainId"]
    settle()
    sm.create_user_profile(DomainId=domain_id, UserProfileName="alice")
    settle()
    return domain_id


@pytest.fixture
def domain_id(sm):
    return build_catalog(
        sm, domain_settings={"KernelGatewayAppSettings": {"CustomImages": [KERNELS]}}
    )


def image_arn(region: str, name: str = "kernels-image") -> str:
    return f"arn:aws:sagemaker:{region}:123456789012:image/{name}"


def app_of(sm, domain_id: str, name: str = "default", app_type: str = "JupyterServer", **owner):
    owner = owner or {"UserProfileName": "alice"}
    answer = sm.describe_app(DomainId=domain_id, AppType=app_type, AppName=name, **owner)
    answer.pop("ResponseMetadata")
    return answer


def kernel_app(sm, domain_id: str, name: str = "kernels", **spec) -> dict:
    """A KernelGateway app of alice's with this ResourceSpec (on ml.t3.medium), described."""
    sm.create_app(
        DomainId=domain_id,
        UserProfileName="alice",
        AppType="KernelGateway",
        AppName=name,
        ResourceSpec={"InstanceType": "ml.t3.medium", **spec},
    )
    return app_of(sm, domain_id, name, "KernelGateway")


def refusal(call, **request) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as refused:
        call(**request)
    return error_of(refused)


def test_an_app_without_a_resource_spec_runs_sagemakers_image(sm, domain_id, region):
    arn = sm.create_app(
        DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer", AppName="default"
    )["AppArn"]
    assert (
        arn
        == f"arn:aws:sagemaker:{region}:123456789012:app/{domain_id}/alice/jupyterserver/default"
    )
    app = app_of(sm, domain_id)
    assert app == {
        "AppArn": arn,
        "AppType": "JupyterServer",
        "AppName": "default",
        "DomainId": domain_id,
        "UserProfileName": "alice",
        "Status": "InService",
        "CreationTime": app["CreationTime"],
        "LastHealthCheckTimestamp": app["LastHealthCheckTimestamp"],
        "LastUserActivityTimestamp": app["LastHealthCheckTimestamp"],
        "ResourceSpec": {
            "SageMakerImageArn": SAGEMAKER_IMAGE.format(region=region, name="jupyter-server-3"),
            "InstanceType": "system",
        },
    }
    (listed,) = sm.list_apps(DomainIdEquals=domain_id)["Apps"]
    assert listed == {
        "DomainId": domain_id,
        "UserProfileName": "alice",
        "AppType": "JupyterServer",
        "AppName": "default",
        "Status": "InService",
        "CreationTime": app["CreationTime"],
        "ResourceSpec": app["ResourceSpec"],
    }
    sm.create_app(
        DomainId=domain_id,
        UserProfileName="ALICE",  # owners are found whatever the case
        AppType="JupyterServer",
        AppName="system-only",
        ResourceSpec={"InstanceType": "system"},
    )
    described = app_of(sm, domain_id, "system-only")
    assert described["ResourceSpec"] == app["ResourceSpec"]  # nothing more than sent
    assert described["AppArn"].endswith("/alice/jupyterserver/system-only")


def test_an_attached_custom_image_launches(sm, domain_id, region):
    app = kernel_app(sm, domain_id, SageMakerImageArn=image_arn(region))
    assert app["Status"] == "InService"
    assert app["ResourceSpec"] == {
        "SageMakerImageArn": image_arn(region),
        "InstanceType": "ml.t3.medium",
    }
    aliased = kernel_app(
        sm,
        domain_id,
        "aliased",
        SageMakerImageArn=image_arn(region),
        SageMakerImageVersionAlias="1.0",
    )
    assert aliased["Status"] == "InService"
    assert aliased["ResourceSpec"]["SageMakerImageVersionAlias"] == "1.0"


def test_an_image_not_attached_fails_at_launch_with_awss_reason(sm, domain_id, region):
    sm.create_image(ImageName="Loose", RoleArn=ROLE)
    sm.create_image_version(ImageName="Loose", BaseImage="r/loose:1")
    app = kernel_app(sm, domain_id, SageMakerImageArn=image_arn(region, "Loose"))
    assert app["Status"] == "Failed"
    assert app["FailureReason"] == (
        f"ResourceNotFoundError: Unable to launch App [{app['AppArn']}] with Image [Loose]"
        " because it is not present in list of custom images in AppSettings. Please update"
        " AppSettings to add Image [Loose] in list of custom images."
    )
    assert "LastHealthCheckTimestamp" not in app


def test_a_version_must_exist_and_be_created_when_the_app_starts(make_app, region):
    app = make_app(control_api=True, transitions="manual")
    sm = app.client(region)
    domain_id = build_catalog(
        sm,
        domain_settings={"KernelGatewayAppSettings": {"CustomImages": [KERNELS]}},
        settle=lambda: complete(app),
    )
    complete(app)
    sm.create_image_version(ImageName="kernels-image", BaseImage="r/kernels:2")
    version_2 = f"arn:aws:sagemaker:{region}:123456789012:image-version/kernels-image/2"
    complete(app, version_2, fail="the registry said no")
    image = image_arn(region)
    for name, spec in (
        ("no-alias", {"SageMakerImageVersionAlias": "9.9"}),
        ("failed-version", {"SageMakerImageVersionArn": version_2}),
        ("good", {"SageMakerImageVersionArn": version_2.replace("/2", "/1")}),
    ):
        sm.create_app(
            DomainId=domain_id,
            UserProfileName="alice",
            AppType="KernelGateway",
            AppName=name,
            ResourceSpec={"InstanceType": "ml.t3.medium", "SageMakerImageArn": image, **spec},
        )
        assert app_of(sm, domain_id, name, "KernelGateway")["Status"] == "Pending"
    complete(app)
    statuses = {
        name: app_of(sm, domain_id, name, "KernelGateway")
        for name in ("no-alias", "failed-version", "good")
    }
    assert statuses["good"]["Status"] == "InService"
    for name, wanted in (("no-alias", "9.9"), ("failed-version", "2")):
        found = statuses[name]
        assert (found["Status"], found["FailureReason"]) == (
            "Failed",
            f"ResourceNotFoundError: Unable to launch App [{found['AppArn']}] with Image"
            f" [kernels-image] because ImageVersion [{wanted}] does not exist or is not in"
            " CREATED state.",
        )


def test_the_app_image_config_must_exist_and_serve_the_apps_type(sm, region):
    domain_id = build_catalog(
        sm,
        domain_settings={
            "KernelGatewayAppSettings": {"CustomImages": [KERNELS]},
            "JupyterLabAppSettings": {"CustomImages": [KERNELS]},
        },
    )
    lab = sm.create_app(
        DomainId=domain_id,
        UserProfileName="alice",
        AppType="JupyterLab",
        AppName="lab",
        ResourceSpec={"SageMakerImageArn": image_arn(region)},
    )["AppArn"]
    app = app_of(sm, domain_id, "lab", "JupyterLab")
    assert (app["Status"], app["FailureReason"]) == (
        "Failed",
        f"ResourceNotFoundError: Unable to launch App [{lab}] because AppImageConfig [kernels]"
        " has no JupyterLabAppImageConfig for JupyterLab apps.",
    )
    assert app["ResourceSpec"]["InstanceType"] == "ml.t3.medium"  # JupyterLab's default
    sm.delete_app_image_config(AppImageConfigName="kernels")
    gone = kernel_app(sm, domain_id, SageMakerImageArn=image_arn(region))
    assert gone["FailureReason"] == (
        f"ResourceNotFoundError: Unable to launch App [{gone['AppArn']}] because AppImageConfig"
        " [kernels] does not exist."
    )


def test_what_the_call_alone_shows_wrong_is_refused_and_nothing_is_kept(sm, domain_id, region):
    base = {"DomainId": domain_id, "UserProfileName": "alice", "AppName": "x"}
    assert refusal(sm.create_app, **base, AppType="KernelGateway") == (
        "ValidationException",
        "InstanceType is required for KernelGateway apps.",
        400,
    )
    assert refusal(
        sm.create_app, **base, AppType="JupyterServer", ResourceSpec={"InstanceType": "ml.m5.large"}
    ) == ("ValidationException", "JupyterServer apps only support the system InstanceType.", 400)
    sm.create_image(ImageName="other", RoleArn=ROLE)
    other = f"arn:aws:sagemaker:{region}:123456789012:image-version/other/1"
    spec = {"InstanceType": "ml.t3.medium", "SageMakerImageArn": image_arn(region)}
    assert refusal(
        sm.create_app,
        **base,
        AppType="KernelGateway",
        ResourceSpec={**spec, "SageMakerImageVersionArn": other},
    ) == (
        "ValidationException",
        "SageMakerImageVersionArn does not belong to SageMakerImageArn.",
        400,
    )
    assert refusal(
        sm.create_app,
        **base,
        AppType="KernelGateway",
        ResourceSpec={
            **spec,
            "SageMakerImageVersionArn": other.replace("other", "kernels-image"),
            "SageMakerImageVersionAlias": "1.0",
        },
    ) == (
        "ValidationException",
        "Specify only one of SageMakerImageVersionArn and SageMakerImageVersionAlias.",
        400,
    )
    config = sm.create_studio_lifecycle_config(
        StudioLifecycleConfigName="server",
        StudioLifecycleConfigContent=CONTENT,
        StudioLifecycleConfigAppType="JupyterServer",
    )["StudioLifecycleConfigArn"]
    assert refusal(
        sm.create_app,
        **base,
        AppType="KernelGateway",
        ResourceSpec={"InstanceType": "ml.t3.medium", "LifecycleConfigArn": config},
    )[1] == (
        f"Studio Lifecycle Config {config} has app type JupyterServer;"
        " ResourceSpec.LifecycleConfigArn requires KernelGateway."
    )
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"] == []


def test_owners_must_be_one_and_exist(sm, domain_id, region):
    base = {"DomainId": domain_id, "AppType": "JupyterServer", "AppName": "default"}
    exactly_one = (
        "ValidationException",
        "Exactly one of UserProfileName and SpaceName must be specified.",
        400,
    )
    assert refusal(sm.create_app, **base) == exactly_one
    assert refusal(sm.create_app, **base, UserProfileName="alice", SpaceName="s") == exactly_one
    assert refusal(sm.create_app, **base, UserProfileName="bob") == (
        "ResourceNotFound",
        f"UserProfile arn:aws:sagemaker:{region}:123456789012:user-profile/{domain_id}/bob does"
        " not exist.",
        400,
    )
    assert refusal(sm.create_app, **{**base, "DomainId": "d-000000000000"}, UserProfileName="a")[
        :2
    ] == ("ResourceNotFound", "Domain d-000000000000 does not exist.")
    missing = refusal(sm.describe_app, **base, UserProfileName="alice")
    assert missing == (
        "ResourceNotFound",
        f"App arn:aws:sagemaker:{region}:123456789012:app/{domain_id}/alice/jupyterserver/default"
        " does not exist.",
        400,
    )
    assert refusal(sm.delete_app, **base, UserProfileName="alice") == missing


def test_a_key_is_taken_while_its_app_lives_and_reused_once_deleted(sm, domain_id):
    key = {
        "DomainId": domain_id,
        "UserProfileName": "alice",
        "AppType": "JupyterServer",
        "AppName": "default",
    }
    arn = sm.create_app(**key, Tags=[{"Key": "old", "Value": "1"}])["AppArn"]
    first = app_of(sm, domain_id)
    assert refusal(sm.create_app, **key) == ("ResourceInUse", f"App {arn} already exists.", 400)
    sm.delete_app(**key)
    deleted = app_of(sm, domain_id)
    assert deleted["Status"] == "Deleted"  # kept, and listed, for its retention
    assert [a["Status"] for a in sm.list_apps(DomainIdEquals=domain_id)["Apps"]] == ["Deleted"]
    assert refusal(sm.delete_app, **key) == (
        "ValidationException",
        f"App {arn} has already been deleted.",
        400,
    )
    assert sm.create_app(**key)["AppArn"] == arn
    again = app_of(sm, domain_id)
    assert again["Status"] == "InService" and again["CreationTime"] > first["CreationTime"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []  # the old app's went with it


def test_deleting_is_seen_and_a_deleted_app_goes_once_its_retention_lapses(make_app, region):
    now = [1_700_000_000_000]
    app = make_app(clock=lambda: now[0], transitions="0.2", app_retention_seconds=2)
    sm = app.client(region)

    def later(ms: int) -> None:
        """The clock moved on: what is due by then, done."""
        now[0] += ms
        app.run(app.application.worker.settle())

    domain_id = studio(sm, settle=lambda: later(200))
    key = {"DomainId": domain_id, "UserProfileName": "alice", "AppType": "JupyterServer"}
    sm.create_app(**key, AppName="default")
    assert app_of(sm, domain_id)["Status"] == "Pending"
    assert refusal(sm.delete_app, **key, AppName="default")[:2] == (
        "ResourceInUse",
        f"App {app_of(sm, domain_id)['AppArn']} is in Pending state.",
    )
    later(200)
    assert app_of(sm, domain_id)["Status"] == "InService"
    sm.delete_app(**key, AppName="default")
    assert app_of(sm, domain_id)["Status"] == "Deleting"
    assert refusal(sm.delete_app, **key, AppName="default")[0] == "ResourceInUse"
    later(200)
    assert app_of(sm, domain_id)["Status"] == "Deleted"
    later(1_999)  # within the retention: still there
    assert app_of(sm, domain_id)["Status"] == "Deleted"
    later(1)
    assert refusal(sm.describe_app, **key, AppName="default")[0] == "ResourceNotFound"
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"] == []


def test_a_failed_app_cannot_be_deleted_and_needs_not_be(sm, domain_id, region):
    failed = kernel_app(sm, domain_id, SageMakerImageArn=image_arn(region, "nothing"))
    assert failed["Status"] == "Failed"
    assert refusal(
        sm.delete_app,
        DomainId=domain_id,
        UserProfileName="alice",
        AppType="KernelGateway",
        AppName="kernels",
    ) == (
        "ValidationException",
        f"App {failed['AppArn']} previously failed and was automatically deleted.",
        400,
    )


def test_a_profile_with_live_apps_is_not_deleted(sm, domain_id, region):
    key = {"DomainId": domain_id, "UserProfileName": "alice", "AppType": "JupyterServer"}
    sm.create_app(**key, AppName="default")
    profile_arn = f"arn:aws:sagemaker:{region}:123456789012:user-profile/{domain_id}/alice"
    assert refusal(sm.delete_user_profile, DomainId=domain_id, UserProfileName="alice") == (
        "ResourceInUse",
        f"Unable to delete UserProfile [{profile_arn}] because App(s) are associated with it.",
        400,
    )
    sm.delete_app(**key, AppName="default")
    kernel_app(sm, domain_id, SageMakerImageArn=image_arn(region, "nothing"))  # Failed
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="alice")
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"] == []


def test_a_space_runs_one_app_of_its_type(sm, domain_id, region):
    space_arn = sm.create_space(DomainId=domain_id, SpaceName="Shared")["SpaceArn"]
    assert space_arn.endswith("/shared")  # (lower-cased, as every ARN here)
    arn = sm.create_app(
        DomainId=domain_id, SpaceName="shared", AppType="JupyterServer", AppName="default"
    )["AppArn"]
    assert arn.endswith(f"app/{domain_id}/Shared/jupyterserver/default")
    (listed,) = sm.list_apps(DomainIdEquals=domain_id, SpaceNameEquals="SHARED")["Apps"]
    assert listed["SpaceName"] == "Shared" and "UserProfileName" not in listed
    assert sm.list_apps(DomainIdEquals=domain_id, UserProfileNameEquals="shared")["Apps"] == []
    assert refusal(
        sm.create_app, DomainId=domain_id, SpaceName="Shared", AppType="JupyterLab", AppName="lab"
    ) == (
        "ResourceInUse",
        f"Space {space_arn} already has App {arn}.",
        400,
    )
    assert refusal(sm.delete_space, DomainId=domain_id, SpaceName="Shared") == (
        "ResourceInUse",
        f"Unable to delete Space [{space_arn}] because App(s) are associated with it.",
        400,
    )
    sm.create_space(
        DomainId=domain_id,
        SpaceName="lab",
        SpaceSettings={"AppType": "JupyterLab"},
        OwnershipSettings={"OwnerUserProfileName": "alice"},
        SpaceSharingSettings={"SharingType": "Private"},
    )
    assert refusal(
        sm.create_app, DomainId=domain_id, SpaceName="lab", AppType="CodeEditor", AppName="x"
    ) == (
        "ValidationException",
        f"Space {space_arn[:-6]}lab only supports AppType JupyterLab.",
        400,
    )


def test_listing_apps_orders_filters_and_pages(sm, domain_id):
    sm.create_user_profile(DomainId=domain_id, UserProfileName="bob")
    for owner in ("alice", "bob", "alice"):
        count = len(sm.list_apps(DomainIdEquals=domain_id, MaxResults=100)["Apps"])
        sm.create_app(
            DomainId=domain_id, UserProfileName=owner, AppType="JupyterServer", AppName=f"a{count}"
        )
    names = [a["AppName"] for a in sm.list_apps(DomainIdEquals=domain_id)["Apps"]]
    assert names == ["a0", "a1", "a2"]  # oldest first
    descending = sm.list_apps(DomainIdEquals=domain_id, SortOrder="Descending")["Apps"]
    assert [a["AppName"] for a in descending] == ["a2", "a1", "a0"]
    alices = sm.list_apps(UserProfileNameEquals="Alice")["Apps"]
    assert [a["AppName"] for a in alices] == ["a0", "a2"]
    pages = sm.get_paginator("list_apps").paginate(PaginationConfig={"PageSize": 1})
    assert [a["AppName"] for page in pages for a in page["Apps"]] == ["a0", "a1", "a2"]
    assert refusal(sm.list_apps, UserProfileNameEquals="alice", SpaceNameEquals="s") == (
        "ValidationException",
        "Only one of UserProfileNameEquals and SpaceNameEquals can be set.",
        400,
    )


def test_a_running_app_blocks_only_network_changes_of_its_domain(sm, domain_id, region):
    sm.create_image(ImageName="newer", RoleArn=ROLE)
    sm.create_image_version(ImageName="newer", BaseImage="r/newer:1")
    running = kernel_app(sm, domain_id, SageMakerImageArn=image_arn(region))
    domain_arn = sm.describe_domain(DomainId=domain_id)["DomainArn"]
    assert refusal(
        sm.update_domain, DomainId=domain_id, AppNetworkAccessType="VpcOnly", **NETWORK
    ) == (
        "ValidationException",
        f"Unable to update Domain [{domain_arn}] with InService App. Delete all InService apps"
        " in the domain including shared Apps for [domain-shared] User Profile, and try again.",
        400,
    )
    assert refusal(sm.update_domain, DomainId=domain_id, SubnetIds=["subnet-other"])[0] == (
        "ValidationException"
    )
    sm.update_domain(
        DomainId=domain_id,
        DefaultUserSettings={
            "KernelGatewayAppSettings": {
                "CustomImages": [{"ImageName": "newer", "AppImageConfigName": "kernels"}]
            }
        },
        SubnetIds=["subnet-0abc", "subnet-more"],  # adding a subnet is allowed
    )
    assert app_of(sm, domain_id, "kernels", "KernelGateway") == {**running, "Status": "InService"}
    # A new launch sees the domain as it is now: the old image is no longer attached.
    assert (
        kernel_app(sm, domain_id, "another", SageMakerImageArn=image_arn(region))["Status"]
        == "Failed"
    )


def test_lifecycle_configs_at_launch_and_while_apps_use_them(sm, domain_id, region):
    def config(name: str) -> str:
        return sm.create_studio_lifecycle_config(
            StudioLifecycleConfigName=name,
            StudioLifecycleConfigContent=CONTENT,
            StudioLifecycleConfigAppType="JupyterServer",
        )["StudioLifecycleConfigArn"]

    listed, unlisted = config("listed"), config("unlisted")
    sm.create_user_profile(
        DomainId=domain_id,
        UserProfileName="carol",
        UserSettings={"JupyterServerAppSettings": {"LifecycleConfigArns": [listed]}},
    )
    key = {"DomainId": domain_id, "UserProfileName": "carol", "AppType": "JupyterServer"}
    sm.create_app(**key, AppName="ok", ResourceSpec={"LifecycleConfigArn": listed})
    ok = app_of(sm, domain_id, "ok", UserProfileName="carol")
    assert ok["Status"] == "InService" and ok["ResourceSpec"]["LifecycleConfigArn"] == listed
    sm.create_app(**key, AppName="not-listed", ResourceSpec={"LifecycleConfigArn": unlisted})
    failed = app_of(sm, domain_id, "not-listed", UserProfileName="carol")
    assert failed["FailureReason"] == (
        f"ValidationError: Lifecycle Configuration [{unlisted}] is not attached to the"
        " JupyterServer app settings."
    )
    # Where no level lists any, a config sent with the app runs.
    sm.create_app(
        DomainId=domain_id,
        UserProfileName="alice",
        AppType="JupyterServer",
        AppName="free",
        ResourceSpec={"LifecycleConfigArn": unlisted},
    )
    assert app_of(sm, domain_id, "free")["Status"] == "InService"
    app_arn = app_of(sm, domain_id, "free")["AppArn"]
    assert refusal(sm.delete_studio_lifecycle_config, StudioLifecycleConfigName="unlisted") == (
        "ResourceInUse",
        f"Unable to delete Studio Lifecycle Config [{unlisted}] because it is in use by App"
        f" [{app_arn}].",
        400,
    )
    sm.delete_app(
        DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer", AppName="free"
    )
    sm.delete_studio_lifecycle_config(StudioLifecycleConfigName="unlisted")


def test_app_tags_and_the_domains_propagated_tags(sm, region):
    domain_id = build_catalog(sm, TagPropagation="ENABLED", Tags=[{"Key": "team", "Value": "x"}])
    arn = sm.create_app(
        DomainId=domain_id,
        UserProfileName="alice",
        AppType="JupyterServer",
        AppName="default",
        Tags=[{"Key": "key1", "Value": "value1"}],
    )["AppArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "key1", "Value": "value1"},
        {"Key": "team", "Value": "x"},
    ]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "key2", "Value": "value2"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["key1", "team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "key2", "Value": "value2"}]
    sm.update_domain(DomainId=domain_id, TagPropagation="DISABLED")
    other = sm.create_app(
        DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer", AppName="other"
    )["AppArn"]
    assert sm.list_tags(ResourceArn=other)["Tags"] == []


def control(app, name: str, body: dict) -> dict:
    status, _, payload = app.request(
        "POST",
        f"/_sagemaker-images/{name}".encode(),
        b"",
        [(b"host", b"t")],
        json.dumps(body).encode(),
    )
    assert status == 200, payload
    return json.loads(payload)


def complete(app, arn: str | None = None, fail: str | None = None) -> dict:
    body = {k: v for k, v in (("arn", arn), ("fail", fail)) if v is not None}
    return control(app, "complete", body)


def test_the_control_api_fails_an_app_with_a_chosen_reason(make_app, region):
    app = make_app(control_api=True, transitions="manual")
    sm = app.client(region)
    domain_id = studio(sm, settle=lambda: complete(app))
    arn = sm.create_app(
        DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer", AppName="default"
    )["AppArn"]
    assert complete(app, arn, fail="The instance could not be provisioned.") == {"completed": [arn]}
    described = app_of(sm, domain_id)
    assert (described["Status"], described["FailureReason"]) == (
        "Failed",
        "The instance could not be provisioned.",
    )
    # Its purge, a day away, is no transition to complete.
    status, _, payload = app.request(
        "POST",
        b"/_sagemaker-images/complete",
        b"",
        [(b"host", b"t")],
        json.dumps({"arn": arn}).encode(),
    )
    assert (status, json.loads(payload)) == (400, {"error": f"{arn} has no transition in progress"})
    assert complete(app) == {"completed": []}
    assert app_of(sm, domain_id)["Status"] == "Failed"


def test_running_apps_have_a_quota_and_types_may_be_deprecated(make_app, region):
    sm = make_app(
        max_running_apps=1, deprecated_app_types="KernelGateway", transitions="immediate"
    ).client(region)
    domain_id = studio(sm)
    key = {"DomainId": domain_id, "UserProfileName": "alice", "AppType": "JupyterServer"}
    sm.create_app(**key, AppName="one")
    assert refusal(sm.create_app, **key, AppName="two") == (
        "ResourceLimitExceeded",
        "The account-level service limit 'JupyterServer Apps running on system instance' is 1"
        " Apps, with current utilization of 1 Apps and a request delta of 1 Apps. Please use AWS"
        " Service Quotas to request an increase for this quota.",
        400,
    )
    sm.delete_app(**key, AppName="one")
    sm.create_app(**key, AppName="two")
    assert refusal(
        sm.create_app,
        **{**key, "AppType": "KernelGateway"},
        AppName="k",
        ResourceSpec={"InstanceType": "ml.t3.medium"},
    ) == (
        "ValidationException",
        "Invalid AppType [KernelGateway]. This AppType has been deprecated.",
        400,
    )


def test_a_cloudformation_style_loop_sees_each_status_in_turn(paced, paced_server, region):
    def settled() -> bool:
        domains = paced.list_domains()["Domains"]
        profiles = paced.list_user_profiles()["UserProfiles"]
        return all(r["Status"] == "InService" for r in (*domains, *profiles))

    domain_id = studio(paced, settle=lambda: wait_until(settled))
    key = {"DomainId": domain_id, "UserProfileName": "alice", "AppType": "JupyterServer"}
    paced.create_app(**key, AppName="default")
    seen = set()

    def status() -> str:
        seen.add(app_of(paced, domain_id)["Status"])
        return app_of(paced, domain_id)["Status"]

    wait_until(lambda: status() == "InService")
    paced.delete_app(**key, AppName="default")
    wait_until(lambda: status() == "Deleted")
    assert seen <= {"Pending", "InService", "Deleting", "Deleted"}
    raw = raw_call(
        paced_server,
        "SageMaker.DescribeApp",
        {**key, "AppName": "missing"},
        region=region,
    )
    assert raw[0] == 400 and raw[2]["__type"] == "ResourceNotFound"
