"""AWS Signature Version 4: who signed a request, checked the way AWS checks it.

The signature is recomputed over exactly what the client says it signed (its own
`SignedHeaders`; Terraform's Go SDK signs `amz-sdk-invocation-id`, `amz-sdk-request` and
`content-length`, botocore signs `x-amz-target` and `content-type`), from the bytes that
arrived: the raw path and query, the raw header values, the body. Canonicalisation follows
botocore's `SigV4Auth` / `SigV4QueryAuth`, which the tests use as the reference.

Errors carry AWS's codes and texts. Signatures and session tokens are compared in constant
time; secrets never appear in a message.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, quote, unquote

from sagemaker_images.auth.credentials import AccessKey
from sagemaker_images.auth.policies import Principal
from sagemaker_images.errors import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
)

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "sagemaker"
TERMINATOR = "aws4_request"
MAX_SKEW_SECONDS = 300
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
AMZ_DATE = "%Y%m%dT%H%M%SZ"
REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
PARAM_SEPARATOR = re.compile(r"[,\s]+")
BASIC_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z", re.ASCII)
USUAL_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^,\s=]+), ?SignedHeaders=([^,\s=]+), ?Signature=([^,\s=]+)"
)

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified signer: its key decides the account, its credential scope the region."""

    access_key_id: str
    account: str
    region: str
    principal: Principal | None = None  # None: the account's root user


@dataclass(slots=True)
class _Claim:
    """What a request says about its signature, from the header or the query string."""

    credential: str
    signed_headers: str
    signature: str
    amz_date: str
    expires: int | None  # presigned requests only
    token: str | None
    query: bytes  # the query string that was signed (without X-Amz-Signature)


class Verifier:
    """Checks SigV4 signatures against the keys `lookup` knows."""

    def __init__(
        self,
        lookup: Callable[[str], AccessKey | None],
        *,
        service: str = SERVICE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lookup = lookup
        self._service = service
        self._clock = clock
        # Derived signing keys, per (secret, date, region): four HMACs saved per request.
        self._signing_keys: dict[tuple[str, str, str], bytes] = {}

    def verify(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> Caller:
        """The caller of a correctly signed request; raises the error AWS would answer."""
        by_name: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            by_name.setdefault(name.lower(), []).append(value)
        authorization = by_name.get(b"authorization")
        if authorization:
            claim = _header_claim(authorization[0].decode("latin-1"), by_name, query_string)
        elif b"X-Amz-Credential=" in query_string or b"X-Amz-Signature=" in query_string:
            claim = _query_claim(query_string)
        else:
            raise MissingAuthenticationToken("Missing Authentication Token")

        signed_at = _parse_amz_date(claim.amz_date)
        scope = claim.credential.split("/")
        if len(scope) != 5:
            raise IncompleteSignature(
                "Credential must have exactly 5 slash-delimited elements, "
                f"e.g. keyid/date/region/service/term, got '{claim.credential}'"
            )
        access_key_id, scope_date, region, service, terminator = scope
        key = self._lookup(access_key_id)
        if key is None:
            raise UnrecognizedClient(INVALID_TOKEN)
        self._check_time(claim, signed_at)
        self._check_scope(claim.amz_date, scope_date, region, service, terminator)
        _check_token(key, claim.token)

        signed_names = claim.signed_headers.split(";")
        if "host" not in signed_names:
            raise IncompleteSignature(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        canonical = b"\n".join(
            (
                method.upper().encode(),
                _canonical_uri(raw_path),
                _canonical_query(claim.query),
                _canonical_headers(signed_names, by_name),
                claim.signed_headers.encode(),
                hashlib.sha256(body).hexdigest().encode(),
            )
        )
        string_to_sign = "\n".join(
            (
                ALGORITHM,
                claim.amz_date,
                f"{scope_date}/{region}/{service}/{terminator}",
                hashlib.sha256(canonical).hexdigest(),
            )
        )
        expected = hmac.new(
            self._signing_key(key.secret_access_key, scope_date, region),
            string_to_sign.encode(),
            hashlib.sha256,
        ).hexdigest()
        if not hmac.compare_digest(expected.encode(), claim.signature.encode("utf-8", "replace")):
            raise InvalidSignature(SIGNATURE_MISMATCH)
        return Caller(access_key_id, key.account_id, region, key.principal)

    def _check_time(self, claim: _Claim, signed_at: float) -> None:
        now = self._clock()
        if claim.expires is not None:
            if now - signed_at > claim.expires:
                raise InvalidSignature(
                    f"Signature expired: {claim.amz_date} is now earlier than "
                    f"{_amz(now - claim.expires)} ({_amz(now)} - {claim.expires} sec.)"
                )
        elif signed_at < now - MAX_SKEW_SECONDS:
            raise InvalidSignature(
                f"Signature expired: {claim.amz_date} is now earlier than "
                f"{_amz(now - MAX_SKEW_SECONDS)} ({_amz(now)} - 5 min.)"
            )
        if signed_at > now + MAX_SKEW_SECONDS:
            raise InvalidSignature(
                f"Signature not yet current: {claim.amz_date} is still later than "
                f"{_amz(now + MAX_SKEW_SECONDS)} ({_amz(now)} + 5 min.)"
            )

    def _check_scope(
        self, amz_date: str, scope_date: str, region: str, service: str, terminator: str
    ) -> None:
        if scope_date != amz_date[:8]:
            raise InvalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        if not REGION.fullmatch(region):
            raise InvalidSignature("Credential should be scoped to a valid region. ")
        if service != self._service:
            raise InvalidSignature(
                f"Credential should be scoped to correct service: '{self._service}'. "
            )
        if terminator != TERMINATOR:
            raise InvalidSignature(
                "Credential should be scoped with a valid terminator: "
                f"'{TERMINATOR}', not '{terminator}'. "
            )

    def _signing_key(self, secret: str, date: str, region: str) -> bytes:
        cache_key = (secret, date, region)
        key = self._signing_keys.get(cache_key)
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (date, region, self._service, TERMINATOR):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            if len(self._signing_keys) >= 4096:
                self._signing_keys.clear()
            self._signing_keys[cache_key] = key
        return key


def _header_claim(
    authorization: str, headers: dict[bytes, list[bytes]], query_string: bytes
) -> _Claim:
    """Parse `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`."""
    amz_date = _first(headers, b"x-amz-date")
    usual = USUAL_AUTHORIZATION.fullmatch(authorization)
    if usual is not None and amz_date is not None:  # what every SDK sends: one regex match
        credential, signed_headers, signature = usual.groups()
        return _Claim(
            credential,
            signed_headers,
            signature,
            amz_date,
            None,
            _first(headers, b"x-amz-security-token"),
            query_string,
        )
    rest = authorization.strip()
    if rest.startswith(ALGORITHM + " "):
        rest = rest[len(ALGORITHM) + 1 :]
    params: dict[str, str] = {}
    # AWS splits on commas and whitespace alike: a stray space inside a value is reported.
    for part in PARAM_SEPARATOR.split(rest):
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals:
            raise IncompleteSignature(
                f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization "
                f"header: '{authorization}'."
            )
        params[name] = value
    if amz_date is None:
        date = _first(headers, b"date")
        amz_date = _date_header(date) if date is not None else None
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if amz_date is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        raise IncompleteSignature(" ".join([*problems, f"Authorization={authorization}"]))
    return _Claim(
        credential=params["Credential"],
        signed_headers=params["SignedHeaders"],
        signature=params["Signature"],
        amz_date=amz_date or "",
        expires=None,
        token=_first(headers, b"x-amz-security-token"),
        query=query_string,
    )


def _query_claim(query_string: bytes) -> _Claim:
    """Parse a presigned request's `X-Amz-*` query parameters."""
    values = {
        name: found[0]
        for name, found in parse_qs(query_string.decode("latin-1"), keep_blank_values=True).items()
    }
    if any(not values.get(name) for name in QUERY_PARAMS):
        raise IncompleteSignature(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
            "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. "
            "Re-examine the query-string parameters."
        )
    if values["X-Amz-Algorithm"] != ALGORITHM:
        raise IncompleteSignature(
            f"Unsupported AWS 'algorithm': '{values['X-Amz-Algorithm']}'. Supported: '{ALGORITHM}'."
        )
    expires = values["X-Amz-Expires"]
    if not (expires.isascii() and expires.isdigit()) or int(expires) > MAX_PRESIGN_SECONDS:
        raise IncompleteSignature(
            f"X-Amz-Expires must be a number of seconds no greater than {MAX_PRESIGN_SECONDS}."
        )
    signed_query = b"&".join(
        pair for pair in query_string.split(b"&") if not pair.startswith(b"X-Amz-Signature=")
    )
    return _Claim(
        credential=values["X-Amz-Credential"],
        signed_headers=values["X-Amz-SignedHeaders"],
        signature=values["X-Amz-Signature"],
        amz_date=values["X-Amz-Date"],
        expires=int(expires),
        token=values.get("X-Amz-Security-Token"),
        query=signed_query,
    )


def _check_token(key: AccessKey, token: str | None) -> None:
    """A key listed with a session token needs it; one listed without refuses any token."""
    if key.session_token is None:
        if token:
            raise UnrecognizedClient(INVALID_TOKEN)
        return
    if token is None or not hmac.compare_digest(
        key.session_token.encode(), token.encode("utf-8", "replace")
    ):
        raise UnrecognizedClient(INVALID_TOKEN)


def _canonical_uri(raw_path: bytes) -> bytes:
    """botocore's: remove dot segments and empty segments, then percent-encode once more."""
    if raw_path == b"/":  # every AWS JSON call
        return raw_path
    path = raw_path.decode("latin-1") or "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith("/") and segments:
        normalized += "/"
    return quote(normalized, safe="/~").encode()


def _canonical_query(query: bytes) -> bytes:
    """Each name and value URI-encoded (RFC 3986 unreserved kept), sorted by name then value."""
    if not query:
        return b""
    pairs = []
    for pair in query.decode("latin-1").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        pairs.append((_encode(name), _encode(value)))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs).encode()


def _encode(component: str) -> str:
    return quote(unquote(component), safe="-_.~")


def _canonical_headers(names: list[str], headers: dict[bytes, list[bytes]]) -> bytes:
    """`name:value` lines: values trimmed, inner whitespace runs collapsed, repeats joined."""
    lines = []
    for name in names:
        # A name no header can have (beyond latin-1) is signed as absent: a mismatch, not a crash.
        raw = name.encode("latin-1", errors="replace")
        values = headers.get(raw, ())
        lines.append(raw + b":" + b",".join(b" ".join(v.split()) for v in values))
    return b"\n".join(lines) + b"\n"


def _first(headers: dict[bytes, list[bytes]], name: bytes) -> str | None:
    found = headers.get(name)
    return found[0].decode("latin-1").strip() if found else None


def _date_header(value: str) -> str | None:
    """An RFC 1123 `Date` header in ISO-8601 basic format, as the string to sign wants it."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value  # reported by _parse_amz_date as a malformed date
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(AMZ_DATE)


def _parse_amz_date(value: str) -> float:
    """Seconds since the epoch of `YYYYMMDDTHHMMSSZ`; the last answer is kept, as requests
    arriving within the same second carry the same date."""
    global _last_date
    if _last_date[0] == value:
        return _last_date[1]
    epoch = _parse_basic_date(value)
    _last_date = (value, epoch)
    return epoch


_last_date: tuple[str, float] = ("", 0.0)


def _parse_basic_date(value: str) -> float:
    """By hand: strptime costs ~10 µs."""
    try:
        if not BASIC_DATE.fullmatch(value):
            raise ValueError(value)
        fields = (value[0:4], value[4:6], value[6:8], value[9:11], value[11:13], value[13:15])
        year, month, day, hour, minute, second = map(int, fields)
        datetime(year, month, day, hour, minute, second)  # rejects 20261340T...
    except ValueError:
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def _amz(epoch: float) -> str:
    return time.strftime(AMZ_DATE, time.gmtime(epoch))


def credential_scope(
    authorization: str | None, query_string: bytes = b""
) -> tuple[str | None, str | None]:
    """(access key id, region) of `Credential=AKID/date/region/service/aws4_request`, as far
    as the request has them, signature or not.

    Used when signatures are not verified (`--auth off`), where the scope alone names the
    region, and to name the key of a refused request in the log.
    """
    credential = None
    if authorization:
        start = authorization.find("Credential=")
        if start >= 0:
            credential = authorization[start + len("Credential=") :].split(",", 1)[0].strip()
    elif query_string and b"X-Amz-Credential" in query_string:
        values = parse_qs(query_string.decode("latin-1")).get("X-Amz-Credential")
        credential = values[0] if values else None
    if not credential:
        return None, None
    parts = credential.split("/")
    if len(parts) != 5:
        return parts[0] or None, None
    return parts[0] or None, parts[2] or None
