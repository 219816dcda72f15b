"""Signed requests for the authentication tests, signed by botocore (the reference signer).

botocore's `SigV4Auth` / `SigV4QueryAuth` sign; http.client sends exactly the signed headers
(plus any extra ones a test adds), so a test can change a byte after signing and see the
server refuse it.
"""

from __future__ import annotations

import datetime
import http.client
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from botocore import UNSIGNED
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
ACCOUNT_T = "333333333333"


@dataclass(frozen=True)
class Key:
    access_key_id: str
    secret_access_key: str
    account_id: str
    session_token: str | None = None

    def toml(self) -> str:
        lines = [
            "[[keys]]",
            f'access_key_id = "{self.access_key_id}"',
            f'secret_access_key = "{self.secret_access_key}"',
            f'account_id = "{self.account_id}"',
        ]
        if self.session_token is not None:
            lines.append(f'session_token = "{self.session_token}"')
        return "\n".join(lines) + "\n"

    def credentials(self, token: str | None = None) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, token)


KEY_A = Key("AKIDACCOUNTA00000001", "secret-of-a-1/+xyz", ACCOUNT_A)
KEY_A2 = Key("AKIDACCOUNTA00000002", "secret-of-a-2", ACCOUNT_A)
KEY_B = Key("AKIDACCOUNTB00000001", "secret-of-b-1", ACCOUNT_B)
KEY_T = Key("ASIDACCOUNTT00000001", "secret-of-t-1", ACCOUNT_T, session_token="token-of-t+/=")
ALL_KEYS = (KEY_A, KEY_A2, KEY_B, KEY_T)


def write_credentials(path: Path, keys: Sequence[Key]) -> Path:
    path.write_text("".join(key.toml() for key in keys))
    return path


def client_for(
    server: Any, key: Key, region: str, *, secret: str | None = None, token: str | None = None
) -> Any:
    """A client of `server` (a process or an in-process app) that signs with `key`."""
    return server.client(
        region,
        access_key_id=key.access_key_id,
        secret_access_key=secret or key.secret_access_key,
        session_token=token,
    )


def unsigned_client(server: Any, region: str) -> Any:
    return server.client(region, signature_version=UNSIGNED)


@contextmanager
def signing_clock(offset_seconds: float) -> Iterator[None]:
    """botocore signs as if its clock were off by `offset_seconds` (negative: the past)."""
    moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(
        seconds=offset_seconds
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        yield


def signed(
    endpoint: str,
    key: Key,
    region: str,
    target: str | None,
    body: bytes | dict[str, Any] = b"{}",
    *,
    headers: Sequence[tuple[str, str]] = (),
    query: str = "",
    service: str = "sagemaker",
    token: str | None = None,
) -> AWSRequest:
    """A POST signed with the Authorization header, every header in `headers` signed."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    host = endpoint.removeprefix("http://")
    request = AWSRequest(method="POST", url=f"{endpoint}/{'?' + query if query else ''}", data=body)
    request.headers["Host"] = host
    request.headers["Content-Type"] = "application/x-amz-json-1.1"
    if target is not None:
        request.headers["X-Amz-Target"] = target
    for name, value in headers:
        request.headers.add_header(name, value)
    SigV4Auth(key.credentials(token), service, region).add_auth(request)
    return request


def presigned(
    endpoint: str, key: Key, region: str, target: str, *, expires: int = 300
) -> AWSRequest:
    """A POST with an empty body whose signature travels in the query string."""
    host = endpoint.removeprefix("http://")
    request = AWSRequest(method="POST", url=f"{endpoint}/", data=b"")
    request.headers["Host"] = host
    request.headers["X-Amz-Target"] = target
    SigV4QueryAuth(key.credentials(), "sagemaker", region, expires=expires).add_auth(request)
    return request


def send(
    request: AWSRequest,
    *,
    body: bytes | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
    url: str | None = None,
) -> tuple[int, Any]:
    """Send a signed request as it is (or with `body` / headers swapped in after signing)."""
    target_url = url or request.url
    rest = target_url.removeprefix("http://")
    hostport, _, path = rest.partition("/")
    host, port = hostport.split(":")
    payload = request.body if body is None else body
    if isinstance(payload, str):
        payload = payload.encode()
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(request.method, "/" + path, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        for name, value in extra_headers:
            connection.putheader(name, value)
        if not any(name.lower() == "content-length" for name, _ in request.headers.items()):
            connection.putheader("Content-Length", str(len(payload or b"")))
        connection.endheaders(payload or b"")
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return response.status, json.loads(data) if data else None
