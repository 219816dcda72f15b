"""Terraform's AWS provider (hashicorp/aws 5.100.0) driving a real server, end to end.

One image only: the provider sleeps 60 s before every CreateImage.
"""

from __future__ import annotations

import pytest
from support import image_status, version_status, wait_until
from terraform_support import Terraform

NAME = "tf-catalog"
FIRST = {
    "image_name": NAME,
    "description": "Training image",
    "display_name": "Training",
    "release_notes": "First release",
    "kernel_display_name": "Python 3 (training)",
    "tags": {"team": "ml", "env": "dev"},
}
SECOND = {
    **FIRST,
    "description": "Training image, refreshed",
    "display_name": "Training v2",
    "release_notes": "Second release notes",
    "kernel_display_name": "Python 3 (refreshed)",
    "tags": {"team": "ml-platform", "cost-center": "42"},
}


def tags_of(sm, arn: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in sm.list_tags(ResourceArn=arn)["Tags"]}


def check_catalog(sm, variables: dict) -> None:
    image = sm.describe_image(ImageName=NAME)
    assert image["ImageStatus"] == "CREATED"
    assert image["Description"] == variables["description"]
    assert image["DisplayName"] == variables["display_name"]
    assert tags_of(sm, image["ImageArn"]) == variables["tags"]

    first = sm.describe_image_version(ImageName=NAME)
    assert first["ImageVersionStatus"] == "CREATED"
    assert first["BaseImage"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.0"
    assert first["ContainerImage"] == first["BaseImage"]
    assert first["Horovod"] is True
    assert (first["JobType"], first["Processor"], first["VendorGuidance"]) == (
        "TRAINING",
        "GPU",
        "STABLE",
    )
    assert (first["MLFramework"], first["ProgrammingLang"]) == ("TensorFlow 2.13", "Python 3.10")
    assert first["ReleaseNotes"] == variables["release_notes"]

    kernel = sm.describe_app_image_config(AppImageConfigName=f"{NAME}-kernel")
    specs = kernel["KernelGatewayImageConfig"]["KernelSpecs"]
    assert specs[0] == {"Name": "python3", "DisplayName": variables["kernel_display_name"]}
    assert specs[1]["Name"] == "ir"
    assert kernel["KernelGatewayImageConfig"]["FileSystemConfig"] == {
        "MountPath": "/home/sagemaker-user",
        "DefaultUid": 1000,
        "DefaultGid": 100,
    }
    assert tags_of(sm, kernel["AppImageConfigArn"]) == variables["tags"]

    lab = sm.describe_app_image_config(AppImageConfigName=f"{NAME}-lab")
    assert lab["JupyterLabAppImageConfig"]["ContainerConfig"] == {
        "ContainerArguments": ["--ServerApp.base_url", "/jupyterlab/default"],
        "ContainerEntrypoint": ["jupyter-lab"],
        "ContainerEnvironmentVariables": {"STAGE": "dev"},
    }
    editor = sm.describe_app_image_config(AppImageConfigName=f"{NAME}-editor")
    assert editor["CodeEditorAppImageConfig"]["ContainerConfig"]["ContainerEntrypoint"] == [
        "code-server"
    ]
    assert tags_of(sm, editor["AppImageConfigArn"]) == {"tool": "code-editor"}


def assert_clean_plan(tf: Terraform) -> None:
    code, output = tf.plan()
    assert code == 0, f"expected no changes, got:\n{output}"


@pytest.mark.timeout(1200)
@pytest.mark.backends("sqlite")  # five minutes a run: the suite proves PostgreSQL the same
def test_terraform_lifecycle(make_server, tmp_path):
    server = make_server("--transitions", "1")
    sm = server.client("us-east-1")
    tf = Terraform(tmp_path / "tf", "catalog", endpoint=server.endpoint)
    tf.write_variables(FIRST)
    tf.init()

    # Create everything, then a plan with nothing to do.
    tf.apply()
    check_catalog(sm, FIRST)
    outputs = tf.outputs()
    assert outputs["image_arn"] == f"arn:aws:sagemaker:us-east-1:123456789012:image/{NAME}"
    assert outputs["version"] == 1
    assert outputs["first_container_image"].endswith("/train:1.0")
    assert_clean_plan(tf)

    # Change descriptions, names, notes and tags in place.
    tf.write_variables(SECOND)
    code, output = tf.plan()
    assert code == 2
    assert "must be replaced" not in output
    assert "0 to add, 3 to change, 0 to destroy" in output
    tf.apply()
    check_catalog(sm, SECOND)
    assert_clean_plan(tf)

    # Deleted behind Terraform's back: the plan notices and apply puts it back.
    sm.delete_app_image_config(AppImageConfigName=f"{NAME}-editor")
    sm.delete_image_version(ImageName=NAME, Version=1)
    wait_until(lambda: version_status(sm, NAME, 1) is None)
    code, output = tf.plan()
    assert code == 2
    assert "aws_sagemaker_app_image_config.editor will be created" in output
    assert "aws_sagemaker_image_version.first will be created" in output
    tf.apply()
    assert tf.outputs()["version"] == 2  # numbers are never reused
    assert sm.describe_image_version(ImageName=NAME)["ReleaseNotes"] == SECOND["release_notes"]
    assert_clean_plan(tf)

    # Forget resources, import them back (with `terraform import`, and with import blocks),
    # and find nothing to change.
    tf.state_rm(
        "aws_sagemaker_image.main",
        "aws_sagemaker_image_version.first",
        "aws_sagemaker_app_image_config.kernel",
        "aws_sagemaker_app_image_config.lab",
    )
    tf.import_("aws_sagemaker_image.main", NAME)
    tf.import_all(
        [
            ("aws_sagemaker_image_version.first", NAME),  # 5.100.0: the image's name
            ("aws_sagemaker_app_image_config.kernel", f"{NAME}-kernel"),
            ("aws_sagemaker_app_image_config.lab", f"{NAME}-lab"),
        ]
    )
    assert_clean_plan(tf)

    # Destroy leaves nothing behind, tags included.
    image_arn = outputs["image_arn"]
    tf.destroy()
    assert image_status(sm, NAME) is None
    assert sm.list_images()["Images"] == []
    assert sm.list_app_image_configs()["AppImageConfigs"] == []
    with pytest.raises(sm.exceptions.ClientError):
        sm.list_tags(ResourceArn=image_arn)


# The provider sends ImageVersionNumber 0 for a custom_image without image_version_number;
# it is stored and echoed as sent, or every plan would show a change.
KERNEL = {
    "ImageName": "tf-studio",
    "AppImageConfigName": "tf-studio-kernel",
    "ImageVersionNumber": 0,
}
LAB = {"ImageName": "tf-studio", "AppImageConfigName": "tf-studio-lab", "ImageVersionNumber": 1}


@pytest.mark.timeout(1200)
@pytest.mark.backends("sqlite")
def test_terraform_attaches_custom_images_in_studio(make_server, tmp_path):
    server = make_server("--transitions", "1")
    sm = server.client("us-east-1")
    tf = Terraform(tmp_path / "tf", "studio", endpoint=server.endpoint)
    tf.write_variables({"second_image": False})
    tf.init()
    tf.apply()
    outputs = tf.outputs()
    domain_id = outputs["domain_id"]
    domain = sm.describe_domain(DomainId=domain_id)
    assert domain["Status"] == "InService"
    settings = domain["DefaultUserSettings"]
    assert settings["KernelGatewayAppSettings"]["CustomImages"] == [KERNEL]
    assert settings["JupyterLabAppSettings"]["CustomImages"] == [LAB]
    assert tags_of(sm, domain["DomainArn"]) == {"team": "ml"}
    profile = sm.describe_user_profile(DomainId=domain_id, UserProfileName="alice")
    assert profile["UserProfileArn"] == outputs["user_profile_arn"]
    kernel = profile["UserSettings"]["KernelGatewayAppSettings"]["CustomImages"]
    assert kernel == [{**KERNEL, "ImageVersionNumber": 1}]
    assert tags_of(sm, outputs["user_profile_arn"]) == {"owner": "alice"}
    space = sm.describe_space(DomainId=domain_id, SpaceName="shared")
    assert space["SpaceSettings"]["KernelGatewayAppSettings"]["CustomImages"] == [KERNEL]
    assert tags_of(sm, outputs["space_arn"]) == {"team": "ml"}
    assert_clean_plan(tf)

    # A second custom image on the domain, in place.
    tf.write_variables({"second_image": True})
    code, output = tf.plan()
    assert code == 2
    assert "0 to add, 1 to change, 0 to destroy" in output
    tf.apply()
    settings = sm.describe_domain(DomainId=domain_id)["DefaultUserSettings"]
    assert settings["KernelGatewayAppSettings"]["CustomImages"] == [KERNEL, LAB]
    assert_clean_plan(tf)

    # Forget the Studio resources, import them back, and find nothing to change.
    tf.state_rm(
        "aws_sagemaker_domain.studio",
        "aws_sagemaker_user_profile.alice",
        "aws_sagemaker_space.shared",
    )
    tf.import_("aws_sagemaker_domain.studio", domain_id)
    tf.import_all(
        [
            ("aws_sagemaker_user_profile.alice", outputs["user_profile_arn"]),
            ("aws_sagemaker_space.shared", outputs["space_arn"]),
        ]
    )
    assert_clean_plan(tf)

    # Removing the last custom image of a list sends no list, and an update keeps what it is
    # not sent (AWS merges settings): the apply succeeds and the next plan shows the same
    # change again, as against AWS.
    tf.write_variables({"second_image": True, "lab_image": False})
    tf.apply()
    settings = sm.describe_domain(DomainId=domain_id)["DefaultUserSettings"]
    assert settings["JupyterLabAppSettings"]["CustomImages"] == [LAB]
    code, output = tf.plan()
    assert code == 2
    assert "0 to add, 1 to change, 0 to destroy" in output

    tf.destroy()
    assert sm.list_domains()["Domains"] == []
    assert sm.list_user_profiles()["UserProfiles"] == []
    assert sm.list_spaces()["Spaces"] == []
    assert sm.list_images()["Images"] == []


APPS = ("basic", "resource_spec", "lifecycle", "space", "tags")


@pytest.mark.timeout(1200)
@pytest.mark.backends("sqlite")
def test_terraform_runs_the_providers_app_configs(make_server, tmp_path):
    """aws_sagemaker_app as the provider's acceptance tests configure it (basic,
    resourceSpec, resourceSpecLifecycle, space, tags), with lifecycle configs a domain and
    a profile refer to: apply, an empty plan, tags changed in place, import, destroy."""
    server = make_server("--transitions", "1")
    sm = server.client("us-east-1")
    tf = Terraform(tmp_path / "tf", "apps", endpoint=server.endpoint)
    name = "tf-acc-test-4242"
    tf.write_variables({"name": name, "tags": {"key1": "value1"}})
    tf.init()
    tf.apply()
    outputs = tf.outputs()
    domain_id = outputs["domain_id"]
    arns = outputs["app_arns"]
    assert arns["basic"] == (
        f"arn:aws:sagemaker:us-east-1:123456789012:app/{domain_id}/{name}/jupyterserver/{name}-basic"
    )
    assert arns["space"].endswith(f"/{name}-space/jupyterserver/{name}")
    apps = sm.list_apps(DomainIdEquals=domain_id)["Apps"]
    assert sorted(a["Status"] for a in apps) == ["InService"] * 5
    (basic,) = outputs["resource_specs"]["basic"]
    assert basic["instance_type"] == "system" and basic["sagemaker_image_arn"]
    (lifecycle,) = outputs["resource_specs"]["lifecycle"]
    assert lifecycle["lifecycle_config_arn"] == outputs["lifecycle_config_arn"]
    assert tags_of(sm, arns["tags"]) == {"key1": "value1"}
    assert tags_of(sm, arns["basic"]) == {}
    domain = sm.describe_domain(DomainId=domain_id)
    lab = domain["DefaultUserSettings"]["JupyterLabAppSettings"]["LifecycleConfigArns"]
    assert lab == [
        f"arn:aws:sagemaker:us-east-1:123456789012:studio-lifecycle-config/{name}-domain"
    ]
    assert_clean_plan(tf)

    # The tags of the acceptance test's second and third steps, in place.
    for tags in ({"key1": "value1updated", "key2": "value2"}, {"key2": "value2"}):
        tf.write_variables({"name": name, "tags": tags})
        code, output = tf.plan()
        assert code == 2 and "must be replaced" not in output
        assert "0 to add, 1 to change, 0 to destroy" in output
        tf.apply()
        assert tags_of(sm, arns["tags"]) == tags
        assert_clean_plan(tf)

    # Forget the apps and lifecycle configs, import them back: nothing to change.
    configs = (("test", name), ("domain", f"{name}-domain"))
    imported = [(f"aws_sagemaker_app.{app}", arns[app]) for app in APPS]
    imported += [(f"aws_sagemaker_studio_lifecycle_config.{c}", n) for c, n in configs]
    tf.state_rm(*(address for address, _ in imported))
    tf.import_(*imported[0])
    tf.import_all(imported[1:])
    assert_clean_plan(tf)

    # Apps, then their owners, the domain and the lifecycle configs: nothing left.
    tf.destroy()
    assert sm.list_domains()["Domains"] == []
    assert sm.list_apps()["Apps"] == []  # Deleted apps go with their owners
    assert sm.list_studio_lifecycle_configs()["StudioLifecycleConfigs"] == []
