"""The preflight's checks: pure functions from an image's facts and the launch's inputs (the
version, an AppImageConfig, an app type) to findings with AWS's reasons.

App-independent checks run once; the others once per app section. A check that needs the
layers says nothing when they were not all read and it would report an absence (a kernel, a
program, a user that is not there): the report names it as not evaluated instead.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sagemaker_images.doctor.facts import ImageFacts, executable_by, resolve, which
from sagemaker_images.doctor.image import (
    MACHINES,
    X86_64,
    ImageUser,
    Program,
    elf_machine,
    environment_path,
    find_program,
    image_user,
    kernels,
    path_dirs,
    shebang,
    under,
)
from sagemaker_images.doctor.report import ERROR, WARNING, AppSection, Finding, Report
from sagemaker_images.registry.reference import MalformedReference, parse_reference

STUDIO_HOME = "/home/sagemaker-user"
RESERVED = ("/opt/.sagemakerinternal", "/opt/ml", "/var/log/studio")
LIMIT_BYTES = 25 * 10**9
MAX_LAYERS = 125
_ECR = re.compile(r"(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
_DRIVER = re.compile(r"(?:^|/)(?:libcuda\.so\.\d+\.\d+|libnvidia-ml\.so\.\d+\.\d+)[\d.]*$")
_UNSUPPORTED_LAYERS = (
    ("+encrypted", "is encrypted"),
    ("foreign.diff", "is a Windows foreign layer"),
)
LAYER_TYPES = frozenset(
    (
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    )
)
# The checks that report an absence: not run on a partial reading.
_ABSENCES = (
    "USER_NOT_FOUND",
    "KERNEL_NOT_FOUND",
    "KERNEL_PROGRAM_NOT_FOUND",
    "ENTRYPOINT_NOT_FOUND",
    "INTERPRETER_NOT_FOUND",
    "SERVER_NOT_FOUND",
)
# AppImageConfig member of each app type the preflight knows.
CONFIG_MEMBERS = {
    "KernelGateway": "KernelGatewayImageConfig",
    "JupyterLab": "JupyterLabAppImageConfig",
    "CodeEditor": "CodeEditorAppImageConfig",
}


@dataclass(frozen=True, slots=True)
class Subject:
    """The image version inspected, as the catalog holds it."""

    account: str
    region: str
    image_name: str
    version: int
    base_image: str
    container_image: str


@dataclass(frozen=True, slots=True)
class AppInput:
    """One app type to check for, with the AppImageConfig's member for it (if any)."""

    app_type: str
    config_name: str | None = None
    config: dict[str, Any] | None = None


def examine(subject: Subject, facts: ImageFacts, apps: list[AppInput]) -> Report:
    """The report of an image version for these app sections."""
    report = Report(
        subject.image_name,
        subject.version,
        facts.reference,
        manifest_digest=facts.manifest_digest,
        platform=facts.platform,
        layers=len(facts.layers),
        compressed_bytes=facts.total_bytes,
        uncompressed_bytes=facts.uncompressed_bytes if facts.complete else None,
        read={
            "Level": facts.level,
            "LayersRead": sum(1 for layer in facts.layers if layer.read),
            "BytesRead": facts.bytes_read,
            "Complete": facts.complete,
        },
    )
    report.findings += list(_reference(subject))
    if facts.problem is not None:
        report.findings.append(_problem(facts))
        report.inspected = facts.problem.code not in (
            "REGISTRY_UNAUTHORIZED",
            "REGISTRY_UNAVAILABLE",
        )
        return report
    report.findings += list(_manifest(facts))
    if facts.level != "L2":
        return report
    user = image_user(facts)
    report.findings += list(_layers(facts, user))
    skipped: set[str] = set()
    if not apps:
        report.findings += _size(facts, None)
    for app in apps:
        section = AppSection(app.app_type, app.config_name)
        section.image_user = user.as_json()
        section.findings += _size(facts, app.app_type)
        section.findings += list(_app(facts, user, app, section, skipped))
        report.apps.append(section)
    if not facts.complete:
        report.findings.append(_incomplete(facts, user, apps, skipped))
    return report


# -- the reference (nothing read) ----------------------------------------------------------------


def _reference(subject: Subject) -> Iterator[Finding]:
    ref = subject.base_image
    try:
        host = parse_reference(ref).host
    except MalformedReference:
        host = ref.split("/", 1)[0]
    matched = _ECR.fullmatch(host)
    if matched is None:
        yield Finding(
            "BASE_IMAGE_NOT_ECR",
            WARNING,
            f"BaseImage {ref} is not an Amazon ECR URI"
            " (<account>.dkr.ecr.<region>.amazonaws.com/<repository>); SageMaker on AWS"
            " accepts only ECR images.",
            {"host": host},
        )
        return
    account, region = matched.group(1), matched.group(2)
    if region != subject.region:
        yield Finding(
            "ECR_REGION_MISMATCH",
            ERROR,
            f"BaseImage {ref} is in region {region} but the image is in {subject.region};"
            " SageMaker does not pull ECR images across regions.",
            {"ecr_region": region, "region": subject.region},
        )
    if account != subject.account:
        yield Finding(
            "ECR_OTHER_ACCOUNT",
            WARNING,
            f"BaseImage {ref} is in account {account}, not {subject.account}; the repository"
            " policy must allow the image's role to pull it.",
            {"ecr_account": account, "account": subject.account},
        )


def _problem(facts: ImageFacts) -> Finding:
    assert facts.problem is not None
    code, d = facts.problem.code, facts.problem.details
    ref = facts.reference
    messages = {
        "IMAGE_NOT_FOUND": lambda: (
            f"The registry has no manifest for {ref} ({d.get('registry_said', '')})."
        ),
        "REGISTRY_UNAUTHORIZED": lambda: (
            f"The registry refused to serve {ref} ({d.get('status', '')}); check the"
            f" credentials for {d.get('host', '')}."
        ),
        "REGISTRY_UNAVAILABLE": lambda: (
            f"Registry {d.get('host', '')} could not be reached ({d.get('why', '')}); the"
            " image was not inspected."
        ),
        "MANIFEST_SCHEMA1": lambda: (
            f"{ref} is a Docker schema 1 manifest ({d.get('media_type', '')}); container"
            " runtimes no longer pull it. Push it again as an OCI or Docker v2 schema 2 image."
        ),
        "NOT_A_CONTAINER_IMAGE": lambda: f"{ref} is not a container image: {d.get('why', '')}.",
        "ARCH_NOT_AMD64": lambda: (
            f"{ref} has no linux/amd64 image (it has: {d.get('platforms', '')}); Studio runs on"
            ' x86_64 and fails with "exec format error".'
        ),
    }
    severity = WARNING if code == "REGISTRY_UNAVAILABLE" else ERROR
    return Finding(code, severity, messages[code](), dict(d))


# -- the manifest and the config ----------------------------------------------------------------


def _manifest(facts: ImageFacts) -> Iterator[Finding]:
    ref = facts.reference
    if facts.moved is not None:
        tag, repository, now, pinned = facts.moved
        yield Finding(
            "TAG_MOVED",
            WARNING,
            f"Tag {tag} of {repository} now points at {now}, not at the pinned {pinned};"
            " Studio launches the pinned image. Create a new image version to use the new one.",
            {"tag": tag, "now": now, "pinned": pinned},
        )
    config = facts.config
    os_name = str(config.get("os") or "")
    architecture = str(config.get("architecture") or "")
    if os_name != "linux":
        yield Finding(
            "OS_NOT_LINUX",
            ERROR,
            f"{ref} is a {os_name or 'unknown'} image; Studio runs Linux containers.",
            {"os": os_name},
        )
    if architecture != "amd64":
        variant = f"/{config['variant']}" if config.get("variant") else ""
        yield Finding(
            "ARCH_NOT_AMD64",
            ERROR,
            f"{ref} is built for {os_name}/{architecture}{variant}; Studio runs linux/amd64 and"
            ' fails with "exec format error".',
            {"os": os_name, "architecture": architecture},
        )
    if len(facts.layers) > MAX_LAYERS:
        yield Finding(
            "TOO_MANY_LAYERS",
            WARNING,
            f"{ref} has {len(facts.layers)} layers; Docker's overlay2 refuses images deeper"
            ' than about 125 layers ("max depth exceeded"). Squash layers.',
            {"layers": len(facts.layers)},
        )
    if "PATH" not in {str(e).partition("=")[0] for e in facts.image_config.get("Env") or ()}:
        yield Finding(
            "PATH_UNSET",
            WARNING,
            "The image config sets no PATH; programs are looked up in Docker's default"
            " /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin.",
        )
    for layer in facts.layers:
        number = layer.index + 1
        why = _unsupported(layer.media_type)
        if why is not None:
            zstd = layer.media_type.endswith("+zstd")
            yield Finding(
                "LAYER_MEDIA_TYPE_UNSUPPORTED",
                WARNING if zstd else ERROR,
                f"Layer {number} ({layer.digest}) has media type {layer.media_type}, which {why}.",
                {"layer": number, "media_type": layer.media_type},
                subject=f"{number:05d}",
            )


def _unsupported(media_type: str) -> str | None:
    for marker, why in _UNSUPPORTED_LAYERS:
        if marker in media_type:
            return why
    if media_type.endswith("+zstd"):
        return "needs containerd 1.5 or Docker 23 (zstd)"
    if media_type not in LAYER_TYPES:
        return "is not a layer type"
    return None


def _size(facts: ImageFacts, app_type: str | None) -> list[Finding]:
    complete = facts.complete and facts.level == "L2"
    size, basis = (
        (facts.uncompressed_bytes, "uncompressed")
        if complete
        else (facts.total_bytes, "compressed, lower bound")
    )
    if size <= LIMIT_BYTES:
        return []
    return [
        Finding(
            "IMAGE_TOO_LARGE",
            ERROR if app_type == "KernelGateway" else WARNING,
            f"{facts.reference} is {size / 10**9:.1f} GB ({basis}); Studio Classic limits images"
            " to 25 GB.",
            {"bytes": size, "basis": basis},
        )
    ]


# -- the layers ----------------------------------------------------------------------------------


def _layers(facts: ImageFacts, user: ImageUser) -> Iterator[Finding]:
    for layer in facts.layers:
        number = layer.index + 1
        if layer.problem is None:
            continue
        if layer.problem.startswith("digest "):
            actual = layer.problem.removeprefix("digest ")
            yield Finding(
                "LAYER_DIGEST_MISMATCH",
                ERROR,
                f"Layer {number} has digest {actual}, not {layer.digest} as the manifest says;"
                " a pull fails.",
                {"layer": number, "actual": actual, "expected": layer.digest},
                subject=f"{number:05d}",
            )
        else:
            yield Finding(
                "LAYER_UNREADABLE",
                WARNING,
                f"Layer {number} ({layer.digest}) could not be read ({layer.problem}); checks"
                " that need its files were not evaluated.",
                {"layer": number, "why": layer.problem},
                subject=f"{number:05d}",
            )
    if facts.high_id_count:
        path, uid, gid, layer_index = facts.high_ids[0]
        yield Finding(
            "FILE_ID_OVER_65535",
            ERROR,
            f"{facts.high_id_count} files in the image's layers are owned by UIDs/GIDs above"
            f" 65535 (first: {path} uid={uid} gid={gid} in layer {layer_index + 1}); SageMaker"
            " supports only IDs up to 65535, even for files deleted by a later layer.",
            {
                "count": facts.high_id_count,
                "files": [
                    {"path": p, "uid": u, "gid": g, "layer": i + 1} for p, u, g, i in facts.high_ids
                ],
            },
        )
    if facts.complete and (user.missing_user or user.missing_group):
        group = f" or group {user.missing_group} is not in /etc/group" if user.missing_group else ""
        yield Finding(
            "USER_NOT_FOUND",
            ERROR,
            f"The image user {user.label} is not in /etc/passwd{group}; the container cannot"
            " start as that user.",
            {"user": user.label},
        )
    for reserved in RESERVED:
        inside = _first_inside(facts, reserved)
        if inside is not None:
            yield Finding(
                "RESERVED_PATH_IN_IMAGE",
                WARNING,
                f"The image has files under {reserved}, which SageMaker reserves; they may not"
                " be visible at run time.",
                {"path": reserved, "first": inside},
                subject=reserved,
            )
    drivers = sorted(
        p
        for p in facts.entries
        if "/stubs/" not in p and (_DRIVER.search(p) or p == "usr/bin/nvidia-smi")
    )
    if drivers:
        yield Finding(
            "NVIDIA_DRIVER_IN_IMAGE",
            WARNING,
            f"The image contains NVIDIA driver files (/{drivers[0]}); on GPU instances Studio"
            " runs the image with --gpus and the image should carry only the CUDA toolkit.",
            {"files": ["/" + p for p in drivers[:20]]},
        )
    found = kernels(facts, environment_path(facts), None)
    for spec, why in found.invalid:
        yield Finding(
            "KERNELSPEC_INVALID",
            WARNING,
            f"{spec} is not a valid kernel spec ({why}); Jupyter ignores it.",
            {"path": spec, "why": why},
            subject=spec,
        )


def _driver(path: str) -> bool:
    """An NVIDIA driver's user-space library (not a CUDA stub), or nvidia-smi."""
    if "/stubs/" in path:
        return False
    return bool(_DRIVER.search(path)) or path == "usr/bin/nvidia-smi"


def _first_inside(facts: ImageFacts, directory: str) -> str | None:
    prefix = directory.strip("/") + "/"
    inside = [p for p in facts.entries if p.startswith(prefix)]
    return "/" + min(inside) if inside else None


def _incomplete(
    facts: ImageFacts, user: ImageUser, apps: list[AppInput], skipped: set[str]
) -> Finding:
    why = facts.stopped or "a layer could not be read"
    if user.uid is None and facts.image_config.get("User"):
        skipped.add("USER_NOT_FOUND")
    codes = [code for code in _ABSENCES if code in skipped] or ["none"]
    return Finding(
        "INSPECTION_INCOMPLETE",
        WARNING,
        f"Inspection stopped after {facts.bytes_read} of {facts.total_bytes} bytes ({why});"
        f" not evaluated: {', '.join(codes)}.",
        {"read": facts.bytes_read, "total": facts.total_bytes, "why": why, "codes": codes},
    )


# -- per app type --------------------------------------------------------------------------------


def _app(
    facts: ImageFacts, user: ImageUser, app: AppInput, section: AppSection, skipped: set[str]
) -> Iterator[Finding]:
    config = app.config or {}
    container = config.get("ContainerConfig") or {}
    path = environment_path(facts, container.get("ContainerEnvironmentVariables"))
    dirs = path_dirs(path)
    kernel_gateway = app.app_type == "KernelGateway"
    file_system = config.get("FileSystemConfig") if kernel_gateway else None
    mount = (
        str((file_system or {}).get("MountPath") or STUDIO_HOME)
        if kernel_gateway and app.config is not None
        else STUDIO_HOME
        if not kernel_gateway
        else None
    )
    if kernel_gateway:
        yield from _ids(user, app, file_system)
    else:
        yield from _studio_user(facts, user, app)
    if mount is not None:
        yield from _mount(facts, mount)
    if kernel_gateway:
        yield from _kernels(facts, app, path, mount, section, skipped)
    else:
        yield from _command(facts, user, app, dirs, skipped)


def _ids(user: ImageUser, app: AppInput, file_system: dict[str, Any] | None) -> Iterator[Finding]:
    if app.config is None:
        return
    uid = int((file_system or {}).get("DefaultUid", 1000))
    gid = int((file_system or {}).get("DefaultGid", 100))
    if (uid, gid) not in ((1000, 100), (0, 0)):
        yield Finding(
            "UID_PAIR_UNSUPPORTED",
            ERROR,
            f"DefaultUid {uid} / DefaultGid {gid} is not supported by Studio Classic, which"
            " accepts only 1000/100 and 0/0.",
            {"uid": uid, "gid": gid},
        )
    unset = file_system is None
    suffix = (
        " (FileSystemConfig is not set; AWS documents both 1000/100 and 0/0 as the default)"
        if unset
        else ""
    )
    severity = WARNING if unset else ERROR
    quote = (
        ' Studio reports "Ensure that the UID/GID provided in the AppImageConfig matches the'
        ' default UID/GID defined in the image."'
    )
    if user.uid is not None and user.uid != uid:
        yield Finding(
            "UID_MISMATCH",
            severity,
            f"The image runs as UID {user.uid} ({user.label}) but the AppImageConfig"
            f" {app.config_name} has DefaultUid {uid};{quote}{suffix}",
            {"image_uid": user.uid, "uid": uid},
        )
    if user.gid is not None and user.uid is not None and user.gid != gid:
        yield Finding(
            "GID_MISMATCH",
            severity,
            f"The image runs as GID {user.gid} ({user.label}) but the AppImageConfig"
            f" {app.config_name} has DefaultGid {gid};{quote}{suffix}",
            {"image_gid": user.gid, "gid": gid},
        )


def _studio_user(facts: ImageFacts, user: ImageUser, app: AppInput) -> Iterator[Finding]:
    if user.uid is not None and user.gid is not None and (user.uid, user.gid) != (1000, 100):
        yield Finding(
            "STUDIO_USER_NOT_1000_100",
            WARNING,
            f"The image runs as {user.uid}:{user.gid}; Studio documents UID 1000 and GID 100 as"
            f" the supported values for {app.app_type} images.",
            {"uid": user.uid, "gid": user.gid},
        )
    workdir = str(facts.image_config.get("WorkingDir") or "/")
    if not under(workdir, STUDIO_HOME):
        yield Finding(
            "WORKDIR_OUTSIDE_HOME",
            WARNING,
            f"WORKDIR is {workdir}; Studio mounts the space volume on /home/sagemaker-user and"
            " asks for a working directory inside it.",
            {"workdir": workdir},
        )


def _mount(facts: ImageFacts, mount: str) -> Iterator[Finding]:
    for reserved in RESERVED:
        if under(mount, reserved):
            yield Finding(
                "MOUNTPATH_RESERVED",
                ERROR,
                f"MountPath {mount} is inside {reserved}, which SageMaker reserves.",
                {"mount": mount, "reserved": reserved},
            )
            return
    reached, entry = resolve(facts.entries, mount.strip("/"))
    if entry is not None and entry.kind != "dir":
        kind = {"file": "regular file", "symlink": "symbolic link"}.get(entry.kind, "special file")
        yield Finding(
            "MOUNTPATH_NOT_DIRECTORY",
            ERROR,
            f"MountPath {mount} is a {kind} in the image; the home volume cannot be mounted there.",
            {"mount": mount, "kind": kind},
        )
        return
    prefix = reached + "/" if reached else ""
    inside = sorted(p for p in facts.entries if p.startswith(prefix) and p != reached)
    if reached and inside:
        yield Finding(
            "MOUNTPATH_NOT_EMPTY",
            WARNING,
            f"MountPath {mount} holds {len(inside)} entries in the image (first:"
            f" /{inside[0]}); they are hidden when the home volume is mounted. AWS asks for an"
            " empty directory.",
            {"mount": mount, "count": len(inside), "first": "/" + inside[0]},
        )


def _kernels(
    facts: ImageFacts,
    app: AppInput,
    path: str | None,
    mount: str | None,
    section: AppSection,
    skipped: set[str],
) -> Iterator[Finding]:
    found = kernels(facts, path, mount)
    section.kernels_found = sorted(found.found)
    specs = (app.config or {}).get("KernelSpecs")
    wanted = [str(s.get("Name")) for s in specs or () if isinstance(s, dict)]
    default = app.config is None or not specs
    if default:
        wanted = ["python3"]
    config_name = app.config_name or "(none)"
    for name in wanted:
        if name in found.found:
            spec = found.found[name]
            yield from _reserved_use(f"Kernel {name} spec", spec)
            argv = found.argv.get(name)
            if argv is None:
                continue
            if not facts.complete:
                skipped.add("KERNEL_PROGRAM_NOT_FOUND")
                continue
            program = find_program(facts, argv[0], path_dirs(path), "/")
            if program is None:
                yield Finding(
                    "KERNEL_PROGRAM_NOT_FOUND",
                    WARNING,
                    f"Kernel {name} runs {argv[0]}, which is not in the image; the kernel will"
                    " die on start.",
                    {"kernel": name, "program": argv[0]},
                    subject=name,
                )
            continue
        if name in found.under_mount:
            yield Finding(
                "KERNEL_UNDER_MOUNTPATH",
                ERROR,
                f"Kernel {name} is defined under {found.under_mount[name]}, inside MountPath"
                f" {mount}; the home volume mounted there hides it.",
                {"kernel": name, "path": found.under_mount[name], "mount": mount},
                subject=name,
            )
            continue
        if not facts.complete:
            skipped.add("KERNEL_NOT_FOUND")
            continue
        names = ", ".join(sorted(found.found)) or "none"
        near = next((k for k in sorted(found.found) if k.lower() == name.lower()), None)
        hint = f" Did you mean {near}?" if near else ""
        yield Finding(
            "KERNEL_NOT_FOUND",
            WARNING if default else ERROR,
            f"Kernel {name} of AppImageConfig {config_name} is not in the image (kernels found:"
            f' {names}); Studio answers "Kernel with name [{name}] does not exist in image".'
            f"{hint}",
            {"kernel": name, "found": sorted(found.found)},
            subject=name,
        )


def _reserved_use(what: str, path: str) -> Iterator[Finding]:
    for reserved in RESERVED:
        if under(path, reserved):
            yield Finding(
                "RESERVED_PATH_USED",
                ERROR,
                f"{what} {path} is under {reserved}, which SageMaker reserves; it may not be"
                " visible at run time.",
                {"path": path, "reserved": reserved},
                subject=path,
            )


def _command(
    facts: ImageFacts, user: ImageUser, app: AppInput, dirs: list[str], skipped: set[str]
) -> Iterator[Finding]:
    config = app.config or {}
    container = config.get("ContainerConfig") or {}
    image = facts.image_config
    given_entrypoint = list(container.get("ContainerEntrypoint") or [])
    given_arguments = container.get("ContainerArguments")
    if given_entrypoint:
        argv = given_entrypoint + list(given_arguments or [])
        source = f"ContainerEntrypoint of AppImageConfig {app.config_name}"
    else:
        entrypoint = list(image.get("Entrypoint") or [])
        arguments = (
            list(given_arguments) if given_arguments is not None else list(image.get("Cmd") or [])
        )
        argv = entrypoint + arguments
        source = "The image ENTRYPOINT" if entrypoint else "The image CMD"
    server = "jupyter-lab" if app.app_type == "JupyterLab" else "sagemaker-code-editor"
    if not argv:
        yield Finding(
            "ENTRYPOINT_MISSING",
            ERROR,
            "Nothing to run: the image has no ENTRYPOINT or CMD and AppImageConfig"
            f" {app.config_name or '(none)'} sets no ContainerEntrypoint; the {app.app_type}"
            " app never becomes healthy.",
        )
    else:
        yield from _program(facts, user, argv[0], source, dirs, skipped)
        yield from _server_args(argv, app.app_type)
    if not facts.complete:
        skipped.add("SERVER_NOT_FOUND")
        return
    entries = facts.entries
    if server == "jupyter-lab":
        found = which(entries, "jupyter-lab", dirs) or _jupyter_with_lab(facts, dirs)
    else:
        found = which(entries, "sagemaker-code-editor", dirs)
    if found is None:
        alternative = (
            "; found code-server, which AWS does not document for Code Editor"
            if server == "sagemaker-code-editor" and which(entries, "code-server", dirs)
            else ""
        )
        yield Finding(
            "SERVER_NOT_FOUND",
            WARNING,
            f"No {server} on PATH ({':'.join(dirs)}); a {app.app_type} image must start {server}"
            f" itself{alternative}.",
            {"server": server},
        )


def _jupyter_with_lab(facts: ImageFacts, dirs: list[str]) -> str | None:
    jupyter = which(facts.entries, "jupyter", dirs)
    if jupyter is None:
        return None
    prefix = posixpath.dirname(posixpath.dirname(jupyter)).strip("/")
    pattern = re.compile(rf"^{re.escape(prefix)}/lib/python3[^/]*/site-packages/jupyterlab(/|$)")
    return jupyter if any(pattern.match(p) for p in facts.entries) else None


def _program(
    facts: ImageFacts,
    user: ImageUser,
    name: str,
    source: str,
    dirs: list[str],
    skipped: set[str],
) -> Iterator[Finding]:
    workdir = str(facts.image_config.get("WorkingDir") or "/")
    program = find_program(facts, name, dirs, workdir)
    if program is None:
        if not facts.complete:
            skipped.add("ENTRYPOINT_NOT_FOUND")
            return
        where = name if "/" in name else ":".join(dirs)
        yield Finding(
            "ENTRYPOINT_NOT_FOUND",
            ERROR,
            f"{source} runs {name}, which is not in the image (searched {where}).",
            {"program": name, "searched": where},
            subject=name,
        )
        return
    yield from _reserved_use("Entrypoint", program.path)
    entry = program.entry
    assert entry is not None
    uid = user.uid if user.uid is not None else 0
    gid = user.gid if user.gid is not None else 0
    if entry.kind == "dir" or not executable_by(entry, uid, gid):
        why = "a directory" if entry.kind == "dir" else f"not executable by {uid}:{gid}"
        yield Finding(
            "ENTRYPOINT_NOT_EXECUTABLE",
            ERROR,
            f"{source} runs {program.path}, which is {why}.",
            {"path": program.path, "why": why},
            subject=program.path,
        )
        return
    yield from _executes(facts, program, dirs, skipped)


def _executes(
    facts: ImageFacts, program: Program, dirs: list[str], skipped: set[str]
) -> Iterator[Finding]:
    """What running the program needs: its interpreter (a script's), x86-64 code (a binary's)."""
    mismatch = _foreign_binary(program)
    if mismatch is not None:
        yield mismatch
        return
    script = shebang(program.head)
    if script is None:
        return
    line, carriage = script
    words = line.split()
    interpreter = words[0] if words else ""
    target = interpreter
    if posixpath.basename(interpreter) == "env" and len(words) > 1:
        target = words[1]
    found = None if carriage or not target else find_program(facts, target, dirs, "/")
    if found is None:
        if not carriage and not facts.complete:
            skipped.add("INTERPRETER_NOT_FOUND")
            return
        note = " (the line ends with a carriage return)" if carriage else ""
        yield Finding(
            "INTERPRETER_NOT_FOUND",
            ERROR,
            f'{program.path} starts with "#!{line}", but {target or "nothing"} is not in the'
            f" image{note}.",
            {"path": program.path, "interpreter": target, "carriage_return": carriage},
            subject=program.path,
        )
        return
    yield from _reserved_use("Interpreter", found.path)
    mismatch = _foreign_binary(found)
    if mismatch is not None:
        yield mismatch


def _foreign_binary(program: Program) -> Finding | None:
    """EXEC_ARCH_MISMATCH for an ELF binary built for another machine than x86-64."""
    machine = elf_machine(program.head)
    if machine is None or machine == X86_64:
        return None
    label = MACHINES.get(machine, f"machine {machine}")
    return Finding(
        "EXEC_ARCH_MISMATCH",
        ERROR,
        f'{program.path} is an ELF binary for {label}, not x86-64; it fails with "exec format'
        ' error".',
        {"path": program.path, "machine": machine},
        subject=program.path,
    )


# (flag, expected value; None: the flag must be there, with no value)
_EXPECTED = {
    "JupyterLab": (
        ("--port", "8888"),
        ("--ip", "0.0.0.0"),
        ("--ServerApp.base_url", "/jupyterlab/default"),
        ("--ServerApp.token", ""),
    ),
    "CodeEditor": (
        ("--port", "8888"),
        ("--host", "0.0.0.0"),
        ("--base-path", "/CodeEditor/default"),
    ),
}


def _server_args(argv: list[str], app_type: str) -> Iterator[Finding]:
    base = posixpath.basename(argv[0])
    if base == "jupyter-lab" or (base == "jupyter" and argv[1:2] == ["lab"]):
        server, arguments = "jupyter-lab", argv[1:] if base == "jupyter-lab" else argv[2:]
    elif base == "sagemaker-code-editor":
        server, arguments = base, argv[1:]
    else:
        return
    given = _options(arguments)
    for flag, expected in _EXPECTED.get(app_type, ()):
        if flag in given and given[flag] != expected:
            shown = expected if expected else "an empty value"
            yield Finding(
                "SERVER_ARGS_MISMATCH",
                WARNING,
                f"{server} is started with {flag}={shlex.quote(given[flag] or '')}; Studio"
                f" expects {shown}.",
                {"argument": flag, "value": given[flag], "expected": expected},
                subject=flag,
            )
    if server == "sagemaker-code-editor" and "--without-connection-token" not in given:
        yield Finding(
            "SERVER_ARGS_MISMATCH",
            WARNING,
            f"{server} is started without --without-connection-token; Studio expects"
            " --without-connection-token.",
            {"argument": "--without-connection-token", "value": None, "expected": "present"},
            subject="--without-connection-token",
        )


def _options(arguments: list[str]) -> dict[str, str | None]:
    """`--flag=value`, `--flag value` and bare `--flag` arguments, by flag."""
    found: dict[str, str | None] = {}
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if not argument.startswith("--"):
            continue
        flag, equals, value = argument.partition("=")
        if equals:
            found[flag] = value
        elif index < len(arguments) and not arguments[index].startswith("--"):
            found[flag] = arguments[index]
            index += 1
        else:
            found[flag] = None
    return found
