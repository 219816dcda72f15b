"""Who is calling and where: the only request facts the catalog sees."""

from __future__ import annotations

from typing import NamedTuple


class RequestContext(NamedTuple):
    """Immutable, and a tuple: made once per request, it costs a third of a frozen dataclass."""

    account: str
    region: str
    request_id: str
