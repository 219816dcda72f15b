"""The launch preflight against real images: built in code, pushed to Debian's docker-registry
(or served by a fake registry where a real one will not store them), inspected through the
control API and the `doctor` command, with the codes the preflight spec expects for each.

The BaseImages name an ECR repository of the catalog's account and region (mapped to the
local registry by the registries file), so that only the image itself is judged.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from oci_builder import (
    Dir,
    FakeRegistry,
    File,
    Image,
    Index,
    Layer,
    Opaque,
    RawLayer,
    Whiteout,
    attestation_entry,
    elf,
    good_base,
    good_config,
    good_image,
    push,
)
from registry_support import RegistryProcess
from support import ROLE, ServerProcess, studio_owner, wait_until
from web_support import Page, read_page

from sagemaker_images.testing import ControlClient, ControlError

pytestmark = pytest.mark.backends("sqlite")

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
FAKE_ECR = "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"  # served by FakeRegistry
KERNELS = {
    "KernelSpecs": [{"Name": "python3"}],
    "FileSystemConfig": {
        "MountPath": "/home/sagemaker-user",
        "DefaultUid": 1000,
        "DefaultGid": 100,
    },
}
AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}


class Catalog:
    """A server whose versions are pinned from the local registry, and what the tests make."""

    def __init__(self, server: ServerProcess, registry: RegistryProcess, fake: FakeRegistry):
        self.server = server
        self.registry = registry
        self.fake = fake
        self.sm = server.client("us-east-1")
        self.control = ControlClient(server.endpoint)
        self._made = 0

    def version(self, image: Image | Index, *, fake: bool = False) -> str:
        """A new catalog image whose version 1 is `image`, pushed; its name."""
        self._made += 1
        name = f"case-{self._made}"
        if fake:
            self.fake.put_image(name, "1", image)
        else:
            push(self.registry.url, name, "1", image)
        self.sm.create_image(ImageName=name, RoleArn=ROLE)
        wait_until(lambda: self.sm.describe_image(ImageName=name)["ImageStatus"] == "CREATED")
        host = FAKE_ECR if fake else ECR
        self.sm.create_image_version(ImageName=name, BaseImage=f"{host}/{name}:1")
        wait_until(
            lambda: (
                self.sm.describe_image_version(ImageName=name)["ImageVersionStatus"] != "CREATING"
            )
        )
        return name

    def config(self, **members: Any) -> str:
        self._made += 1
        name = f"config-{self._made}"
        self.sm.create_app_image_config(AppImageConfigName=name, **members)
        return name

    def doctor(self, name: str, **options: Any) -> dict[str, Any]:
        return self.control.doctor(name, **options)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    work = tmp_path_factory.mktemp("doctor")
    registry = RegistryProcess(work / "registry").start()
    fake = FakeRegistry().start()
    registries = work / "registries.toml"
    registries.write_text(
        f'[registries."{ECR}"]\nendpoint = "{registry.url}"\n'
        f'[registries."{FAKE_ECR}"]\nendpoint = "{fake.url}"\n'
    )
    args = ["--resolve", "required", "--registries", str(registries), "--transitions", "0"]
    server = ServerProcess(work / "server", args=[*args, "--control-api"]).start()
    try:
        yield Catalog(server, registry, fake)
    finally:
        server.stop()
        fake.stop()
        registry.stop()


def codes(report: dict[str, Any]) -> list[str]:
    """Every finding's code, the image's then each app section's."""
    found = [f["Code"] for f in report["Findings"]]
    for app in report["Apps"]:
        found += [f["Code"] for f in app["Findings"]]
    return found


def finding(report: dict[str, Any], code: str) -> dict[str, Any]:
    every = [*report["Findings"], *(f for app in report["Apps"] for f in app["Findings"])]
    return next(f for f in every if f["Code"] == code)


def kernels_config(catalog: Catalog, **changes: Any) -> str:
    return catalog.config(KernelGatewayImageConfig={**KERNELS, **changes})


# -- the required scenarios -------------------------------------------------------------------


def test_1_a_good_image_has_nothing_to_say(catalog: Catalog) -> None:
    name = catalog.version(good_image())
    report = catalog.doctor(
        name, app_image_config=kernels_config(catalog), app_type="KernelGateway"
    )
    assert codes(report) == []
    assert (report["Errors"], report["Warnings"]) == (0, 0)
    assert report["Platform"] == "linux/amd64"
    assert report["Read"] == {
        "Level": "L2",
        "LayersRead": 2,
        "BytesRead": report["Read"]["BytesRead"],
        "Complete": True,
    }
    (app,) = report["Apps"]
    assert app["KernelsFound"] == ["python3"]
    assert app["ImageUser"] == {"Uid": 1000, "Gid": 100, "Name": "sagemaker-user"}


def test_2_an_arm64_image(catalog: Catalog) -> None:
    name = catalog.version(good_image(architecture="arm64"))
    report = catalog.doctor(name)
    assert codes(report) == ["ARCH_NOT_AMD64"]
    assert finding(report, "ARCH_NOT_AMD64")["Message"].endswith(
        'is built for linux/arm64; Studio runs linux/amd64 and fails with "exec format error".'
    )


def test_3_an_index_without_amd64(catalog: Catalog) -> None:
    arm = good_image(architecture="arm64")
    name = catalog.version(Index([(ARM64, arm), attestation_entry(arm)]))
    report = catalog.doctor(name)
    assert codes(report) == ["ARCH_NOT_AMD64"]
    assert (
        "has no linux/amd64 image (it has: linux/arm64)"
        in finding(report, "ARCH_NOT_AMD64")["Message"]
    )
    assert report["Read"]["Level"] == "L1"


def test_4_an_index_with_amd64(catalog: Catalog) -> None:
    name = catalog.version(
        Index([(AMD64, good_image()), (ARM64, good_image(architecture="arm64"))])
    )
    report = catalog.doctor(name, app_image_config=kernels_config(catalog))
    assert codes(report) == []
    assert report["Platform"] == "linux/amd64"


def test_5_an_aarch64_program_in_an_amd64_image(catalog: Catalog) -> None:
    python = Layer([File("opt/conda/bin/python", elf(0xB7), mode=0o755)])
    name = catalog.version(good_image([python]))
    lab = catalog.config(
        JupyterLabAppImageConfig={
            "ContainerConfig": {"ContainerEntrypoint": ["/opt/conda/bin/python"]}
        }
    )
    assert codes(catalog.doctor(name, app_image_config=lab)) == ["EXEC_ARCH_MISMATCH"]
    assert codes(catalog.doctor(name, app_image_config=kernels_config(catalog))) == []


def test_6_7_root_against_the_config_ids(catalog: Catalog) -> None:
    name = catalog.version(good_image(user=""))
    report = catalog.doctor(name, app_image_config=kernels_config(catalog))
    assert codes(report) == ["UID_MISMATCH", "GID_MISMATCH"]
    assert {f["Severity"] for f in report["Apps"][0]["Findings"]} == {"error"}
    root = kernels_config(
        catalog,
        FileSystemConfig={"MountPath": "/home/sagemaker-user", "DefaultUid": 0, "DefaultGid": 0},
    )
    assert codes(catalog.doctor(name, app_image_config=root)) == []


def test_8_an_unsupported_id_pair(catalog: Catalog) -> None:
    users = Layer(
        [
            File(
                "etc/passwd",
                "root:x:0:0:root:/root:/bin/bash\nsagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash\n"
                "other:x:1001:101::/home/sagemaker-user:/bin/bash\n",
            ),
            File("etc/group", "root:x:0:\nusers:x:100:\nother:x:101:\n"),
        ]
    )
    name = catalog.version(good_image([users], user="1001:101"))
    config = kernels_config(
        catalog,
        FileSystemConfig={
            "MountPath": "/home/sagemaker-user",
            "DefaultUid": 1001,
            "DefaultGid": 101,
        },
    )
    assert codes(catalog.doctor(name, app_image_config=config)) == ["UID_PAIR_UNSUPPORTED"]


def test_9_a_user_not_in_passwd(catalog: Catalog) -> None:
    passwd = Layer([File("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")])
    name = catalog.version(good_image([passwd]))
    report = catalog.doctor(name, app_image_config=kernels_config(catalog))
    assert codes(report) == ["USER_NOT_FOUND"]


def test_10_11_file_ids_above_65535_count_even_when_deleted(catalog: Catalog) -> None:
    added = Layer([Dir("opt/tool"), File("opt/tool/x", b"x", uid=100000, gid=100000)])
    deleted = Layer([Whiteout("opt/tool/x")])
    name = catalog.version(good_image([added, deleted]))
    report = catalog.doctor(name)
    assert codes(report) == ["FILE_ID_OVER_65535"]
    details = finding(report, "FILE_ID_OVER_65535")["Details"]
    assert details["count"] == 1 and details["files"][0]["layer"] == 3
    boundary = Layer([File("opt/edge", b"x", uid=65535, gid=65534)])
    assert codes(catalog.doctor(catalog.version(good_image([boundary])))) == []


def test_12_a_kernel_name_differs_in_case(catalog: Catalog) -> None:
    name = catalog.version(good_image())
    config = kernels_config(catalog, KernelSpecs=[{"Name": "Python3"}])
    report = catalog.doctor(name, app_image_config=config)
    assert codes(report) == ["KERNEL_NOT_FOUND"]
    assert finding(report, "KERNEL_NOT_FOUND")["Message"].endswith(" Did you mean python3?")


def test_13_conda_environments_are_kernels_by_their_conda_names(catalog: Catalog) -> None:
    env = Layer(
        [
            File("opt/conda/envs/myenv/lib/python3.11/site-packages/ipykernel/__init__.py", b""),
            File("opt/conda/envs/myenv/bin/python", elf(), mode=0o755),
        ]
    )
    name = catalog.version(good_image([env]))
    good = kernels_config(catalog, KernelSpecs=[{"Name": "conda-env-myenv-py"}])
    assert codes(catalog.doctor(name, app_image_config=good)) == []
    bad = kernels_config(catalog, KernelSpecs=[{"Name": "myenv"}])
    report = catalog.doctor(name, app_image_config=bad)
    assert codes(report) == ["KERNEL_NOT_FOUND"]
    assert (
        "(kernels found: conda-env-myenv-py, python3)"
        in finding(report, "KERNEL_NOT_FOUND")["Message"]
    )


def test_14_a_kernel_under_the_home_mount(catalog: Catalog) -> None:
    home = "home/sagemaker-user/.local/share/jupyter/kernels/scala"
    scala = Layer(
        [
            Dir("home/sagemaker-user/.local"),
            Dir("home/sagemaker-user/.local/share"),
            Dir("home/sagemaker-user/.local/share/jupyter"),
            Dir("home/sagemaker-user/.local/share/jupyter/kernels"),
            Dir(home),
            File(
                f"{home}/kernel.json",
                '{"argv": ["/opt/conda/bin/python"], "display_name": "Scala"}',
            ),
        ]
    )
    name = catalog.version(good_image([scala]))
    config = kernels_config(catalog, KernelSpecs=[{"Name": "scala"}])
    report = catalog.doctor(name, app_image_config=config)
    assert sorted(codes(report)) == ["KERNEL_UNDER_MOUNTPATH", "MOUNTPATH_NOT_EMPTY"]
    assert finding(report, "MOUNTPATH_NOT_EMPTY")["Severity"] == "warning"


def test_15_a_kernel_whited_out(catalog: Catalog) -> None:
    gone = Layer([Whiteout("opt/conda/share/jupyter/kernels/python3")])
    name = catalog.version(good_image([gone]))
    report = catalog.doctor(name, app_image_config=kernels_config(catalog))
    assert codes(report) == ["KERNEL_NOT_FOUND"]
    assert "(kernels found: none)" in finding(report, "KERNEL_NOT_FOUND")["Message"]


def test_16_an_opaque_kernels_directory_and_a_kernel_without_its_program(catalog: Catalog) -> None:
    kernels = "opt/conda/share/jupyter/kernels"
    r_kernel = Layer(
        [
            Dir(kernels),
            Opaque(kernels),
            Dir(f"{kernels}/ir"),
            File(f"{kernels}/ir/kernel.json", '{"argv": ["R", "--slave"], "display_name": "R"}'),
        ]
    )
    name = catalog.version(good_image([r_kernel]))
    ir = kernels_config(catalog, KernelSpecs=[{"Name": "ir"}])
    report = catalog.doctor(name, app_image_config=ir)
    assert codes(report) == ["KERNEL_PROGRAM_NOT_FOUND"]
    assert finding(report, "KERNEL_PROGRAM_NOT_FOUND")["Severity"] == "warning"
    assert codes(catalog.doctor(name, app_image_config=kernels_config(catalog))) == [
        "KERNEL_NOT_FOUND"
    ]


def test_17_nothing_to_run(catalog: Catalog) -> None:
    name = catalog.version(good_image())
    lab = catalog.config(JupyterLabAppImageConfig={})
    assert codes(catalog.doctor(name, app_image_config=lab)) == ["ENTRYPOINT_MISSING"]


def test_18_jupyterlab_started_on_the_wrong_address(catalog: Catalog) -> None:
    name = catalog.version(
        good_image(entrypoint=["jupyter-lab"], cmd=["--ip=127.0.0.1", "--port=8888"])
    )
    report = catalog.doctor(name, app_image_config=catalog.config(JupyterLabAppImageConfig={}))
    assert codes(report) == ["SERVER_ARGS_MISMATCH"]
    assert finding(report, "SERVER_ARGS_MISMATCH")["Details"]["argument"] == "--ip"


def test_19_an_entrypoint_not_in_the_image(catalog: Catalog) -> None:
    gone = Layer([Whiteout("opt/conda/bin/jupyter-lab")])
    name = catalog.version(good_image([gone]))
    lab = catalog.config(
        JupyterLabAppImageConfig={"ContainerConfig": {"ContainerEntrypoint": ["jupyter-lab"]}}
    )
    report = catalog.doctor(name, app_image_config=lab)
    assert sorted(codes(report)) == ["ENTRYPOINT_NOT_FOUND", "SERVER_NOT_FOUND"]
    assert "(searched /opt/conda/bin:" in finding(report, "ENTRYPOINT_NOT_FOUND")["Message"]


def test_20_a_script_with_a_carriage_return(catalog: Catalog) -> None:
    script = Layer(
        [
            Whiteout("bin/bash"),
            Dir("usr/local"),
            Dir("usr/local/bin"),
            File("usr/local/bin/start.sh", "#!/bin/bash\r\nexec jupyter-lab\r\n", mode=0o755),
        ]
    )
    name = catalog.version(good_image([script], entrypoint=["/usr/local/bin/start.sh"]))
    report = catalog.doctor(name, app_image_config=catalog.config(JupyterLabAppImageConfig={}))
    assert codes(report) == ["INTERPRETER_NOT_FOUND"]
    assert finding(report, "INTERPRETER_NOT_FOUND")["Message"].endswith(
        "(the line ends with a carriage return)."
    )


def test_21_code_editor_without_its_token_flag_outside_home(catalog: Catalog) -> None:
    name = catalog.version(
        good_image(
            entrypoint=["/usr/bin/sagemaker-code-editor", "--host", "0.0.0.0", "--port", "8888"],
            workdir="/",
        )
    )
    editor = catalog.config(CodeEditorAppImageConfig={})
    assert sorted(codes(catalog.doctor(name, app_image_config=editor))) == [
        "SERVER_ARGS_MISMATCH",
        "WORKDIR_OUTSIDE_HOME",
    ]


def test_22_code_editor_as_root(catalog: Catalog) -> None:
    name = catalog.version(good_image(user="0:0"))
    editor = catalog.config(
        CodeEditorAppImageConfig={
            "ContainerConfig": {
                "ContainerEntrypoint": ["/usr/bin/sagemaker-code-editor"],
                "ContainerArguments": [
                    "--host", "0.0.0.0", "--port", "8888", "--without-connection-token",
                    "--base-path", "/CodeEditor/default",
                ],
            }
        }
    )  # fmt: skip
    assert codes(catalog.doctor(name, app_image_config=editor)) == ["STUDIO_USER_NOT_1000_100"]


def test_23_the_mount_path_is_a_file(catalog: Catalog) -> None:
    replaced = Layer([Whiteout("home/sagemaker-user"), File("home/sagemaker-user", b"not a dir")])
    name = catalog.version(good_image([replaced]))
    assert codes(catalog.doctor(name, app_image_config=kernels_config(catalog))) == [
        "MOUNTPATH_NOT_DIRECTORY"
    ]


def test_24_a_reserved_mount_path(catalog: Catalog) -> None:
    name = catalog.version(good_image())
    config = kernels_config(
        catalog,
        FileSystemConfig={"MountPath": "/opt/ml/home", "DefaultUid": 1000, "DefaultGid": 100},
    )
    assert codes(catalog.doctor(name, app_image_config=config)) == ["MOUNTPATH_RESERVED"]


def test_25_a_schema_1_manifest(catalog: Catalog) -> None:
    catalog._made += 1
    name = f"case-{catalog._made}"
    body = json.dumps({"schemaVersion": 1, "name": name, "tag": "1", "fsLayers": []}).encode()
    catalog.fake.put_manifest(
        name, "1", "application/vnd.docker.distribution.manifest.v1+prettyjws", body
    )
    catalog.sm.create_image(ImageName=name, RoleArn=ROLE)
    wait_until(lambda: catalog.sm.describe_image(ImageName=name)["ImageStatus"] == "CREATED")
    catalog.sm.create_image_version(ImageName=name, BaseImage=f"{FAKE_ECR}/{name}:1")
    wait_until(
        lambda: (
            catalog.sm.describe_image_version(ImageName=name)["ImageVersionStatus"] != "CREATING"
        )
    )
    assert codes(catalog.doctor(name)) == ["MANIFEST_SCHEMA1"]


# -- beyond them ------------------------------------------------------------------------------


def test_a_layer_that_is_not_what_its_digest_says(catalog: Catalog) -> None:
    image = good_image([Layer([File("opt/extra", b"x")])])
    name = catalog.version(image, fake=True)
    top = image.layers[-1]
    catalog.fake.put_blob(name, top.digest, top.blob + b"\0")
    report = catalog.doctor(name)
    assert codes(report) == ["LAYER_DIGEST_MISMATCH"]


def test_nvidia_drivers_and_reserved_paths(catalog: Catalog) -> None:
    extra = Layer(
        [
            File("usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05", b"x"),
            File("usr/local/cuda/lib64/stubs/libcuda.so", b"x"),
            Dir("opt/ml"),
            File("opt/ml/model.txt", b"x"),
        ]
    )
    report = catalog.doctor(catalog.version(good_image([extra])))
    assert sorted(codes(report)) == ["NVIDIA_DRIVER_IN_IMAGE", "RESERVED_PATH_IN_IMAGE"]
    assert (
        "(/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05)"
        in finding(report, "NVIDIA_DRIVER_IN_IMAGE")["Message"]
    )


def test_a_moved_tag_is_said_and_the_pinned_image_is_judged(catalog: Catalog) -> None:
    name = catalog.version(good_image())
    push(catalog.registry.url, name, "1", good_image(architecture="arm64"))
    report = catalog.doctor(name)
    assert codes(report) == ["TAG_MOVED"]
    assert report["Platform"] == "linux/amd64"


def test_unknown_versions_and_configs_are_the_catalogs_not_found(catalog: Catalog) -> None:
    name = catalog.version(good_image())
    with pytest.raises(ControlError, match=r"404 ImageVersion with ARN .*/9 does not exist"):
        catalog.doctor(name, version=9)
    with pytest.raises(ControlError, match=r"404 AppImageConfig with ARN .* does not exist"):
        catalog.doctor(name, app_image_config="nothing")


def _doctor_cli(catalog: Catalog, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    registries = tmp_path / "registries.toml"
    registries.write_text(f'[registries."{ECR}"]\nendpoint = "{catalog.registry.url}"\n')
    return subprocess.run(
        [
            sys.executable, "-m", "sagemaker_images", "doctor",
            "--database", catalog.server.database_url, "--registries", str(registries), *args,
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_doctor_command_exits_by_what_it_found(catalog: Catalog, tmp_path: Path) -> None:
    good = catalog.version(good_image())
    config = kernels_config(catalog)
    clean = _doctor_cli(catalog, tmp_path, "--image", good, "--app-image-config", config)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == "0 errors, 0 warnings (read L2, 2/2 layers)"
    root = catalog.version(good_image(user=""))
    found = _doctor_cli(catalog, tmp_path, "--image", root, "--app-image-config", config, "--json")
    assert found.returncode == 1
    assert codes(json.loads(found.stdout)) == ["UID_MISMATCH", "GID_MISMATCH"]
    text = _doctor_cli(catalog, tmp_path, "--image", root, "--app-image-config", config)
    assert text.stdout.splitlines()[0].startswith(
        "ERROR UID_MISMATCH [KernelGateway] The image runs as UID 0"
    )
    missing = _doctor_cli(catalog, tmp_path, "--image", "nothing-here")
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "Error: Image with ARN arn:aws:sagemaker:us-east-1:123456789012:image/nothing-here does"
        " not exist"
    )


def test_a_cap_stops_the_reading_and_absences_are_not_claimed(
    catalog: Catalog, tmp_path: Path
) -> None:
    big = Layer([File("opt/big.bin", bytes(range(256)) * 4096 * 4)], compression="none")
    name = catalog.version(good_image([big]))
    config = kernels_config(catalog)
    capped = _doctor_cli(
        catalog, tmp_path, "--image", name, "--app-image-config", config, "--json",
        "--max-layer-bytes", "65536",
    )  # fmt: skip
    assert capped.returncode == 0, capped.stderr
    report = json.loads(capped.stdout)
    assert codes(report) == ["INSPECTION_INCOMPLETE"]
    message = finding(report, "INSPECTION_INCOMPLETE")["Message"]
    assert message.endswith("not evaluated: USER_NOT_FOUND, KERNEL_NOT_FOUND.")


def test_zstd_layers_without_zstandard_are_not_claimed_absent(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import sagemaker_images.doctor.read as read
    from sagemaker_images.doctor.checks import AppInput, Subject, examine
    from sagemaker_images.registry.client import RegistryClient
    from sagemaker_images.registry.config import Registries, RegistryConfig
    from sagemaker_images.registry.reference import parse_reference

    layers = good_base()
    layers[1] = replace(layers[1], compression="zstd")
    name = catalog.version(Image(layers, good_config()))
    monkeypatch.setattr(read, "_zstd", lambda: "zstd layers need the optional zstandard package")
    registries = Registries({ECR: RegistryConfig(endpoint=catalog.registry.url)})

    async def inspect() -> Any:
        client = RegistryClient(registries)
        try:
            return await read.read_image(client, parse_reference(f"{ECR}/{name}:1"), layers=True)
        finally:
            await client.close()

    facts = asyncio.run(inspect())
    subject = Subject("123456789012", "us-east-1", name, 1, f"{ECR}/{name}:1", f"{ECR}/{name}:1")
    report = examine(subject, facts, [AppInput("KernelGateway", "kernels", KERNELS)]).as_json()
    assert sorted(codes(report)) == [
        "INSPECTION_INCOMPLETE",
        "LAYER_MEDIA_TYPE_UNSUPPORTED",
        "LAYER_UNREADABLE",
    ]


def test_with_preflight_on_an_app_on_an_arm64_image_fails_with_the_findings_message(
    catalog: Catalog, tmp_path: Path
) -> None:
    arm = catalog.version(good_image(architecture="arm64"))
    good = catalog.version(good_image())
    kernels = kernels_config(catalog)
    registries = tmp_path / "registries.toml"
    registries.write_text(f'[registries."{ECR}"]\nendpoint = "{catalog.registry.url}"\n')
    flags = ["--registries", str(registries), "--transitions", "0", "--preflight", "on"]
    with ServerProcess(tmp_path / "launching", args=flags).start() as server:
        sm = server.client("us-east-1")
        # The launching server's own catalog: the same images, pinned from the same registry.
        for name in (arm, good):
            sm.create_image(ImageName=name, RoleArn=ROLE)
            wait_until(lambda n=name: sm.describe_image(ImageName=n)["ImageStatus"] == "CREATED")
            sm.create_image_version(ImageName=name, BaseImage=f"{ECR}/{name}:1")
        sm.create_app_image_config(AppImageConfigName=kernels, KernelGatewayImageConfig=KERNELS)
        custom = [{"ImageName": n, "AppImageConfigName": kernels} for n in (arm, good)]
        owner = studio_owner(sm, KernelGatewayAppSettings={"CustomImages": custom})
        key = {**owner, "AppType": "KernelGateway"}
        for name in (arm, good):
            sm.create_app(
                **key,
                AppName=name,
                ResourceSpec={
                    "SageMakerImageArn": sm.describe_image(ImageName=name)["ImageArn"],
                    "InstanceType": "ml.t3.medium",
                },
            )

        def settled(name: str) -> dict[str, Any]:
            return wait_until(
                lambda: (app := sm.describe_app(**key, AppName=name))["Status"] != "Pending" and app
            )

        failed = settled(arm)
        assert failed["Status"] == "Failed"
        assert failed["FailureReason"] == (  # (versions not pinned: read by their tag)
            f"{ECR}/{arm}:1 is built for linux/arm64; Studio runs linux/amd64 and fails with"
            ' "exec format error".'
        )
        assert settled(good)["Status"] == "InService"


def _page(server: ServerProcess, path: str) -> Page:
    with urllib.request.urlopen(server.endpoint + path, timeout=60) as answer:
        return read_page(answer.status, dict(answer.headers), answer.read())


def test_the_web_catalog_runs_the_preflight_on_demand(catalog: Catalog) -> None:
    name = catalog.version(good_image(user=""))
    kernels = kernels_config(catalog)
    owner = studio_owner(
        catalog.sm,
        f"web-{name}",
        KernelGatewayAppSettings={
            "CustomImages": [{"ImageName": name, "AppImageConfigName": kernels}]
        },
    )
    assert owner["DomainId"]
    version = _page(catalog.server, f"/ui/images/{name}/versions/1?region=us-east-1")
    assert "Preflight" in [text for _, text in version.headings]
    links = dict((text, href) for href, text in version.links)
    assert f"Check with AppImageConfig {kernels}" in links
    report = _page(catalog.server, links[f"Check with AppImageConfig {kernels}"])
    assert report.title.startswith(f"Preflight of {name} version 1")
    assert report.definitions["Result"] == "2 errors, 0 warnings"
    assert [row["Code"] for row in report.table("Severity")] == ["UID_MISMATCH", "GID_MISMATCH"]
    alone = _page(catalog.server, links["Check the image alone"])
    assert alone.definitions["Result"] == "0 errors, 0 warnings"


def test_a_hostile_layer_is_read_within_bounds_and_reported(catalog: Catalog) -> None:
    """A name climbing out with `..`, an entrypoint that is a symbolic link loop, and a
    member claiming 10 GB whose stream ends after 200 MB of zeros (200 KB of gzip): read
    without following anything out of the image or writing anything, and reported."""
    escape = tarfile.TarInfo("../../etc/cron.d/evil")
    escape.size = 4
    loop_a = tarfile.TarInfo("opt/loop-a")
    loop_a.type, loop_a.linkname = tarfile.SYMTYPE, "loop-b"
    loop_b = tarfile.TarInfo("opt/loop-b")
    loop_b.type, loop_b.linkname = tarfile.SYMTYPE, "loop-a"
    bomb = tarfile.TarInfo("opt/bomb")
    bomb.size = 10 * 10**9
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(escape, io.BytesIO(b"evil"))
        tar.addfile(loop_a)
        tar.addfile(loop_b)
        members_end = tar.offset  # where the end-of-archive blocks begin
    # The end blocks dropped, the bomb's header added.
    body = raw.getvalue()[:members_end] + bomb.tobuf(tarfile.GNU_FORMAT)
    stream = zlib.compressobj(1, zlib.DEFLATED, 31)
    blob = stream.compress(body)
    for _ in range(200):
        blob += stream.compress(bytes(1 << 20))
    blob += stream.flush()
    hostile = RawLayer(blob, "application/vnd.oci.image.layer.v1.tar+gzip")
    name = catalog.version(good_image([hostile], entrypoint=["/opt/loop-a"]))
    lab = catalog.config(JupyterLabAppImageConfig={})
    report = catalog.doctor(name, app_image_config=lab)
    assert sorted(codes(report)) == ["INSPECTION_INCOMPLETE", "LAYER_UNREADABLE"]
    assert "it ends inside a member" in finding(report, "LAYER_UNREADABLE")["Message"]
    assert (
        "not evaluated: ENTRYPOINT_NOT_FOUND" in finding(report, "INSPECTION_INCOMPLETE")["Message"]
    )
    assert not Path("/etc/cron.d/evil").exists()
