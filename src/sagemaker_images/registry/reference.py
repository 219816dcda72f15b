"""Container image references: `host[:port]/repository[:tag][@digest]`.

The grammar is the one Docker and the CNCF distribution registry use
(distribution/reference): a first path component that contains a dot or a colon, or is
`localhost`, names the registry host; otherwise the image lives on Docker Hub
(`docker.io`, with `library/` in front of a one-component name). A reference without a tag
or digest means the tag `latest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"
MAX_NAME_LENGTH = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\]"
)
_PORT = re.compile(r"[0-9]{1,5}")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")


class MalformedReference(ValueError):
    """The text is not a container image reference; the message says why."""


@dataclass(frozen=True, slots=True)
class Reference:
    host: str  # as written, with its port: the key of the registries file
    repository: str
    tag: str | None
    digest: str | None

    @property
    def manifest_ref(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def pinned(self, digest: str) -> str:
        return f"{self.host}/{self.repository}@{digest}"

    def __str__(self) -> str:
        text = f"{self.host}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> Reference:
    """Split a reference into host, repository, tag and digest, or say what is wrong."""
    if not text or text != text.strip():
        raise MalformedReference("the reference is empty or has surrounding whitespace")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.fullmatch(digest):
            raise MalformedReference(
                f"digest {digest!r} is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
            )
    host, path = DOCKER_HUB, rest
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, remainder
        _check_host(host)
    tag = None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise MalformedReference(
                f"tag {tag!r} must be 1 to 128 letters, digits, '_', '.' or '-',"
                " not starting with '.' or '-'"
            )
    if not path:
        raise MalformedReference("the repository name is missing")
    for component in path.split("/"):
        if not component:
            raise MalformedReference(f"repository path {path!r} has an empty component")
        if not _COMPONENT.fullmatch(component):
            why = (
                "must be lowercase"
                if component.lower() != component
                else "may hold only lowercase letters, digits and single separators (. _ __ -)"
            )
            raise MalformedReference(f"repository path component {component!r} {why}")
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if len(host) + 1 + len(path) > MAX_NAME_LENGTH:
        raise MalformedReference(f"the name is longer than {MAX_NAME_LENGTH} characters")
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(host=host, repository=path, tag=tag, digest=digest)


def _check_host(host: str) -> None:
    name, colon, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not colon:
        name, port = host, ""
    if colon and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        raise MalformedReference(f"registry port {port!r} is not a number from 1 to 65535")
    if not _HOST.fullmatch(name):
        raise MalformedReference(f"registry host {name!r} is not a valid host name")
