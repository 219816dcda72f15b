"""The web catalog over HTTP, without a browser: routes, what each page shows against what
the API answers, escaping, paging, errors, read-only methods, headers and sign-in."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from auth_support import KEY_A, KEY_B, client_for, write_credentials
from support import ROLE
from web_support import PAYLOADS, get, store_hostile

from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.store.drift import DriftFinding

NETWORK = {"VpcId": "vpc-0web", "SubnetIds": ["subnet-0web"]}


def _complete(app, arn: str, fail: str | None = None) -> None:
    """Ends a transition through the control API, answered by the application itself."""
    body = {"arn": arn} | ({"fail": fail} if fail else {})
    status, _, payload = app.request(
        "POST", b"/_sagemaker-images/complete", b"", [(b"host", b"test")], json.dumps(body).encode()
    )
    assert status == 200, payload


def iso(epoch) -> str:
    """A boto3 time as the pages write it: UTC, ISO 8601, milliseconds."""
    moment = epoch.astimezone(UTC) if isinstance(epoch, datetime) else epoch
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_the_root_leads_to_the_catalog_and_every_section_is_linked(server, region):
    root = get(server, "/")
    assert (root.status, root.headers["location"]) == (302, "/ui/")
    assert get(server, "/ui").headers["location"] == "/ui/"
    home = get(server, f"/ui/?region={region}")
    assert home.status == 200
    assert home.title == "Images · sagemaker-images"
    assert home.href("AppImageConfigs") == f"/ui/app-image-configs?region={region}"
    assert home.href("Domains") == f"/ui/domains?region={region}"
    assert "Account 123456789012" in home.text
    # The region is shown once: in the region switch, as the current page.
    assert home.html.count(f">{region}<") == 1
    assert f'aria-current="page">{region}</a>' in home.html
    assert "No images here match." in home.text


def test_the_images_table_shows_what_the_api_answers(server, sm, region):
    sm.create_image(
        ImageName="Analytics",
        RoleArn=ROLE,
        DisplayName="Analytics kernels",
        Tags=[{"Key": "team", "Value": "ml"}, {"Key": "cost", "Value": "a=b+c/@:"}],
    )
    for number in (1, 2, 3):
        sm.create_image_version(ImageName="Analytics", BaseImage=f"r/analytics:{number}")
    sm.delete_image_version(ImageName="Analytics", Version=3)
    sm.create_image(ImageName="bare", RoleArn=ROLE)
    page = get(server, f"/ui/?region={region}")
    rows = {row["Name"]: row for row in page.table("Name")}
    described = sm.describe_image(ImageName="Analytics")
    assert rows["Analytics"] == {
        "Name": "Analytics",
        "Display name": "Analytics kernels",
        "Status": "CREATED",
        "Versions": "2",
        "Latest version": "2",
        "Last modified": iso(described["LastModifiedTime"]),
        "Tags": "cost = a=b+c/@: team = ml",
    }
    assert rows["bare"]["Versions"] == "0" and rows["bare"]["Latest version"] == ""
    assert page.href("Analytics") == f"/ui/images/Analytics?region={region}"
    assert page.href("2") == f"/ui/images/Analytics/versions/2?region={region}"


def test_images_filter_sort_and_page(server, sm, region):
    for index in range(53):
        sm.create_image(ImageName=f"img-{index:02d}", RoleArn=ROLE)
    sm.create_image(ImageName="other", RoleArn=ROLE)
    first = get(server, f"/ui/?region={region}&q=IMG-&sort=name&order=asc")
    names = [row["Name"] for row in first.table("Name")]
    assert names == [f"img-{index:02d}" for index in range(50)]
    second = get(server, first.href("Next page").replace("&amp;", "&"))
    assert [row["Name"] for row in second.table("Name")] == ["img-50", "img-51", "img-52"]
    assert "Next page" not in [text for _, text in second.links]
    assert second.href("First page").startswith("/ui/?")
    newest = get(server, f"/ui/?region={region}&sort=created&order=desc")
    assert newest.table("Name")[0]["Name"] == "other"
    by_name_desc = get(server, f"/ui/?region={region}&sort=name&order=desc")
    assert by_name_desc.table("Name")[0]["Name"] == "other"


def test_the_image_page_shows_versions_aliases_digests_and_failures(make_app, region):
    app = make_app(transitions="manual", control_api=True)
    sm = app.client(region)
    created = sm.create_image(
        ImageName="kernels", RoleArn=ROLE, Description="Notebook kernels", DisplayName="Kernels"
    )
    _complete(app, created["ImageArn"])
    digest = "sha256:" + "ab12" * 16
    first = sm.create_image_version(
        ImageName="kernels",
        BaseImage=f"registry.example/kernels@{digest}",
        Aliases=["stable", "lts"],
        JobType="TRAINING",
        Processor="GPU",
        MLFramework="PyTorch 2.4",
        ProgrammingLang="Python 3.11",
        Horovod=True,
        VendorGuidance="STABLE",
        ReleaseNotes="First release",
    )
    _complete(app, first["ImageVersionArn"])
    failed = sm.create_image_version(ImageName="kernels", BaseImage="registry.example/k:2")
    _complete(app, failed["ImageVersionArn"], fail="The image could not be pulled.")
    page = get(app, f"/ui/images/kernels?region={region}")
    described = sm.describe_image(ImageName="kernels")
    assert page.headings[0] == (1, "kernels")
    assert page.definitions["Description"] == "Notebook kernels"
    assert page.definitions["Role"] == f"{ROLE} Copy"
    assert page.definitions["ARN"] == f"{described['ImageArn']} Copy"
    assert page.definitions["Created"] == iso(described["CreationTime"])
    versions = page.table("Version")
    assert [row["Version"] for row in versions] == ["2", "1"]
    assert versions[0]["Status"] == "CREATE_FAILED The image could not be pulled."
    one = sm.describe_image_version(ImageName="kernels", Version=1)
    # What fits a 1,280 px window: the reference without its registry, its digest cut
    # short, the enumerations and the framework stacked, the time to the second.
    assert versions[1] == {
        "Version": "1",
        "Status": "CREATED",
        "Aliases": "lts stable",
        "Image": f"…/kernels@sha256:{'ab12' * 3}… Copy",
        "Job type": "TRAININGGPU",
        "Framework": "PyTorch 2.4Python 3.11",
        "Release notes": "First release",
        "Created": iso(one["CreationTime"]).replace("T", " ")[:19] + "Z",
    }
    # The whole reference is what the copy button copies and the title shows, and the
    # version page has every member.
    assert f'data-copy="{one["ContainerImage"]}"' in page.html
    assert f'title="{one["BaseImage"]}"' in page.html
    version = get(app, page.href("1"))
    assert version.headings[0] == (1, "kernels version 1")
    assert version.definitions["Container image"] == f"{one['ContainerImage']} Copy"
    assert version.definitions["ARN"] == f"{one['ImageVersionArn']} Copy"
    assert (version.definitions["Horovod"], version.definitions["Vendor guidance"]) == (
        "yes",
        "STABLE",
    )
    assert version.definitions["Last modified"] == iso(one["LastModifiedTime"])


def test_the_image_page_pages_its_versions(server, sm, region):
    sm.create_image(ImageName="many", RoleArn=ROLE)
    for number in range(1, 56):
        sm.create_image_version(ImageName="many", BaseImage=f"r/many:{number}")
    page = get(server, f"/ui/images/many?region={region}")
    assert [row["Version"] for row in page.table("Version")] == [str(n) for n in range(55, 5, -1)]
    rest = get(server, page.href("Next page").replace("&amp;", "&"))
    assert [row["Version"] for row in rest.table("Version")] == ["5", "4", "3", "2", "1"]


def test_studio_attachments_are_shown_where_the_image_and_the_config_are(server, sm, region):
    sm.create_image(ImageName="lab", RoleArn=ROLE)
    sm.create_image_version(ImageName="lab", BaseImage="r/lab:1")
    sm.create_app_image_config(
        AppImageConfigName="lab-config",
        KernelGatewayImageConfig={"KernelSpecs": [{"Name": "python3"}]},
    )
    custom = {"ImageName": "lab", "AppImageConfigName": "lab-config"}
    domain = sm.create_domain(
        DomainName="research",
        AuthMode="IAM",
        DefaultUserSettings={
            "ExecutionRole": ROLE,
            "KernelGatewayAppSettings": {"CustomImages": [custom]},
        },
        Tags=[{"Key": "team", "Value": "ml"}],
        **NETWORK,
    )
    domain_id = domain["DomainId"]
    sm.create_user_profile(
        DomainId=domain_id,
        UserProfileName="Alice",
        UserSettings={
            "KernelGatewayAppSettings": {"CustomImages": [{**custom, "ImageVersionNumber": 1}]}
        },
    )
    sm.create_space(
        DomainId=domain_id,
        SpaceName="shared",
        SpaceSettings={"KernelGatewayAppSettings": {"CustomImages": [custom]}},
    )
    image = get(server, f"/ui/images/lab?region={region}")
    uses = image.table("Attached by")
    assert uses == [
        {
            "Attached by": "Domain research",
            "Settings": "DefaultUserSettings.KernelGatewayAppSettings",
            "Image": "lab",
            "Version": "latest",
            "AppImageConfig": "lab-config",
        },
        {
            "Attached by": "User profile Alice",
            "Settings": "UserSettings.KernelGatewayAppSettings",
            "Image": "lab",
            "Version": "1",
            "AppImageConfig": "lab-config",
        },
        {
            "Attached by": "Space shared",
            "Settings": "SpaceSettings.KernelGatewayAppSettings",
            "Image": "lab",
            "Version": "latest",
            "AppImageConfig": "lab-config",
        },
    ]
    assert image.href("User profile Alice") == (
        f"/ui/domains/{domain_id}?region={region}#user-profile-alice"
    )
    config = get(server, f"/ui/app-image-configs/lab-config?region={region}")
    assert [row["Attached by"] for row in config.table("Attached by")] == [
        "Domain research",
        "User profile Alice",
        "Space shared",
    ]
    domain_page = get(server, image.href("Domain research"))
    assert domain_page.headings[0] == (1, "Domain research")
    assert domain_page.definitions["Domain ID"] == domain_id
    assert domain_page.definitions["Tags"] == "team = ml"
    assert 'id="user-profile-alice"' in domain_page.html
    profiles = domain_page.table("Name")
    assert profiles[0]["Name"] == "Alice"
    assert profiles[0]["Custom images"] == (
        "lab version 1 with lab-config (UserSettings.KernelGatewayAppSettings)"
    )
    every = get(server, f"/ui/domains?region={region}")
    assert (2, "research") in every.headings
    assert [level for level, _ in every.headings] == [1, 2, 3, 3, 3, 3]


def test_the_app_image_config_page_shows_each_configuration(server, sm, region):
    sm.create_app_image_config(
        AppImageConfigName="both",
        KernelGatewayImageConfig={
            "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3"}, {"Name": "ir"}],
            "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 1000},
        },
        JupyterLabAppImageConfig={
            "ContainerConfig": {
                "ContainerEntrypoint": ["jupyter-lab"],
                "ContainerArguments": ["--ServerApp.port=8888"],
                "ContainerEnvironmentVariables": {"MODE": "lab"},
            }
        },
        Tags=[{"Key": "owner", "Value": "platform"}],
    )
    listed = get(server, f"/ui/app-image-configs?region={region}")
    row = listed.table("Name")[0]
    assert (row["Name"], row["Configurations"], row["Kernels"]) == (
        "both",
        "KernelGateway, JupyterLab",
        "python3, ir",
    )
    page = get(server, listed.href("both"))
    assert [text for _, text in page.headings] == [
        "both",
        "Tags",
        "KernelGateway configuration",
        "Kernel specs",
        "File system",
        "JupyterLab configuration",
        "Container",
        "Used in Studio",
    ]
    assert page.table("Key") == [{"Key": "owner", "Value": "platform"}]
    assert page.table("Name") == [
        {"Name": "python3", "Display name": "Python 3"},
        {"Name": "ir", "Display name": ""},
    ]
    assert page.definitions["Mount path"] == "/home/sagemaker-user"
    assert page.definitions["Default UID"] == "1000"
    assert page.definitions["Entrypoint"] == "jupyter-lab"
    assert page.definitions["Arguments"] == "--ServerApp.port=8888"
    assert page.table("Variable") == [{"Variable": "MODE", "Value": "lab"}]


def test_every_free_text_value_is_escaped(server, sm, region):
    for index, payload in enumerate(PAYLOADS):
        for path in store_hostile(sm, f"hostile-{index}", payload):
            page = get(server, f"{path}?region={region}")
            assert page.status == 200
            assert payload not in page.html
            assert "<script>window" not in page.html and "<img" not in page.html
        shown = get(server, f"/ui/images/hostile-{index}?region={region}")
        assert shown.definitions["Description"] == payload


def test_missing_resources_and_bad_requests_are_pages_that_say_so(server, sm, region):
    sm.create_image(ImageName="present", RoleArn=ROLE)
    for path, message in (
        ("/ui/images/absent", "does not exist"),
        ("/ui/images/present/versions/7", "does not exist"),
        ("/ui/app-image-configs/absent", "does not exist"),
        ("/ui/domains/d-000000000000", "Domain d-000000000000 does not exist."),
        ("/ui/nothing/here", "There is no page at this address."),
        ("/ui/static/absent.css", None),
    ):
        page = get(server, f"{path}?region={region}")
        assert page.status == 404, path
        if message:
            assert page.headings[0] == (1, "Not found")
            assert message in page.text
    for query in ("q=%3Cx%3E", "next=garbage", "sort=name&next=garbage"):
        page = get(server, f"/ui/?region={region}&{query}")
        assert page.status == 400, query
        assert page.headings[0] == (1, "Bad request")
    assert "Invalid pagination token" in get(server, f"/ui/?region={region}&next=x").text
    # Names in paths are checked as the API checks them: no lookup of what cannot exist.
    for path in (
        "/ui/images/" + "x" * 70,
        "/ui/images/a_b",
        "/ui/images/a\x00b/versions/1",
        "/ui/app-image-configs/a_b",
        "/ui/domains/%3Cx%3E",
    ):
        page = get(server, f"{path}?region={region}")
        assert page.status == 400, path
        assert "validation error" in page.text
    assert get(server, "/ui/?region=%3Cscript%3E").status == 400
    assert get(server, "/ui/?region=%FF%FE").status == 400  # not even UTF-8


def test_only_get_and_head_are_answered(server, region):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        refused = get(server, f"/ui/?region={region}", method=method)
        assert refused.status == 405, method
        assert refused.headers["allow"] == "GET, HEAD"
    full = get(server, f"/ui/?region={region}")
    head = get(server, f"/ui/?region={region}", method="HEAD")
    assert (head.status, head.html) == (200, "")
    assert head.headers["content-length"] == str(len(full.html.encode()))


def test_pages_send_the_security_headers(server, region):
    page = get(server, f"/ui/?region={region}")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.html and "style=" not in page.html
    style = get(server, "/ui/static/style.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    again = get(
        server, "/ui/static/style.css", headers=[(b"if-none-match", style.headers["etag"].encode())]
    )
    assert again.status == 304


def test_the_region_switch_offers_the_regions_that_hold_data(make_app):
    app = make_app()
    app.client("eu-west-1").create_image(ImageName="west", RoleArn=ROLE)
    app.client("ap-south-1").create_app_image_config(AppImageConfigName="south")
    # The configured region holds nothing: the first region with data is shown.
    home = get(app, "/ui/")
    assert '<a href="/ui/?region=ap-south-1" aria-current="page">ap-south-1</a>' in home.html
    switch = [
        (href, text)
        for href, text in home.links
        if href.startswith("/ui/?region=") and text not in ("sagemaker-images", "Images")
    ]
    assert switch == [
        ("/ui/?region=ap-south-1", "ap-south-1"),
        ("/ui/?region=eu-west-1", "eu-west-1"),
    ]
    west = get(app, home.href("eu-west-1"))
    assert [row["Name"] for row in west.table("Name")] == ["west"]


def test_the_catalog_can_be_turned_off(make_app):
    app = make_app(ui="off")
    assert get(app, "/ui/").status == 404
    assert get(app, "/").status == 405


def _basic(key_id: str, secret: str) -> list[tuple[bytes, bytes]]:
    token = base64.b64encode(f"{key_id}:{secret}".encode())
    return [(b"authorization", b"Basic " + token)]


def test_with_signatures_verified_the_catalog_asks_for_a_key(make_app, tmp_path, region):
    credentials = str(write_credentials(tmp_path / "credentials.toml", (KEY_A, KEY_B)))
    assert get(make_app(credentials_file=credentials), "/ui/").status == 404  # off by default
    app = make_app(credentials_file=credentials, ui="on", transitions="immediate")
    client_for(app, KEY_A, region).create_image(ImageName="of-a", RoleArn=ROLE)
    client_for(app, KEY_B, region).create_image(ImageName="of-b", RoleArn=ROLE)
    anonymous = get(app, f"/ui/?region={region}")
    assert anonymous.status == 401
    assert anonymous.headers["www-authenticate"].startswith('Basic realm="sagemaker-images"')
    assert "of-a" not in anonymous.html
    wrong = get(app, f"/ui/?region={region}", headers=_basic(KEY_A.access_key_id, "wrong"))
    assert wrong.status == 401
    unknown = get(app, f"/ui/?region={region}", headers=_basic("AKIDNOBODY", "x"))
    assert unknown.status == 401
    for garbled in (b"Basic !!!", "Basic é".encode(), b"Basic " + base64.b64encode(b"\xff:\xfe")):
        assert (
            get(app, f"/ui/?region={region}", headers=[(b"authorization", garbled)]).status == 401
        )
    signed = _basic(KEY_A.access_key_id, KEY_A.secret_access_key)
    page = get(app, f"/ui/?region={region}", headers=signed)
    assert [row["Name"] for row in page.table("Name")] == ["of-a"]
    assert f"Account {KEY_A.account_id}" in page.text
    assert get(app, f"/ui/images/of-b?region={region}", headers=signed).status == 404


@pytest.mark.parametrize("path", ["/ui/", "/ui/domains", "/ui/app-image-configs"])
def test_every_page_has_a_title_and_headings_in_order(server, region, path):
    page = get(server, f"{path}?region={region}")
    assert page.title.endswith("· sagemaker-images")
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))


def test_a_failure_reason_is_escaped_too(make_app, region):
    app = make_app(transitions="manual", control_api=True)
    sm = app.client(region)
    created = sm.create_image(ImageName="failing", RoleArn=ROLE)
    _complete(app, created["ImageArn"], fail=PAYLOADS[1])
    for path in ("/ui/", "/ui/images/failing"):
        page = get(app, f"{path}?region={region}")
        assert PAYLOADS[1] not in page.html and "<img" not in page.html
        assert f"CREATE_FAILED {PAYLOADS[1]}" in page.text


def test_apps_are_shown_in_their_domain_and_with_the_image_they_run(server, sm, region):
    sm.create_image(ImageName="Lab", RoleArn=ROLE)
    sm.create_image_version(ImageName="Lab", BaseImage="r/lab:1", Aliases=["1.0"])
    sm.create_app_image_config(
        AppImageConfigName="kernels", KernelGatewayImageConfig={"KernelSpecs": [{"Name": "py"}]}
    )
    domain_id = sm.create_domain(
        DomainName="apps",
        AuthMode="IAM",
        DefaultUserSettings={
            "ExecutionRole": ROLE,
            "KernelGatewayAppSettings": {
                "CustomImages": [{"ImageName": "Lab", "AppImageConfigName": "kernels"}]
            },
        },
        **NETWORK,
    )["DomainId"]
    sm.create_user_profile(DomainId=domain_id, UserProfileName="Alice")
    image_arn = f"arn:aws:sagemaker:{region}:123456789012:image/lab"
    owner = {"DomainId": domain_id, "UserProfileName": "Alice"}
    sm.create_app(
        **owner,
        AppType="KernelGateway",
        AppName="kernels",
        ResourceSpec={
            "SageMakerImageArn": image_arn,
            "SageMakerImageVersionAlias": "1.0",
            "InstanceType": "ml.t3.medium",
        },
    )
    sm.create_app(**owner, AppType="JupyterServer", AppName="default")
    sm.create_app(
        **owner,
        AppType="JupyterLab",
        AppName="lab",
        ResourceSpec={"SageMakerImageArn": image_arn},  # not attached for JupyterLab
    )
    failed = sm.describe_app(**owner, AppType="JupyterLab", AppName="lab")["FailureReason"]

    domain_page = get(server, f"/ui/domains/{domain_id}?region={region}")
    apps = domain_page.table("Owner")
    assert [(a["Owner"], a["App"], a["Status"]) for a in apps] == [
        ("User profile Alice", "kernelsKernelGateway", "InService"),
        ("User profile Alice", "defaultJupyterServer", "InService"),
        ("User profile Alice", "labJupyterLab", f"Failed {failed}"),
    ]
    assert [(a["Image"], a["Version"]) for a in apps] == [
        ("Lab", "1 alias 1.0"),
        ("jupyter-server-3 (SageMaker's)", ""),
        ("lab", ""),
    ]
    assert domain_page.href("User profile Alice").endswith("#user-profile-alice")

    image_page = get(server, f"/ui/images/Lab?region={region}")
    (running,) = image_page.table("Owner")
    assert (running["App"], running["Version"]) == (
        "kernelsKernelGateway",
        "1 alias 1.0",
    )
    assert "tag moved" not in image_page.text

    # What a drift check found shows beside the version and the apps that run it.
    finding = DriftFinding(
        image_id=1, version=1, pinned="sha256:" + "a" * 64, current="sha256:" + "b" * 64,
        error=None, checked_ms=1_700_000_000_000,
    )  # fmt: skip
    store = server.application.store
    image_id = server.run(store.reader.of(IMAGE).find("123456789012", region, "lab")).id

    async def record() -> None:
        async with store.transaction() as tx:
            await tx.drift.replace([replace(finding, image_id=image_id)])

    server.run(record())
    image_page = get(server, f"/ui/images/Lab?region={region}")
    assert image_page.table("Version")[0]["Status"] == "CREATED tag moved"
    assert image_page.table("Owner")[0]["Version"] == "1 tag movedalias 1.0"
    assert "Its tag now leads to sha256:bbbb" in image_page.html
    version_page = get(server, f"/ui/images/Lab/versions/1?region={region}")
    assert version_page.definitions["Drift"] == "tag moved"
    domain_page = get(server, f"/ui/domains/{domain_id}?region={region}")
    assert domain_page.table("Owner")[0]["Version"] == "1 tag movedalias 1.0"

    async def forget() -> None:  # (the findings are the server's, whatever the region)
        async with store.transaction() as tx:
            await tx.drift.replace([])

    server.run(forget())


def test_a_key_with_policies_sees_what_it_may_describe_and_list(make_app, tmp_path, region):
    from policy_support import ADMIN, SECRET, PolicyKey, allow, document, write_policy_credentials

    team_a = document(
        allow("sagemaker:ListImages"),
        allow(["sagemaker:DescribeImage"], "arn:aws:sagemaker:*:*:image/team-a-*"),
    )
    viewer = PolicyKey("AKIAVIEWER0000000001", "viewer", ["team-a"])
    credentials = write_policy_credentials(
        tmp_path / "credentials.toml", [ADMIN, viewer], {"team-a": team_a}
    )
    app = make_app(credentials_file=str(credentials), ui="on", transitions="immediate")
    admin = app.client(region, access_key_id=ADMIN.access_key_id, secret_access_key=SECRET)
    for name in ("team-a-train", "team-b-train"):
        admin.create_image(ImageName=name, RoleArn=ROLE)
    signed = _basic(viewer.access_key_id, SECRET)
    page = get(app, f"/ui/?region={region}", headers=signed)
    assert [row["Name"] for row in page.table("Name")] == ["team-a-train"]
    assert get(app, f"/ui/images/team-a-train?region={region}", headers=signed).status == 200
    refused = get(app, f"/ui/images/team-b-train?region={region}", headers=signed)
    assert refused.status == 403
    assert (
        "User: arn:aws:iam::111111111111:user/viewer is not authorized to perform:"
        f" sagemaker:DescribeImage on resource: arn:aws:sagemaker:{region}:111111111111:"
        "image/team-b-train because no identity-based policy allows the sagemaker:DescribeImage"
        " action" in refused.text
    )
    domains = get(app, f"/ui/domains?region={region}", headers=signed)
    assert domains.status == 403
    assert "sagemaker:ListDomains" in domains.text
    root = get(app, f"/ui/?region={region}", headers=_basic(ADMIN.access_key_id, SECRET))
    assert [row["Name"] for row in root.table("Name")] == ["team-b-train", "team-a-train"]
