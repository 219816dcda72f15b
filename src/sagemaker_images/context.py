"""Who is calling and where: the only request facts the catalog sees."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    account: str
    region: str
    request_id: str
