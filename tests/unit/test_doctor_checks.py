"""The preflight's checks on facts built directly: no registry, no layers, no tar."""

from __future__ import annotations

import json
from typing import Any

from sagemaker_images.doctor.checks import AppInput, Subject, examine
from sagemaker_images.doctor.facts import Entry, ImageFacts, LayerFacts

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ELF_X86 = b"\x7fELF\x02\x01\x01" + bytes(11) + b"\x3e\x00" + bytes(44)
PASSWD = (
    b"root:x:0:0:root:/root:/bin/bash\nsagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash\n"
)
KERNEL = json.dumps({"argv": ["/opt/conda/bin/python", "-m", "ipykernel_launcher"]}).encode()


def facts(**config: Any) -> ImageFacts:
    """A complete, good image's facts, its config's `config` members overridden."""
    entries = {
        "etc/passwd": Entry("file", 0o644, 0, 0, len(PASSWD), "", 0),
        "home/sagemaker-user": Entry("dir", 0o755, 1000, 100, 0, "", 0),
        "opt/conda/bin/python": Entry("file", 0o755, 0, 0, 64, "", 0),
        "opt/conda/bin/jupyter-lab": Entry("file", 0o755, 0, 0, 30, "", 0),
        "opt/conda/share/jupyter/kernels/python3/kernel.json": Entry("file", 0o644, 0, 0, 9, "", 0),
        "usr/bin/sagemaker-code-editor": Entry("file", 0o755, 0, 0, 64, "", 0),
    }
    image_config = {
        "User": "sagemaker-user",
        "Env": ["PATH=/opt/conda/bin:/usr/bin:/bin"],
        "WorkingDir": "/home/sagemaker-user",
        **config,
    }
    return ImageFacts(
        reference=f"{ECR}/x@sha256:" + "a" * 64,
        manifest_digest="sha256:" + "a" * 64,
        platform="linux/amd64",
        config={"os": "linux", "architecture": "amd64", "config": image_config},
        layers=[
            LayerFacts(
                0,
                "sha256:" + "b" * 64,
                "application/vnd.oci.image.layer.v1.tar+gzip",
                10,
                read=True,
            )
        ],
        entries=entries,
        captured={
            "etc/passwd": PASSWD,
            "opt/conda/share/jupyter/kernels/python3/kernel.json": KERNEL,
        },
        heads={
            "opt/conda/bin/python": ELF_X86,
            "opt/conda/bin/jupyter-lab": b"#!/opt/conda/bin/python\n",
            "usr/bin/sagemaker-code-editor": ELF_X86,
        },
        level="L2",
        complete=True,
        total_bytes=10,
        uncompressed_bytes=20,
    )


def subject(base_image: str = f"{ECR}/x:1") -> Subject:
    return Subject("123456789012", "us-east-1", "x", 1, base_image, base_image)


def codes(found: ImageFacts, *apps: AppInput, base_image: str = f"{ECR}/x:1") -> list[str]:
    report = examine(subject(base_image), found, list(apps)).as_json()
    return [f["Code"] for f in report["Findings"]] + [
        f["Code"] for app in report["Apps"] for f in app["Findings"]
    ]


def test_the_reference_as_aws_would_see_it() -> None:
    assert codes(facts(), base_image="registry.example/x:1") == ["BASE_IMAGE_NOT_ECR"]
    assert codes(facts(), base_image="999999999999.dkr.ecr.eu-west-1.amazonaws.com/x:1") == [
        "ECR_REGION_MISMATCH",
        "ECR_OTHER_ACCOUNT",
    ]


def test_without_a_file_system_config_the_ids_are_only_a_warning() -> None:
    root = facts(User="")
    report = examine(
        subject(), root, [AppInput("KernelGateway", "k", {"KernelSpecs": [{"Name": "python3"}]})]
    )
    found = report.as_json()["Apps"][0]["Findings"]
    assert [(f["Code"], f["Severity"]) for f in found] == [
        ("UID_MISMATCH", "warning"),
        ("GID_MISMATCH", "warning"),
    ]
    assert found[0]["Message"].endswith(
        "(FileSystemConfig is not set; AWS documents both 1000/100 and 0/0 as the default)"
    )


def test_an_app_type_without_a_config_checks_the_default_kernel_as_a_warning() -> None:
    bare = facts()
    del bare.entries["opt/conda/share/jupyter/kernels/python3/kernel.json"]
    report = examine(subject(), bare, [AppInput("KernelGateway")]).as_json()
    (kernel,) = report["Apps"][0]["Findings"]
    assert (kernel["Code"], kernel["Severity"]) == ("KERNEL_NOT_FOUND", "warning")


def test_server_arguments_in_both_spellings() -> None:
    lab = facts(Entrypoint=["jupyter", "lab"], Cmd=["--port", "9999", "--ServerApp.token=abc"])
    lab.entries["opt/conda/bin/jupyter"] = Entry("file", 0o755, 0, 0, 30, "", 0)
    lab.heads["opt/conda/bin/jupyter"] = b"#!/usr/bin/env python\n"
    lab.entries["usr/bin/env"] = Entry("file", 0o755, 0, 0, 64, "", 0)
    lab.heads["usr/bin/env"] = ELF_X86
    report = examine(subject(), lab, [AppInput("JupyterLab", "lab", {})]).as_json()
    mismatches = [f["Details"]["argument"] for f in report["Apps"][0]["Findings"]]
    assert mismatches == ["--ServerApp.token", "--port"]


def test_a_script_found_through_env_and_one_not_executable() -> None:
    found = facts(Entrypoint=["/opt/start"])
    found.entries["opt/start"] = Entry("file", 0o744, 0, 0, 30, "", 0)  # only root may run it
    found.heads["opt/start"] = b"#!/usr/bin/env python\n"
    report = examine(subject(), found, [AppInput("CodeEditor", "editor", {})]).as_json()
    (refused,) = [f for f in report["Apps"][0]["Findings"] if f["Code"].startswith("ENTRY")]
    assert refused["Code"] == "ENTRYPOINT_NOT_EXECUTABLE"
    assert (
        refused["Message"]
        == "The image ENTRYPOINT runs /opt/start, which is not executable by 1000:100."
    )


def test_image_size_is_an_error_for_kernel_gateway_only() -> None:
    big = facts()
    big.uncompressed_bytes = 26 * 10**9
    kernel = examine(
        subject(), big, [AppInput("KernelGateway", "k", {"KernelSpecs": [{"Name": "python3"}]})]
    )
    lab = examine(
        subject(),
        big,
        [
            AppInput(
                "JupyterLab", "l", {"ContainerConfig": {"ContainerEntrypoint": ["jupyter-lab"]}}
            )
        ],
    )
    assert [(f.code, f.severity) for f in kernel.apps[0].findings] == [("IMAGE_TOO_LARGE", "error")]
    assert [(f.code, f.severity) for f in lab.apps[0].findings] == [("IMAGE_TOO_LARGE", "warning")]
    assert (
        kernel.apps[0]
        .findings[0]
        .message.endswith("is 26.0 GB (uncompressed); Studio Classic limits images to 25 GB.")
    )


def test_exit_statuses() -> None:
    clean = examine(subject(), facts(), [])
    assert clean.exit_status() == 0
    root = examine(
        subject(), facts(User=""), [AppInput("KernelGateway", "k", {"FileSystemConfig": {}})]
    )
    assert root.exit_status() == 1
    unreachable = facts()
    from sagemaker_images.doctor.facts import Problem

    unreachable.problem = Problem("REGISTRY_UNAVAILABLE", {"host": "h", "why": "timed out"})
    assert examine(subject(), unreachable, []).exit_status() == 2
