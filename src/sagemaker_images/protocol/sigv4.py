"""AWS Signature Version 4: what the credential scope of a request says.

Only the scope is read for now (for the region); verifying signatures comes later.
"""

from __future__ import annotations

from urllib.parse import parse_qs


def scope_region(authorization: str | None, query_string: bytes = b"") -> str | None:
    """The region of `Credential=AKID/date/region/service/aws4_request`, if the request has one."""
    credential = None
    if authorization:
        start = authorization.find("Credential=")
        if start >= 0:
            credential = authorization[start + len("Credential=") :].split(",", 1)[0].strip()
    elif query_string and b"X-Amz-Credential" in query_string:
        values = parse_qs(query_string.decode("latin-1")).get("X-Amz-Credential")
        credential = values[0] if values else None
    if not credential:
        return None
    parts = credential.split("/")
    return parts[2] if len(parts) == 5 and parts[2] else None
