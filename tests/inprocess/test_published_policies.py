"""AWS's published policy examples for Studio and its images, evaluated as AWS documents
them: the developer guide's "Give your users access to spaces" (and its Studio Classic
migration variant's shared-space statement), "Isolate domain resources", the JupyterLab
versioning page's `sagemaker:ImageArns` Deny, and the Studio administration whitepaper's
`sagemaker:InstanceTypes` Deny. Placeholders are filled in as an administrator would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from inprocess import InProcessApp
from policy_support import (
    ACCOUNT,
    ADMIN,
    REGION,
    SECRET,
    PolicyKey,
    allow,
    arn,
    denial,
    write_policy_credentials,
)
from support import ROLE, studio_owner

SPACES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": "arn:aws:sagemaker:REGION:ACCOUNT:app/*",
            "Condition": {"Null": {"sagemaker:OwnerUserProfileArn": "true"}},
        },
        {
            "Sid": "SMStudioCreatePresignedDomainUrlForUserProfile",
            "Effect": "Allow",
            "Action": ["sagemaker:CreatePresignedDomainUrl"],
            "Resource": "arn:aws:sagemaker:REGION:ACCOUNT:user-profile/DOMAIN/PROFILE",
        },
        {
            "Sid": "SMStudioAppPermissionsListAndDescribe",
            "Effect": "Allow",
            "Action": [
                "sagemaker:ListApps",
                "sagemaker:ListDomains",
                "sagemaker:ListUserProfiles",
                "sagemaker:ListSpaces",
                "sagemaker:DescribeApp",
                "sagemaker:DescribeDomain",
                "sagemaker:DescribeUserProfile",
                "sagemaker:DescribeSpace",
            ],
            "Resource": "*",
        },
        {
            "Sid": "SMStudioAppPermissionsTagOnCreate",
            "Effect": "Allow",
            "Action": ["sagemaker:AddTags"],
            "Resource": "arn:aws:sagemaker:REGION:ACCOUNT:*/*",
            "Condition": {"Null": {"sagemaker:TaggingAction": "false"}},
        },
        {
            "Sid": "SMStudioRestrictSharedSpacesWithoutOwners",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
            "Resource": "arn:aws:sagemaker:REGION:ACCOUNT:space/DOMAIN/*",
            "Condition": {"Null": {"sagemaker:OwnerUserProfileArn": "true"}},
        },
        {
            "Sid": "SMStudioRestrictSpacesToOwnerUserProfile",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
            "Resource": "arn:aws:sagemaker:REGION:ACCOUNT:space/DOMAIN/*",
            "Condition": {
                "ArnLike": {
                    "sagemaker:OwnerUserProfileArn": "arn:aws:sagemaker:REGION:ACCOUNT:user-profile/DOMAIN/PROFILE"
                },
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private", "Shared"]},
            },
        },
        {
            "Sid": "SMStudioRestrictCreatePrivateSpaceAppsToOwnerUserProfile",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": "arn:aws:sagemaker:REGION:ACCOUNT:app/DOMAIN/*",
            "Condition": {
                "ArnLike": {
                    "sagemaker:OwnerUserProfileArn": "arn:aws:sagemaker:REGION:ACCOUNT:user-profile/DOMAIN/PROFILE"
                },
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private"]},
            },
        },
        {
            "Sid": "AllowAppActionsForSharedSpaces",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": "arn:aws:sagemaker:*:*:app/DOMAIN/*/*/*",
            "Condition": {"StringEquals": {"sagemaker:SpaceSharingType": ["Shared"]}},
        },
    ],
}
ISOLATION = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CreateAPIs",
            "Effect": "Allow",
            "Action": "sagemaker:Create*",
            "NotResource": [
                "arn:aws:sagemaker:*:*:domain/*",
                "arn:aws:sagemaker:*:*:user-profile/*",
                "arn:aws:sagemaker:*:*:space/*",
            ],
        },
        {
            "Sid": "ResourceAccessRequireDomainTag",
            "Effect": "Allow",
            "Action": ["sagemaker:Update*", "sagemaker:Delete*", "sagemaker:Describe*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/sagemaker:domain-arn": "DOMAIN_ARN"}},
        },
        {
            "Sid": "AllowActionsThatDontSupportTagging",
            "Effect": "Allow",
            "Action": [
                "sagemaker:DescribeImageVersion",
                "sagemaker:UpdateImageVersion",
                "sagemaker:DeleteImageVersion",
                "sagemaker:DescribeModelCardExportJob",
                "sagemaker:DescribeAction",
            ],
            "Resource": "*",
        },
        {
            "Sid": "DeleteDefaultApp",
            "Effect": "Allow",
            "Action": "sagemaker:DeleteApp",
            "Resource": "arn:aws:sagemaker:*:*:app/DOMAIN/*/jupyterserver/default",
        },
    ],
}
NO_JUPYTERLAB_3 = {
    "Sid": "BlockJupyterLab3AppLevelAppCreation",
    "Effect": "Deny",
    "Action": "sagemaker:CreateApp",
    "Resource": "*",
    "Condition": {
        "ForAnyValue:ArnLike": {
            "sagemaker:ImageArns": "arn:aws:sagemaker:REGION:ACCOUNT:image/jupyter-server-3"
        }
    },
}
INSTANCE_TYPES = {
    "Sid": "LimitInstanceTypesforNotebooks",
    "Effect": "Deny",
    "Action": ["sagemaker:CreateApp"],
    "Resource": "*",
    "Condition": {
        "ForAnyValue:StringNotLike": {
            "sagemaker:InstanceTypes": ["ml.c5.large", "ml.m5.large", "ml.t3.medium", "system"]
        }
    },
}
ANA = PolicyKey("AKIAANA0000000000001", "ana", ["spaces"])
ISOLATED = PolicyKey("AKIAISOLATED00000001", "isolated", ["isolation"])
LIMITED = PolicyKey("AKIALIMITED000000001", "limited", ["everything-but"])
KEYS = [ADMIN, ANA, ISOLATED, LIMITED]


def filled(policy: dict[str, Any], domain: str = "*", domain_arn: str = "") -> str:
    text = json.dumps(policy)
    for placeholder, value in (
        ("DOMAIN_ARN", domain_arn),
        ("REGION", REGION),
        ("ACCOUNT", ACCOUNT),
        ("DOMAIN", domain),
        ("PROFILE", "ana"),
    ):
        text = text.replace(placeholder, value)
    return text


def policies(domain: str = "*", domain_arn: str = "") -> dict[str, str]:
    return {
        "spaces": filled(SPACES, domain),
        "isolation": filled(ISOLATION, domain, domain_arn),
        "everything-but": filled(
            {
                "Version": "2012-10-17",
                "Statement": [allow("sagemaker:*"), NO_JUPYTERLAB_3, INSTANCE_TYPES],
            }
        ),
    }


@pytest.fixture
def studio(make_app: Any, tmp_path: Any) -> tuple[InProcessApp, dict[str, str]]:
    """An app whose keys hold the published policies, filled in for its domain (written
    once the domain exists, and reloaded as SIGHUP would)."""
    credentials = write_policy_credentials(tmp_path / "credentials.toml", KEYS, policies())
    app = make_app(transitions="immediate", credentials_file=str(credentials))
    admin = client(app, ADMIN)
    owner = studio_owner(admin)
    domain = owner["DomainId"]
    domain_arn = admin.describe_domain(DomainId=domain)["DomainArn"]
    for name in ("ana", "bob"):
        admin.create_user_profile(DomainId=domain, UserProfileName=name)
    write_policy_credentials(credentials, KEYS, policies(domain, domain_arn))
    assert app.application.keys is not None and app.application.keys.reload()
    return app, {"DomainId": domain, "DomainArn": domain_arn}


def client(app: InProcessApp, key: PolicyKey) -> Any:
    return app.client(REGION, access_key_id=key.access_key_id, secret_access_key=SECRET)


def refused(call: Any, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert caught.value.response["Error"]["Message"] == message


def test_users_reach_their_own_private_spaces_and_shared_ones(studio):
    app, facts = studio
    domain = facts["DomainId"]
    admin, ana = client(app, ADMIN), client(app, ANA)
    # Her own apps, outside any space (no owner in the request): the first statement.
    ana.create_app(
        DomainId=domain, UserProfileName="ana", AppType="JupyterServer", AppName="default"
    )
    # A private space she owns; one owned by bob is not hers to make.
    private = {
        "SpaceSettings": {"AppType": "JupyterLab"},
        "SpaceSharingSettings": {"SharingType": "Private"},
    }
    ana.create_space(
        DomainId=domain,
        SpaceName="anas",
        OwnershipSettings={"OwnerUserProfileName": "ana"},
        **private,
    )
    refused(
        lambda: ana.create_space(
            DomainId=domain,
            SpaceName="bobs",
            OwnershipSettings={"OwnerUserProfileName": "bob"},
            **private,
        ),
        denial("ana", "CreateSpace", arn(f"space/{domain}/bobs")),
    )
    admin.create_space(
        DomainId=domain,
        SpaceName="bobs",
        OwnershipSettings={"OwnerUserProfileName": "bob"},
        **private,
    )
    # Apps in a private space: only in her own.
    ana.create_app(DomainId=domain, SpaceName="anas", AppType="JupyterLab", AppName="default")
    refused(
        lambda: ana.create_app(
            DomainId=domain, SpaceName="bobs", AppType="JupyterLab", AppName="default"
        ),
        denial("ana", "CreateApp", arn(f"app/{domain}/bobs/jupyterlab/default")),
    )
    # A shared space without an owner, tagged at creation (AddTags with TaggingAction).
    ana.create_space(DomainId=domain, SpaceName="team", Tags=[{"Key": "team", "Value": "a"}])
    refused(
        lambda: ana.add_tags(
            ResourceArn=arn(f"space/{domain}/team"), Tags=[{"Key": "k", "Value": "v"}]
        ),
        denial("ana", "AddTags", arn(f"space/{domain}/team")),
    )
    assert {s["SpaceName"] for s in ana.list_spaces(DomainIdEquals=domain)["Spaces"]} == {
        "anas",
        "bobs",
        "team",
    }
    assert ana.describe_space(DomainId=domain, SpaceName="bobs")["SpaceName"] == "bobs"
    refused(lambda: ana.list_images(), denial("ana", "ListImages", arn("*")))


def test_domain_resource_isolation_by_the_domain_arn_tag(studio):
    app, facts = studio
    domain = facts["DomainId"]
    admin, isolated = client(app, ADMIN), client(app, ISOLATED)
    admin.create_image(
        ImageName="in-domain",
        RoleArn=ROLE,
        Tags=[{"Key": "sagemaker:domain-arn", "Value": facts["DomainArn"]}],
    )
    admin.create_image(ImageName="elsewhere", RoleArn=ROLE)
    assert isolated.describe_image(ImageName="in-domain")["ImageName"] == "in-domain"
    refused(
        lambda: isolated.describe_image(ImageName="elsewhere"),
        denial("isolated", "DescribeImage", arn("image/elsewhere")),
    )
    # Create* anywhere but domains, user profiles and spaces.
    isolated.create_image(ImageName="made-here", RoleArn=ROLE)
    refused(
        lambda: isolated.create_user_profile(DomainId=domain, UserProfileName="carol"),
        denial("isolated", "CreateUserProfile", arn(f"user-profile/{domain}/carol")),
    )
    # Versions do not take tags: allowed by their own statement.
    admin.create_image_version(
        ImageName="elsewhere", BaseImage="registry.example/x:1", ClientToken="v1"
    )
    assert isolated.describe_image_version(ImageName="elsewhere")["Version"] == 1
    # The default Jupyter server app of the domain may be deleted; another app may not.
    admin.create_app(
        DomainId=domain, UserProfileName="alice", AppType="JupyterServer", AppName="default"
    )
    isolated.delete_app(
        DomainId=domain, UserProfileName="alice", AppType="JupyterServer", AppName="default"
    )
    refused(
        lambda: isolated.delete_app(
            DomainId=domain, UserProfileName="alice", AppType="KernelGateway", AppName="other"
        ),
        denial("isolated", "DeleteApp", arn(f"app/{domain}/alice/kernelgateway/other")),
    )


def test_image_and_instance_type_denies_on_create_app(studio):
    app, facts = studio
    limited = client(app, LIMITED)
    owner = {"DomainId": facts["DomainId"], "UserProfileName": "alice", "AppType": "JupyterServer"}
    jupyter_3 = arn("image/jupyter-server-3")
    refused(
        lambda: limited.create_app(
            **owner,
            AppName="default",
            ResourceSpec={"SageMakerImageArn": jupyter_3, "InstanceType": "system"},
        ),
        denial(
            "limited",
            "CreateApp",
            arn(f"app/{facts['DomainId']}/alice/jupyterserver/default"),
            "explicit",
        ),
    )
    refused(
        lambda: limited.create_app(
            **owner, AppName="default", ResourceSpec={"InstanceType": "ml.g5.xlarge"}
        ),
        denial(
            "limited",
            "CreateApp",
            arn(f"app/{facts['DomainId']}/alice/jupyterserver/default"),
            "explicit",
        ),
    )
    limited.create_app(**owner, AppName="default", ResourceSpec={"InstanceType": "system"})


def test_documented_policy_denials_do_not_need_a_document_of_their_own():
    # The shared statements compile as one document too (no warnings beyond AWS's own names).
    from sagemaker_images.auth.policies import compile_policy

    for name, text in policies(
        "d-abc", "arn:aws:sagemaker:us-east-1:111111111111:domain/d-abc"
    ).items():
        warnings = compile_policy(name, text).warnings
        assert all(
            "CreatePresignedDomainUrl" in w
            or "DescribeModelCardExportJob" in w
            or "DescribeAction" in w
            for w in warnings
        ), warnings
