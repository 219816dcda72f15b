"""What the checks ask of an image's facts: its user, its PATH, its kernels, what a command
would execute. Pure functions of `ImageFacts` (no input of a check but the PATH and the
home mount, which come from an AppImageConfig)."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field

from sagemaker_images.doctor.facts import Entry, ImageFacts, exists_as_dir, resolve, which

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# ELF e_machine values, as `file` names them.
MACHINES = {
    3: "x86 (32-bit)",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    22: "S390",
    40: "ARM",
    62: "x86-64",
    183: "aarch64 (ARM64)",
    243: "RISC-V",
}
X86_64 = 62


@dataclass(frozen=True, slots=True)
class ImageUser:
    text: str  # config User as written ("" is root)
    uid: int | None  # None: not known (a name not found, or /etc/passwd not read)
    gid: int | None
    name: str | None
    home: str | None
    missing_user: bool = False  # a name /etc/passwd does not hold
    missing_group: str | None = None  # a group name /etc/group does not hold

    @property
    def label(self) -> str:
        return self.text or "root"

    def as_json(self) -> dict[str, object]:
        found: dict[str, object] = {}
        if self.uid is not None:
            found["Uid"] = self.uid
        if self.gid is not None:
            found["Gid"] = self.gid
        if self.name:
            found["Name"] = self.name
        return found


def _table(facts: ImageFacts, path: str) -> list[list[str]] | None:
    """A colon-separated file of /etc, as rows; None when the image has none (or it was not
    read)."""
    content = facts.captured.get(path)
    if content is None:
        return None
    rows = []
    for line in content.decode("utf-8", "replace").splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split(":"))
    return rows


def image_user(facts: ImageFacts) -> ImageUser:
    text = str(facts.image_config.get("User") or "")
    user, _, group = text.partition(":")
    passwd = _table(facts, "etc/passwd")
    groups = _table(facts, "etc/group")
    if not user:
        return ImageUser(text, 0, 0, "root", _home_of(passwd, 0))
    name: str | None = None
    uid: int | None = None
    primary: int | None = None
    home: str | None = None
    missing_user = False
    if user.isdigit():
        uid = int(user)
        row = next((r for r in passwd or () if len(r) > 3 and r[2] == user), None)
        if row is not None:
            name, primary, home = row[0], _int(row[3]), row[5] if len(row) > 5 else None
        elif passwd is not None or facts.complete:
            primary = 0  # a numeric user without an entry runs with group 0
    else:
        name = user
        row = next((r for r in passwd or () if r and r[0] == user), None)
        if row is not None and len(row) > 3:
            uid, primary, home = _int(row[2]), _int(row[3]), row[5] if len(row) > 5 else None
        elif facts.complete:
            missing_user = True
    gid: int | None = primary
    missing_group: str | None = None
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            row = next((r for r in groups or () if r and r[0] == group), None)
            if row is not None and len(row) > 2:
                gid = _int(row[2])
            else:
                gid = None
                if facts.complete:
                    missing_group = group
    return ImageUser(text, uid, gid, name, home, missing_user, missing_group)


def _home_of(passwd: list[list[str]] | None, uid: int) -> str | None:
    for row in passwd or ():
        if len(row) > 5 and row[2] == str(uid):
            return row[5]
    return None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def environment_path(facts: ImageFacts, overrides: dict[str, str] | None = None) -> str | None:
    """The PATH a container gets: an AppImageConfig's ContainerEnvironmentVariables, else the
    image config's Env; None when neither sets one."""
    if overrides and "PATH" in overrides:
        return overrides["PATH"]
    for item in facts.image_config.get("Env") or ():
        if isinstance(item, str) and item.startswith("PATH="):
            return item[5:]
    return None


def path_dirs(path: str | None) -> list[str]:
    return [d for d in (path or DEFAULT_PATH).split(":") if d]


def under(path: str, directory: str) -> bool:
    """Whether `path` is `directory` or inside it (both absolute)."""
    path, directory = path.rstrip("/") or "/", directory.rstrip("/") or "/"
    return path == directory or path.startswith(directory.rstrip("/") + "/")


# -- kernels -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Kernels:
    found: dict[str, str] = field(default_factory=dict)  # name -> kernel.json path ("" if none)
    argv: dict[str, list[str]] = field(default_factory=dict)
    under_mount: dict[str, str] = field(default_factory=dict)  # name -> path, hidden by a mount
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


_ENV_KERNEL = re.compile(
    r"^(?P<root>.+)/envs/(?P<env>[^/]+)/(?:lib/python3[^/]*/site-packages/ipykernel(?:/|$)"
    r"|share/jupyter/kernels/(?P<kernel>[^/]+)/kernel\.json$)"
)
_ROOT_IPYKERNEL = re.compile(r"^(?P<root>.+)/lib/python3[^/]*/site-packages/ipykernel(?:/|$)")


def kernels(facts: ImageFacts, path: str | None, mount: str | None) -> Kernels:
    """The kernels Studio would find in the image, as it looks for them: the kernel specs of
    the prefix of the `python` on the PATH and of Jupyter's system directories, the image
    user's own (hidden when its home is under `mount`), and conda environments by
    nb_conda_kernels' names."""
    entries = facts.entries
    dirs = path_dirs(path)
    prefixes: list[str] = []
    python = which(entries, "python", dirs) or which(entries, "python3", dirs)
    if python is not None:
        reached, _ = resolve(entries, python.lstrip("/"))
        directory = posixpath.dirname(reached)
        if posixpath.basename(directory) == "bin":
            prefixes.append(posixpath.dirname(directory))
    prefixes += ["usr/local", "usr", "opt/conda"]
    found = Kernels()
    places = [f"{p}/share/jupyter/kernels" if p else "share/jupyter/kernels" for p in prefixes]
    user = image_user(facts)
    home = (user.home or "").strip("/")
    if home:
        places.append(f"{home}/.local/share/jupyter/kernels")
    for place in dict.fromkeys(places):
        for name, spec in _specs_in(facts, place):
            _take(facts, found, name, spec, mount)
    roots = {"opt/conda"}
    if prefixes and _is_dir(entries, f"{prefixes[0]}/conda-meta"):
        roots.add(prefixes[0])
    envs: dict[tuple[str, str], str] = {}
    for entry_path in entries:
        matched = _ENV_KERNEL.match(entry_path)
        if matched and matched["root"] in roots:
            kind = "r" if matched["kernel"] == "ir" else "py"
            envs.setdefault((matched["env"], kind), f"{matched['root']}/envs/{matched['env']}")
        root_match = _ROOT_IPYKERNEL.match(entry_path)
        if root_match and root_match["root"] in roots and "/envs/" not in entry_path:
            envs.setdefault(("", "py"), root_match["root"])
    for (env, kind), where in envs.items():
        name = f"conda-env-{env}-{kind}" if env else "conda-root-py"
        if name in found.found:
            continue
        if mount is not None and under("/" + where, mount):
            found.under_mount.setdefault(name, "/" + where)
        else:
            found.found[name] = ""
    return found


def _specs_in(facts: ImageFacts, place: str) -> list[tuple[str, str]]:
    """(name, kernel.json path) of the kernel directories in a kernels directory (which
    may be reached through symbolic links)."""
    reached, entry = resolve(facts.entries, place)
    if entry is not None and entry.kind != "dir":
        return []
    prefix = reached + "/"
    specs = []
    for candidate in facts.entries:
        if candidate.startswith(prefix) and candidate.endswith("/kernel.json"):
            name = candidate[len(prefix) : -len("/kernel.json")]
            if "/" not in name:
                specs.append((name, candidate))
    return sorted(specs)


def _take(facts: ImageFacts, found: Kernels, name: str, spec: str, mount: str | None) -> None:
    if name in found.found or name in found.under_mount:
        return
    _, entry = resolve(facts.entries, spec)
    if entry is None:
        return
    content = facts.captured.get(spec, b"")
    try:
        parsed = json.loads(content)
    except ValueError:
        found.invalid.append(("/" + spec, "not JSON"))
        return
    argv = parsed.get("argv") if isinstance(parsed, dict) else None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        found.invalid.append(("/" + spec, "no argv list"))
        return
    if mount is not None and under("/" + spec, mount):
        found.under_mount[name] = "/" + spec
        return
    found.found[name] = "/" + spec
    found.argv[name] = argv


def _is_dir(entries: dict[str, Entry], path: str) -> bool:
    return exists_as_dir(entries, path)


# -- programs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Program:
    """Where a command's program is in the image, and what its first bytes say."""

    path: str  # absolute, as looked up (before links)
    entry: Entry | None
    head: bytes


def find_program(facts: ImageFacts, program: str, dirs: list[str], workdir: str) -> Program | None:
    """A command's argv[0] in the image: a path (relative ones from the working directory),
    or a name looked up on the PATH; None when it is not there."""
    entries = facts.entries
    if "/" in program:
        absolute = program if program.startswith("/") else posixpath.join(workdir or "/", program)
        found: str | None = posixpath.normpath(absolute)
    else:
        found = which(entries, program, dirs)
    if found is None:
        return None
    reached, entry = resolve(entries, found.lstrip("/"))
    if entry is None:
        return None
    return Program(found, entry, facts.heads.get(reached, b""))


def elf_machine(head: bytes) -> int | None:
    """An ELF file's e_machine; None when the bytes are no ELF header."""
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    if head[5] == 2:
        return int.from_bytes(head[18:20], "big")
    return int.from_bytes(head[18:20], "little")


def shebang(head: bytes) -> tuple[str, bool] | None:
    """A script's `#!` line (without the `#!`), and whether it ends with a carriage return
    before its newline; None for anything else."""
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0]
    carriage = line.endswith(b"\r")
    return line.rstrip(b"\r").decode("utf-8", "replace").strip(), carriage
