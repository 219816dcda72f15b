"""Faults a test asks for: calls that answer an error, or answer late, instead of as usual.

A rule names an operation (or `*`), what to answer (an error AWS sends: throttling, a 5xx,
or one of SageMaker's modelled errors with its text), how often (a probability, a number
of calls, or both), an added latency, and optionally the one account it applies to. The
first rule that fires decides a call; a faulted call runs no handler, so it changes
nothing, and its answer is exactly AWS's, so the SDKs' own retries run.

Rules live in the server process that was given them (they are test configuration, not
catalog state); `reset` clears them.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass
from typing import Any

from sagemaker_images.protocol import model

# The framework's errors a fault may answer, with their status and AWS's usual text.
FRAMEWORK_ERRORS: dict[str, tuple[int, str]] = {
    "ThrottlingException": (400, "Rate exceeded"),
    "ServiceUnavailable": (503, "Service Unavailable"),
    "InternalFailure": (500, "We encountered an internal error. Please try again."),
}
# Texts of modelled errors as AWS writes them in the cases tests most want.
DEFAULT_MESSAGES = {"ResourceInUse": "Resource was modified concurrently"}
_KEYS = {"operation", "error", "message", "probability", "count", "latency_ms", "account"}
_ACCOUNT = re.compile(r"[0-9]{12}")
MAX_LATENCY_MS = 60_000


class BadFault(ValueError):
    """A rule that cannot be used; the message says why."""


@dataclass
class Fault:
    id: int
    operation: str
    error: str | None
    message: str | None
    status: int | None  # the error's HTTP status (None: no error, only latency)
    probability: float
    count: int | None  # calls it still applies to (None: no limit)
    latency_ms: int
    account: str | None

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found.pop("status")
        return found


class Faults:
    def __init__(self, rng: random.Random | None = None) -> None:
        self.rules: list[Fault] = []
        self._rng = rng or random.Random()
        self._next_id = 1

    def add(self, spec: Any) -> Fault:
        fault = _parse(spec, self._next_id)
        self._next_id += 1
        self.rules.append(fault)
        return fault

    def clear(self) -> int:
        cleared = len(self.rules)
        self.rules.clear()
        return cleared

    def firing(self, operation: str, account: str) -> Fault | None:
        """The rule that decides this call, if one fires (counting it down)."""
        for fault in self.rules:
            if fault.operation not in ("*", operation):
                continue
            if fault.account is not None and fault.account != account:
                continue
            if fault.probability < 1 and self._rng.random() >= fault.probability:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    self.rules.remove(fault)
            return fault
        return None


def _parse(spec: Any, fault_id: int) -> Fault:
    if not isinstance(spec, dict):
        raise BadFault("a fault is a JSON object")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise BadFault(f"unknown fault fields {unknown}; fields are {sorted(_KEYS)}")
    operation = spec.get("operation", "*")
    if operation != "*" and operation not in model.served_operations():
        raise BadFault(f"operation {operation!r} is not one this server serves (or '*')")
    error, status, message = _error(spec)
    probability = spec.get("probability", 1)
    if isinstance(probability, bool) or not isinstance(probability, int | float):
        raise BadFault("probability must be a number from 0 to 1")
    if not 0 <= probability <= 1:
        raise BadFault(f"probability {probability} is outside 0..1")
    count = spec.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise BadFault("count must be a whole number of calls, 1 or more")
    latency = spec.get("latency_ms", 0)
    if (
        isinstance(latency, bool)
        or not isinstance(latency, int)
        or not 0 <= latency <= MAX_LATENCY_MS
    ):
        raise BadFault(f"latency_ms must be a whole number from 0 to {MAX_LATENCY_MS}")
    if error is None and latency == 0:
        raise BadFault("a fault needs an error to answer, a latency, or both")
    account = spec.get("account")
    if account is not None and (not isinstance(account, str) or not _ACCOUNT.fullmatch(account)):
        raise BadFault("account must be 12 digits")
    return Fault(
        fault_id, operation, error, message, status, float(probability), count, latency, account
    )


def _error(spec: dict[str, Any]) -> tuple[str | None, int | None, str | None]:
    """(error code, HTTP status, message) of a rule; all None for a latency alone."""
    error = spec.get("error")
    message = spec.get("message")
    if message is not None and (not isinstance(message, str) or not message):
        raise BadFault("message must be a non-empty string")
    if error is None:
        if message is not None:
            raise BadFault("a message needs an error")
        return None, None, None
    if error in FRAMEWORK_ERRORS:
        status, usual = FRAMEWORK_ERRORS[error]
        return error, status, message or usual
    modelled = model.error_shapes().get(error) if isinstance(error, str) else None
    if modelled is None:
        known = sorted({*FRAMEWORK_ERRORS, *model.error_shapes()})
        raise BadFault(f"unknown error {error!r}; errors are {known}")
    return error, modelled.status, message or DEFAULT_MESSAGES.get(error, f"{error} (a test fault)")
