"""The control API tests use: `/_sagemaker-images/...`, JSON in and out.

Served only with `serve --control-api` (the testing module always turns it on), and, when
signatures are verified, only to signed requests.

    GET    /_sagemaker-images/health    {"status": "ok", "transitions": ..., "database": ...}
    POST   /_sagemaker-images/reset     {"account"?: "123456789012"}
    POST   /_sagemaker-images/complete  {"arn"?: "...", "fail"?: "FailureReason"}
    POST   /_sagemaker-images/doctor    {"ImageName", "Version"?|"Alias"?, "AppImageConfigName"?,
                                         "AppType"?, "Account"?, "Region"?}
    GET    /_sagemaker-images/events
    DELETE /_sagemaker-images/events
    GET    /_sagemaker-images/faults
    POST   /_sagemaker-images/faults    {"operation", "error", "message", "probability",
                                         "count", "latency_ms", "account"}
    DELETE /_sagemaker-images/faults

`reset` deletes every resource (of one account, if named), jobs and client tokens
included, so version numbers start again at 1; it also clears the fault rules. `complete`
finishes the transitions in progress, every one or those of one image, image version,
domain, user profile, space or app, as successes or, with `fail`, as failures with that
FailureReason (CREATE_FAILED, UPDATE_FAILED, DELETE_FAILED; Studio's Failed,
Update_Failed, Delete_Failed; an app's Failed), and answers once they are recorded. (A
Deleted or Failed app's purge, once its retention lapses, is no transition: it is left
to its time.) An app completed as a success is launched as any other: it may still end
Failed, for the reason its launch gives. A request that cannot
be carried out answers 400 with what is wrong, and changes nothing.

`events` answers the image and image version state-change events written since the last
reset (or `DELETE events`), oldest first, each in EventBridge's envelope, as a sink would
receive them; `DELETE events` forgets them.

`doctor` answers the preflight report of an image version (docs/preflight.md), read from
its registry; 404 `{"message"}` when the image, version, alias or AppImageConfig is not
in the catalog (the account and region default to the server's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagemaker_images.config import Settings
from sagemaker_images.doctor.preflight import Preflight, Request
from sagemaker_images.errors import ResourceNotFound, ServiceError
from sagemaker_images.events.configured import kept_sink
from sagemaker_images.events.envelope import envelope
from sagemaker_images.jobs.worker import Worker
from sagemaker_images.resources.arns import parse
from sagemaker_images.resources.kinds import (
    JOB_KINDS,
    KINDS,
    TRANSITION_JOBS,
    VERSION,
    kind_of_arn_type,
)
from sagemaker_images.server.faults import BadFault, Faults
from sagemaker_images.store import PendingJob, Reads, Store

PREFIX = "/_sagemaker-images/"
MAX_REASON = 1024
# The most kept events `GET events` answers with (the oldest).
MOST_KEPT = 100_000


class BadRequest(ValueError):
    """A control request that cannot be carried out; the message says why."""


class Missing(LookupError):
    """What a control request names is not in the catalog; the message is the catalog's."""


_DOCTOR_FIELDS = {
    "ImageName",
    "Version",
    "Alias",
    "AppImageConfigName",
    "AppType",
    "Account",
    "Region",
}


class ControlApi:
    def __init__(
        self,
        store: Store,
        worker: Worker,
        faults: Faults,
        settings: Settings,
        clock: Callable[[], int],
        preflight: Preflight | None = None,
    ) -> None:
        self._store = store
        self._preflight = preflight
        self._worker = worker
        self._faults = faults
        self._settings = settings
        self._clock = clock
        self._routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "health"): self._health,
            ("POST", "reset"): self._reset,
            ("POST", "complete"): self._complete,
            ("POST", "doctor"): self._doctor,
            ("GET", "faults"): self._list_faults,
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "events"): self._events,
            ("DELETE", "events"): self._forget_events,
        }

    async def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) of one control request."""
        name = path.removeprefix(PREFIX).strip("/")
        route = self._routes.get((method, name))
        if route is None:
            if any(known == name for _, known in self._routes):
                return 405, {"error": f"{method} is not allowed on {path}"}
            return 404, {"error": f"no control operation at {path}"}
        if not isinstance(body, dict):
            return 400, {"error": "the body must be a JSON object"}
        try:
            return 200, await route(body)
        except (BadRequest, BadFault) as error:
            return 400, {"error": str(error)}
        except Missing as error:
            return 404, {"message": str(error)}

    async def _health(self, _: dict[str, Any]) -> dict[str, Any]:
        scheme = self._settings.resolved_database_url().split(":", 1)[0]
        return {
            "status": "ok",
            "transitions": str(self._settings.pacing()),
            "database": "postgresql" if scheme.startswith("postgres") else scheme,
        }

    async def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"account"})
        account = body.get("account")
        if account is not None and (not isinstance(account, str) or not account.isdigit()):
            raise BadRequest("account must be a string of digits")
        async with self._store.transaction() as tx:
            await tx.reset(account)
        self._faults.clear()
        return {"reset": account or "all"}

    async def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"arn", "fail"})
        fail = body.get("fail")
        if fail is not None and (not isinstance(fail, str) or not 0 < len(fail) <= MAX_REASON):
            raise BadRequest(f"fail must be a FailureReason of 1 to {MAX_REASON} characters")
        arn = body.get("arn")
        if arn is not None and not isinstance(arn, str):
            raise BadRequest("arn must be a string")
        async with self._store.transaction() as tx:
            if arn is None:
                pending = await tx.jobs.pending(TRANSITION_JOBS)
            else:
                kinds, subject_id, version = await _resource(tx, arn)
                pending = await tx.jobs.pending(kinds, subject_id, version)
                if not pending:
                    raise BadRequest(f"{arn} has no transition in progress")
            arns = [await _arn_of(tx, job) for job in pending]
            await tx.jobs.hasten([job.id for job in pending], self._clock(), fail)
        await self._worker.settle()
        return {"completed": arns}

    async def _doctor(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, _DOCTOR_FIELDS)
        if self._preflight is None:
            raise BadRequest("this server runs no preflight")
        if not isinstance(body.get("ImageName"), str) or not body["ImageName"]:
            raise BadRequest("ImageName must be given")
        version = body.get("Version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise BadRequest("Version must be a number")
        for field in ("Alias", "AppImageConfigName", "AppType", "Account", "Region"):
            if body.get(field) is not None and not isinstance(body[field], str):
                raise BadRequest(f"{field} must be a string")
        request = Request(
            body.get("Account") or self._settings.account_id,
            body.get("Region") or self._settings.default_region,
            body["ImageName"],
            version,
            body.get("Alias"),
            body.get("AppImageConfigName"),
            body.get("AppType"),
        )
        try:
            report = await self._preflight.report(self._store.reader, request)
        except ResourceNotFound as error:
            raise Missing(error.message) from None
        except ServiceError as error:
            raise BadRequest(error.message) from None
        return report.as_json()

    async def _events(self, _: dict[str, Any]) -> dict[str, Any]:
        kept = kept_sink(self._store)
        assert kept is not None  # kept whenever the control API is served
        events = await self._store.reader.events.pending(kept, MOST_KEPT)
        source = self._settings.events_source
        return {"events": [envelope(stored, source) for stored in events]}

    async def _forget_events(self, _: dict[str, Any]) -> dict[str, Any]:
        kept = kept_sink(self._store)
        assert kept is not None
        async with self._store.transaction() as tx:
            forgotten = await tx.events.forget(kept)
        return {"forgotten": forgotten}

    async def _list_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"faults": [fault.as_dict() for fault in self._faults.rules]}

    async def _add_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"fault": self._faults.add(body).as_dict()}

    async def _clear_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"cleared": self._faults.clear()}


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown fields {unknown}; fields are {sorted(allowed)}")


# The kinds whose transitions `complete` finishes, as its refusals name them.
_TRANSITIONING = [kind for kind in KINDS if kind.transitions is not None]
_NOUNS = [f"an {k.noun}" if k.noun[0] in "aeio" else f"a {k.noun}" for k in _TRANSITIONING]
_NAMED = ", ".join(_NOUNS[:-1]) + " or " + _NOUNS[-1]


async def _resource(reads: Reads, arn: str) -> tuple[tuple[str, ...], int, int | None]:
    """(job kinds, subject row, version number or None) of the resource an ARN names."""
    parsed = parse(arn)
    kind = kind_of_arn_type(parsed.resource_type) if parsed is not None else None
    if parsed is None or kind is None or kind.transitions is None:
        raise BadRequest(f"{arn!r} is not the ARN of {_NAMED}")
    path = kind.segments(parsed.resource_id)
    found = None if path is None else await reads.locate(kind, parsed.account, parsed.region, path)
    if found is None:
        raise BadRequest(f"no {kind.noun} has the ARN {arn}")
    subject = kind.job_subject
    jobs = tuple(job for job in TRANSITION_JOBS if JOB_KINDS[job].job_subject is subject)
    return jobs, found.row_id, found.number


async def _arn_of(reads: Reads, job: PendingJob) -> str:
    """The ARN of the resource a pending job finishes."""
    kind = JOB_KINDS[job.kind]
    row = await reads.of(kind.job_subject).by_row(job.subject_id)
    assert row is not None  # a job goes with its resource's row
    if kind is VERSION:
        return VERSION.arn(row.region, row.account, row.name, job.version)
    return kind.arn_of(row)
