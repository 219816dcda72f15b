"""A real CNCF distribution registry (Debian's `docker-registry`) for tests, and image pushes
over its HTTP API: a config blob, a layer blob and an OCI manifest, a few hundred bytes.

`TokenServer` is the other half of the distribution token-auth flow: it checks Basic
credentials and issues ES256 JWTs (certificate in `x5c`) that the registry verifies against
the certificate bundle in its config, as Docker Hub's or Harbor's token services do.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import ipaddress
import json
import secrets
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from support import free_port

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class RegistryProcess:
    """`docker-registry serve` on 127.0.0.1 with filesystem storage under `workdir`."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        users: dict[str, str] | None = None,
        token_server: TokenServer | None = None,
        tls: PrivateCA | None = None,
    ) -> None:
        if not Path(REGISTRY_BINARY).exists():
            raise RuntimeError(
                f"{REGISTRY_BINARY} is missing: install Debian's docker-registry package"
                " (`make test` does)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port = port or free_port()
        self.users = dict(users or {})
        self.token_server = token_server
        self.tls = tls
        listen = f"http:\n  addr: 127.0.0.1:{self.port}\n  secret: test-secret\n"
        if tls is not None:
            listen += f"  tls:\n    certificate: {tls.certificate}\n    key: {tls.key}\n"
        self.process: subprocess.Popen[bytes] | None = None
        auth = ""
        if self.users:
            htpasswd = workdir / "htpasswd"
            htpasswd.write_text(
                "".join(
                    f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode()}\n"
                    for user, password in self.users.items()
                )
            )
            auth = f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n"
        elif token_server is not None:
            auth = (
                f"auth:\n  token:\n    realm: {token_server.url}/token\n"
                f"    service: {token_server.service}\n    issuer: {token_server.issuer}\n"
                f"    rootcertbundle: {token_server.certificate_file}\n"
            )
        self.config = workdir / "config.yml"
        self.config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
            "  delete:\n    enabled: true\n" + listen + auth
        )
        self.log_path = workdir / "registry.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> RegistryProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"registry exited early:\n{self.log()}")
            try:
                status, _, _ = self._request("GET", "/v2/", authorized=False)
                if status in {200, 401}:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"registry did not come up:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def push(self, repository: str, tag: str, content: str = "") -> str:
        """Push a tiny image under `repository:tag`; returns its manifest digest.

        Different `content` gives a different layer, hence a different digest.
        """
        config = json.dumps({"architecture": "amd64", "os": "linux", "note": content}).encode()
        layer = f"layer of {repository}:{tag} {content}".encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": self._blob(repository, config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": self._blob(repository, layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        status, headers, body = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            manifest,
            {"Content-Type": OCI_MANIFEST},
        )
        assert status == 201, (status, body)
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        assert headers["docker-content-digest"] == digest
        return digest

    def _blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, headers, body = self._request("POST", f"/v2/{repository}/blobs/uploads/")
        assert status == 202, (status, body)
        location = headers["location"]
        separator = "&" if "?" in location else "?"
        status, _, body = self._request(
            "PUT",
            f"{location}{separator}digest={digest}",
            data,
            {"Content-Type": "application/octet-stream"},
        )
        assert status == 201, (status, body)
        return digest

    def _request(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        authorized: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        url = path if path.startswith("http") else self.url + path
        sent = dict(headers or {})
        if authorized and self.token_server is not None:
            repository = urllib.parse.urlsplit(url).path.split("/v2/", 1)[-1]
            repository = repository.rsplit("/manifests/", 1)[0].rsplit("/blobs/", 1)[0]
            sent["Authorization"] = "Bearer " + self.token_server.issue(
                "pusher", repository, ["pull", "push"]
            )
        elif authorized and self.users:
            user, password = next(iter(self.users.items()))
            sent["Authorization"] = "Basic " + base64.b64encode(
                f"{user}:{password}".encode()
            ).decode("ascii")
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        context = None
        if self.tls is not None:
            context = ssl.create_default_context(cafile=str(self.tls.ca))
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read()


def _lower(headers: object) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}  # type: ignore[attr-defined]


class TokenServer:
    """A token service for the registry's `auth: token` mode, on a thread of the test process.

    `GET /token?service=...&scope=repository:<name>:pull` with Basic credentials of a known
    user answers `{"token": ..., "expires_in": ...}`; anything else answers 401.
    """

    service = "test-registry"
    issuer = "test-token-issuer"

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.users = users
        self.requests: list[str] = []
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test token signer")])
        now = datetime.datetime.now(datetime.UTC)
        self._certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.certificate_file = workdir / "token-signer.pem"
        self.certificate_file.write_bytes(
            self._certificate.public_bytes(serialization.Encoding.PEM)
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def issue(self, subject: str, repository: str, actions: list[str]) -> str:
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [
                base64.b64encode(
                    self._certificate.public_bytes(serialization.Encoding.DER)
                ).decode()
            ],
        }
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": [{"type": "repository", "name": repository, "actions": actions}],
        }
        signing_input = f"{_b64url(json.dumps(header))}.{_b64url(json.dumps(claims))}"
        r, s = decode_dss_signature(
            self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                server.requests.append(self.path)
                user = _basic_user(self.headers.get("Authorization", ""), server.users)
                scope = query.get("scope", [""])[0].split(":")
                if (
                    user is None
                    or query.get("service") != [server.service]
                    or len(scope) != 3
                    or scope[0] != "repository"
                ):
                    self._answer(401, {"details": "unauthorized"})
                    return
                token = server.issue(user, scope[1], ["pull"])
                self._answer(200, {"token": token, "expires_in": 300})

            def _answer(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _basic_user(header: str, users: dict[str, str]) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user if users.get(user) == password else None


def _b64url(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PrivateCA:
    """A private CA and a server certificate it signed for 127.0.0.1, as PEM files."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sagemaker-images test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        server = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca = workdir / "ca.pem"
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.certificate = workdir / "server.pem"
        self.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        self.key = workdir / "server.key"
        self.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


class FlakyFront:
    """A reverse proxy before a real registry that first answers some requests with errors
    of its own (503, 429, ...), as an overloaded registry or its load balancer does, then
    passes everything through."""

    def __init__(self, target: str, failures: list[int]) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.failures = list(failures)
        self.answered: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FlakyFront:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_failure(self) -> int | None:
        with self._lock:
            return self.failures.pop(0) if self.failures else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                failure = front._next_failure()
                if failure is not None:
                    front.answered.append(failure)
                    self.send_response(failure)
                    self.send_header("Content-Length", "0")
                    if failure == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                connection = http.client.HTTPConnection(
                    front.target.hostname, front.target.port, timeout=10
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                front.answered.append(response.status)
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in {"connection", "transfer-encoding"}:
                        self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                connection.close()

            do_GET = do_HEAD = _forward

            def log_message(self, *args: object) -> None:
                pass

        return Handler
