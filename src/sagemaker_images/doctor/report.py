"""A preflight report: findings with stable codes, their order, JSON and text.

Every code has a number (its place in the order of a report), a severity (some depend on the
app type) and the source its rule rests on. Errors come before warnings, then by number, then
by subject; app-independent findings appear once, at the top, and each app section holds
only the findings that depend on its app type and AppImageConfig.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> (number, evidence)
CODES: dict[str, tuple[int, str]] = {
    "BASE_IMAGE_NOT_ECR": (1, "model"),
    "ECR_REGION_MISMATCH": (2, "alex#30"),
    "ECR_OTHER_ACCOUNT": (3, "samples-dev"),
    "IMAGE_NOT_FOUND": (4, "registry"),
    "REGISTRY_UNAUTHORIZED": (5, "registry"),
    "REGISTRY_UNAVAILABLE": (6, "registry"),
    "TAG_MOVED": (7, "conda-env-kernel-image README"),
    "MANIFEST_SCHEMA1": (8, "docker/cli#4938"),
    "NOT_A_CONTAINER_IMAGE": (9, "OCI image spec"),
    "ARCH_NOT_AMD64": (10, "s#28"),
    "OS_NOT_LINUX": (11, "s#28"),
    "TOO_MANY_LAYERS": (12, "moby/moby#25957"),
    "IMAGE_TOO_LARGE": (13, "DG-classic"),
    "LAYER_MEDIA_TYPE_UNSUPPORTED": (14, "OCI image spec"),
    "LAYER_UNREADABLE": (15, "OCI image spec"),
    "LAYER_DIGEST_MISMATCH": (16, "OCI image spec"),
    "FILE_ID_OVER_65535": (17, "samples-dev"),
    "USER_NOT_FOUND": (18, "runc"),
    "PATH_UNSET": (19, "Docker"),
    "RESERVED_PATH_IN_IMAGE": (20, "DG-classic"),
    "NVIDIA_DRIVER_IN_IMAGE": (21, "DG-classic"),
    "UID_MISMATCH": (22, "samples-dev"),
    "GID_MISMATCH": (23, "samples-dev"),
    "KERNEL_NOT_FOUND": (24, "s#22"),
    "KERNEL_UNDER_MOUNTPATH": (25, "s#14"),
    "KERNELSPEC_INVALID": (26, "Jupyter"),
    "KERNEL_PROGRAM_NOT_FOUND": (27, "s#4"),
    "MOUNTPATH_NOT_DIRECTORY": (28, "API-FSC"),
    "MOUNTPATH_RESERVED": (29, "DG-classic"),
    "MOUNTPATH_NOT_EMPTY": (30, "API-FSC"),
    "UID_PAIR_UNSUPPORTED": (31, "DG-classic"),
    "STUDIO_USER_NOT_1000_100": (32, "DG-studio"),
    "WORKDIR_OUTSIDE_HOME": (33, "DG-studio"),
    "ENTRYPOINT_MISSING": (34, "DG-ce-spec"),
    "ENTRYPOINT_NOT_FOUND": (35, "sagemaker-distribution#178"),
    "ENTRYPOINT_NOT_EXECUTABLE": (36, "runc"),
    "INTERPRETER_NOT_FOUND": (37, "runc"),
    "EXEC_ARCH_MISMATCH": (38, "s#28"),
    "RESERVED_PATH_USED": (39, "DG-classic"),
    "SERVER_NOT_FOUND": (40, "DG-ce"),
    "SERVER_ARGS_MISMATCH": (41, "DG-ce"),
    "INSPECTION_INCOMPLETE": (42, "doctor"),
}
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    subject: str = ""  # what it is about (a kernel's name, a layer): one finding each

    def as_json(self) -> dict[str, Any]:
        return {
            "Code": self.code,
            "Severity": self.severity,
            "Message": self.message,
            "Details": self.details,
            "Evidence": CODES[self.code][1],
        }


def ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first, then by the code's number, then by subject; one per (code, subject)."""
    unique = {(f.code, f.subject): f for f in reversed(findings)}
    return sorted(unique.values(), key=lambda f: (f.severity != ERROR, CODES[f.code][0], f.subject))


@dataclass(slots=True)
class AppSection:
    app_type: str
    config_name: str | None
    kernels_found: list[str] | None = None
    image_user: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"AppType": self.app_type}
        if self.config_name is not None:
            found["AppImageConfigName"] = self.config_name
        if self.kernels_found is not None:
            found["KernelsFound"] = self.kernels_found
        if self.image_user is not None:
            found["ImageUser"] = self.image_user
        found["Findings"] = [f.as_json() for f in ordered(self.findings)]
        return found


@dataclass(slots=True)
class Report:
    image_name: str
    version: int
    container_image: str
    manifest_digest: str = ""
    platform: str = ""
    layers: int = 0
    compressed_bytes: int = 0
    uncompressed_bytes: int | None = None
    read: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    apps: list[AppSection] = field(default_factory=list)
    inspected: bool = True  # False: the image could not be read at all (exit status 2)

    def every_finding(self) -> list[Finding]:
        return [*self.findings, *(f for app in self.apps for f in app.findings)]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.every_finding() if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.every_finding() if f.severity == WARNING)

    def exit_status(self) -> int:
        """0: no error; 1: an error; 2: the image could not be inspected."""
        if not self.inspected:
            return 2
        return 1 if self.errors else 0

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "ImageName": self.image_name,
            "Version": self.version,
            "ContainerImage": self.container_image,
        }
        if self.manifest_digest:
            found["ManifestDigest"] = self.manifest_digest
        if self.platform:
            found["Platform"] = self.platform
        found["Layers"] = self.layers
        found["CompressedBytes"] = self.compressed_bytes
        if self.uncompressed_bytes is not None:
            found["UncompressedBytes"] = self.uncompressed_bytes
        found["Read"] = self.read
        found["Findings"] = [f.as_json() for f in ordered(self.findings)]
        found["Apps"] = [app.as_json() for app in self.apps]
        found["Errors"] = self.errors
        found["Warnings"] = self.warnings
        return found

    def text(self) -> str:
        """One line a finding (`SEVERITY CODE message`, an app's prefixed with its type),
        then a summary."""
        lines = [f"{f.severity.upper()} {f.code} {f.message}" for f in ordered(self.findings)]
        for app in self.apps:
            lines += [
                f"{f.severity.upper()} {f.code} [{app.app_type}] {f.message}"
                for f in ordered(app.findings)
            ]
        read = self.read
        layers = f"{read.get('LayersRead', 0)}/{self.layers} layers"
        errors = f"{self.errors} error{'' if self.errors == 1 else 's'}"
        warnings = f"{self.warnings} warning{'' if self.warnings == 1 else 's'}"
        lines.append(f"{errors}, {warnings} (read {read.get('Level', 'L0')}, {layers})")
        return "\n".join(lines)
