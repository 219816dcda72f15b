"""Wire JSON in and out.

Handlers answer with plain dicts shaped like the model's output: member names as the model
spells them, absent members left out, timestamps already as epoch seconds (a float with
millisecond precision, which is how AWS JSON 1.1 sends them). So serializing is one call.
"""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(body: bytes) -> Any:
    return orjson.loads(body)
