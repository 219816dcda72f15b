"""An OCI Distribution client that turns a reference into the digest of its manifest.

`HEAD /v2/<repository>/manifests/<tag|digest>` with an Accept header for every manifest
type a runtime can pull (OCI index and manifest, Docker manifest list and v2 manifest);
the answer's `Docker-Content-Digest` is the digest. Auth follows the distribution spec: a
401 carries a `WWW-Authenticate` challenge, either `Basic` (send the configured
credentials) or `Bearer realm=...,service=...,scope=...` (fetch a token from the realm,
with the credentials if there are any, anonymously if not, and send it).

Errors come in two kinds: `RegistryRefused` (the registry answered, and the answer will not
change by asking again: manifest unknown, unauthorized, a malformed answer) and
`RegistryUnavailable` (refused connections, timeouts, 5xx, 429: worth another try).
Credentials and tokens are never put into a message.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from sagemaker_images.registry.config import Registries, RegistryConfig
from sagemaker_images.registry.reference import Reference

log = logging.getLogger(__name__)
T = TypeVar("T")

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
_AUTH_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')
# One try of one reference, every request of it included, stays well inside a job lease.
DEFAULT_TIMEOUT_SECONDS = 10.0
TOKEN_LIFETIME_SECONDS = 60


class RegistryError(Exception):
    """Why a reference could not be resolved, in words fit for a FailureReason."""


class RegistryRefused(RegistryError):
    """The registry gave a definite answer: asking again will not help. `outcome` sorts it
    for the metrics: not_found, unauthorized, or refused (any other answer)."""

    def __init__(self, message: str, outcome: str = "refused") -> None:
        super().__init__(message)
        self.outcome = outcome


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or was overloaded: worth another try."""


@dataclass(frozen=True, slots=True)
class _Challenge:
    scheme: str  # "basic" or "bearer"
    params: dict[str, str]


class RegistryClient:
    """Resolves references against the registries of a registries file; one per process."""

    def __init__(
        self, registries: Registries, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._registries = registries
        self._timeout = timeout_seconds
        self._clients: dict[str, httpx.AsyncClient] = {}
        # host -> Authorization header that worked (Basic), or (repository -> bearer, expiry).
        self._basic: dict[str, str] = {}
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._secrets = registries.secrets()

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)

    async def digest(self, ref: Reference) -> str:
        """The digest the reference's tag points at now (or its own digest, verified)."""
        return await self._bounded(self._digest(ref))

    async def _bounded(self, call: Awaitable[T]) -> T:
        """A call of one reference within its time, its errors' secrets scrubbed."""
        try:
            return await asyncio.wait_for(call, self._timeout * 2)
        except TimeoutError:
            raise RegistryUnavailable("timed out") from None
        except RegistryRefused as error:
            raise RegistryRefused(self._scrub(str(error)), error.outcome) from None
        except RegistryError as error:
            raise type(error)(self._scrub(str(error))) from None

    async def _digest(self, ref: Reference) -> str:
        config = self._registries.for_host(ref.host)
        client = self._client(ref.host, config)
        url = f"{config.endpoint}/v2/{ref.repository}/manifests/{ref.manifest_ref}"
        response = await self._authorized(client, "HEAD", url, ref, config)
        if response.status_code == 200:
            found = response.headers.get("docker-content-digest")
            if found is None:
                # Some registries leave the header off: the digest of the manifest bytes is it.
                body = await self._authorized(client, "GET", url, ref, config)
                if body.status_code != 200:
                    raise await self._failure(client, body, ref, config)
                found = "sha256:" + hashlib.sha256(body.content).hexdigest()
            if not _DIGEST.fullmatch(found):
                raise RegistryRefused(f"the registry answered an invalid digest {found[:80]!r}")
            if ref.digest is not None and found != ref.digest:
                raise RegistryRefused(f"the registry answered digest {found} for {ref.digest}")
            return str(found)
        raise await self._failure(client, response, ref, config)

    async def open(self, ref: Reference, path: str, accept: str) -> httpx.Response:
        """A streamed GET of `/v2/<repository>/<path>` (a manifest or a blob), answering an
        auth challenge as `digest` does; redirects to storage are followed without the
        registry's Authorization. A 200 is returned open (the caller reads and closes it);
        anything else raises as `digest` does: RegistryRefused (with `outcome`) or
        RegistryUnavailable."""
        return await self._bounded(self._open(ref, path, accept))

    async def _open(self, ref: Reference, path: str, accept: str) -> httpx.Response:
        config = self._registries.for_host(ref.host)
        client = self._client(ref.host, config)
        url = f"{config.endpoint}/v2/{ref.repository}/{path}"
        response = await self._authorized(client, "GET", url, ref, config, accept, stream=True)
        if response.status_code == 200:
            return response
        await response.aread()
        await response.aclose()
        raise await self._failure(client, response, ref, config)

    # -- requests and auth ------------------------------------------------------------------

    def _client(self, host: str, config: RegistryConfig) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            verify: ssl.SSLContext | bool = True
            if config.endpoint.startswith("https://"):
                verify = ssl.create_default_context()
                if config.ca_bundle:
                    verify.load_verify_locations(cafile=config.ca_bundle)
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                verify=verify,
                follow_redirects=True,
                trust_env=False,
                headers={"User-Agent": "sagemaker-images"},
            )
            self._clients[host] = client
        return client

    async def _authorized(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        ref: Reference,
        config: RegistryConfig,
        accept: str = MANIFEST_TYPES,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send the request, answering one auth challenge if the registry makes one."""
        headers = {"Accept": accept}
        known = self._known_auth(ref)
        if known:
            headers["Authorization"] = known
        response = await self._send(client, method, url, headers, stream=stream)
        if response.status_code != 401:
            return response
        if stream:
            await response.aread()
            await response.aclose()
        challenge = _challenge(response.headers.get("www-authenticate", ""))
        if challenge is None:
            return response
        if challenge.scheme == "basic":
            if config.username is None or config.password is None:
                return response
            authorization = _basic(config.username, config.password)
            self._basic[ref.host] = authorization
        else:
            authorization = await self._token(client, challenge, ref, config)
        headers["Authorization"] = authorization
        return await self._send(client, method, url, headers, stream=stream)

    def _known_auth(self, ref: Reference) -> str | None:
        basic = self._basic.get(ref.host)
        if basic:
            return basic
        cached = self._tokens.get((ref.host, ref.repository))
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return None

    async def _token(
        self,
        client: httpx.AsyncClient,
        challenge: _Challenge,
        ref: Reference,
        config: RegistryConfig,
    ) -> str:
        realm = challenge.params.get("realm")
        if not realm or not realm.startswith(("http://", "https://")):
            raise RegistryRefused("the registry's Bearer challenge names no usable token realm")
        params = {"scope": challenge.params.get("scope", f"repository:{ref.repository}:pull")}
        if "service" in challenge.params:
            params["service"] = challenge.params["service"]
        auth = None
        if config.username is not None and config.password is not None:
            auth = httpx.BasicAuth(config.username, config.password)
        try:
            response = await client.get(realm, params=params, auth=auth)
        except httpx.TransportError as error:
            raise RegistryUnavailable(f"token service unreachable: {_transport(error)}") from None
        if response.status_code in {401, 403}:
            raise RegistryRefused(
                f"unauthorized: the token service answered {response.status_code}"
                + (" to the configured credentials" if auth else " to an anonymous request"),
                "unauthorized",
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise RegistryUnavailable(f"token service answered HTTP {response.status_code}")
        try:
            body = response.json()
            token = body.get("token") or body.get("access_token")
            lifetime = float(body.get("expires_in") or TOKEN_LIFETIME_SECONDS)
        except (ValueError, AttributeError, TypeError):
            token = None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise RegistryRefused(
                f"the token service answered HTTP {response.status_code} without a token"
            )
        authorization = f"Bearer {token}"
        # Renew a little early so a token never expires between two requests.
        expiry = time.monotonic() + max(0.0, lifetime - 5)
        self._tokens[(ref.host, ref.repository)] = (authorization, expiry)
        return authorization

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        stream: bool = False,
    ) -> httpx.Response:
        try:
            request = client.build_request(method, url, headers=headers)
            return await client.send(request, stream=stream)
        except httpx.TransportError as error:
            if _untrusted_certificate(error):
                raise RegistryRefused(
                    f"TLS certificate of {httpx.URL(url).host} not trusted"
                    " (set ca_bundle for a private CA)"
                ) from None
            raise RegistryUnavailable(_transport(error)) from None

    # -- errors ---------------------------------------------------------------------------

    async def _failure(
        self,
        client: httpx.AsyncClient,
        response: httpx.Response,
        ref: Reference,
        config: RegistryConfig,
    ) -> RegistryError:
        status = response.status_code
        if status == 429 or status >= 500:
            return RegistryUnavailable(f"the registry answered HTTP {status}")
        said = _errors_said(response)
        if not said and response.request.method == "HEAD":
            # A HEAD answer has no body: ask again with GET to learn what the registry says.
            again = await self._authorized(client, "GET", str(response.request.url), ref, config)
            if again.status_code == 429 or again.status_code >= 500:
                return RegistryUnavailable(f"the registry answered HTTP {again.status_code}")
            said = _errors_said(again)
        if status == 404 and ref.digest is None and (not said or "MANIFEST_UNKNOWN" in said):
            # distribution answers MANIFEST_UNKNOWN for a missing repository as well: tell them
            # apart by listing the repository's tags.
            tags_url = f"{config.endpoint}/v2/{ref.repository}/tags/list"
            tags = await self._authorized(client, "GET", tags_url, ref, config)
            if tags.status_code == 404:
                said = _errors_said(tags) or said
        if status == 401:
            prefix = "unauthorized" if config.username else "unauthorized (no credentials set)"
        elif status == 403:
            prefix = "access denied"
        elif status == 404:
            prefix = "not found"
        else:
            prefix = f"HTTP {status}"
        outcome = {401: "unauthorized", 403: "unauthorized", 404: "not_found"}.get(
            status, "refused"
        )
        return RegistryRefused(f"{prefix}: the registry answered {status} {said}".rstrip(), outcome)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _challenge(header: str) -> _Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in {"basic", "bearer"}:
        return None
    params = {m[0].lower(): (m[1] if m[1] or not m[2] else m[2]) for m in _AUTH_PARAM.findall(rest)}
    return _Challenge(scheme, params)


def _errors_said(response: httpx.Response) -> str:
    """`CODE (message)` for each error in a distribution error body, else ''."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    said = []
    for error in errors[:3]:
        if isinstance(error, dict):
            code = str(error.get("code", ""))[:64]
            message = str(error.get("message", ""))[:200]
            said.append(f"{code} ({message})" if message else code)
    return "; ".join(said)


def _transport(error: httpx.TransportError) -> str:
    """A short account of a failed connection, from the OS error beneath httpx's."""
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    for cause in _causes(error):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not resolved"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
    text = str(error) or type(error).__name__
    return "connection refused" if "refused" in text.lower() else text[:200]


def _untrusted_certificate(error: BaseException) -> bool:
    return any(isinstance(c, ssl.SSLCertVerificationError) for c in _causes(error))


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain
