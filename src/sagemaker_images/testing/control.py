"""A client of the control API (`/_sagemaker-images/...`) of any running server.

Signed with SigV4 when given credentials (a server that verifies signatures wants them),
with botocore's signer, imported only then.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

PREFIX = "/_sagemaker-images/"
# The keys clients of a test server sign with unless told otherwise.
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"


class ControlError(RuntimeError):
    """The server refused a control request; the message is its reason."""


class ControlClient:
    def __init__(
        self,
        endpoint_url: str,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        region_name: str = "us-east-1",
        timeout: float = 60,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self._credentials = (
            (access_key_id, secret_access_key, session_token)
            if access_key_id and secret_access_key
            else None
        )
        self._region = region_name
        self._timeout = timeout

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", "health")
        return answer

    def reset(self, account: str | None = None) -> None:
        """Delete every resource (of one account, if given) and every fault rule."""
        self._call("POST", "reset", {} if account is None else {"account": account})

    def complete(self, arn: str | None = None, fail: str | None = None) -> list[str]:
        """Finish the transitions in progress (every one, or those of the resource `arn`
        names: an image, image version, domain, user profile, space or app): as
        successes, or as failures with the FailureReason `fail`. Returns the ARNs whose
        transitions were finished, once they are recorded."""
        body: dict[str, Any] = {}
        if arn is not None:
            body["arn"] = arn
        if fail is not None:
            body["fail"] = fail
        completed: list[str] = self._call("POST", "complete", body)["completed"]
        return completed

    def doctor(
        self,
        image_name: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        app_image_config: str | None = None,
        app_type: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """The preflight report of an image version (the latest unless `version` or `alias`
        names one), with an AppImageConfig and an app type if given."""
        body = {
            key: value
            for key, value in (
                ("ImageName", image_name),
                ("Version", version),
                ("Alias", alias),
                ("AppImageConfigName", app_image_config),
                ("AppType", app_type),
                ("Account", account),
                ("Region", region),
            )
            if value is not None
        }
        report: dict[str, Any] = self._call("POST", "doctor", body)
        return report

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """The image and image version state-change events written since the last reset
        (or `forget_events`), oldest first, as EventBridge delivers them (those of one
        `detail-type`, if named)."""
        found: list[dict[str, Any]] = self._call("GET", "events")["events"]
        if detail_type is not None:
            found = [event for event in found if event["detail-type"] == detail_type]
        return found

    def forget_events(self) -> int:
        """Forget the events written so far; how many there were."""
        forgotten: int = self._call("DELETE", "events")["forgotten"]
        return forgotten

    def faults(self, *rules: dict[str, Any], **rule: Any) -> list[dict[str, Any]]:
        """Add fault rules (dictionaries, or one given as keywords); return every rule."""
        for spec in (*rules, *([rule] if rule else [])):
            self._call("POST", "faults", spec)
        found: list[dict[str, Any]] = self._call("GET", "faults")["faults"]
        return found

    def clear_faults(self) -> int:
        cleared: int = self._call("DELETE", "faults")["cleared"]
        return cleared

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        url = self.endpoint_url + PREFIX + name
        headers = {"Content-Type": "application/json"}
        if self._credentials is not None:
            headers = self._signed(method, url, data, headers)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            code = None
            try:
                answer = json.loads(detail)
                code = answer.get("__type")
                detail = answer.get("error") or answer.get("message") or detail
            except (ValueError, AttributeError):
                pass
            if error.code == 404 and code == "UnknownOperationException":
                raise ControlError(
                    f"the server at {self.endpoint_url} does not serve the control API: start"
                    " it with `sagemaker-images serve --control-api` (the testing module's"
                    " servers always do)"
                ) from None
            raise ControlError(f"{method} {PREFIX}{name}: {error.code} {detail}") from None
        except urllib.error.URLError as error:
            raise ControlError(f"cannot reach {self.endpoint_url}: {error.reason}") from None

    def _signed(
        self, method: str, url: str, data: bytes, headers: dict[str, str]
    ) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        assert self._credentials is not None
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(Credentials(*self._credentials), "sagemaker", self._region).add_auth(request)
        return dict(request.headers.items())


class Controlled:
    """What a server under test offers a test: boto3 clients of it, and its control API
    (`control`, a client made by the server in-process, or for one running elsewhere)."""

    _keys: tuple[str, str] = (TEST_ACCESS_KEY, TEST_SECRET_KEY)

    @property
    def endpoint_url(self) -> str:
        raise NotImplementedError

    @property
    def control(self) -> ControlClient:
        raise NotImplementedError

    def client(self, region_name: str = "us-east-1", **options: Any) -> Any:
        """A boto3 SageMaker client of this server."""
        import boto3

        access_key_id, secret_access_key = self._keys
        options.setdefault("aws_access_key_id", access_key_id)
        options.setdefault("aws_secret_access_key", secret_access_key)
        return boto3.client(
            "sagemaker", endpoint_url=self.endpoint_url, region_name=region_name, **options
        )

    def reset(self, account: str | None = None) -> None:
        """Delete every resource (of one account, if given) and every fault rule."""
        self.control.reset(account)

    def complete(self, arn: str | None = None, fail: str | None = None) -> list[str]:
        """Finish transitions in progress; see `ControlClient.complete`."""
        return self.control.complete(arn, fail)

    def doctor(self, image_name: str, **options: Any) -> dict[str, Any]:
        """The preflight report of an image version; see `ControlClient.doctor`."""
        return self.control.doctor(image_name, **options)

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """The state-change events written since the last reset; see
        `ControlClient.events`."""
        return self.control.events(detail_type)

    def forget_events(self) -> int:
        return self.control.forget_events()

    def faults(self, *rules: dict[str, Any], **rule: Any) -> list[dict[str, Any]]:
        """Add fault rules; return every rule in force."""
        return self.control.faults(*rules, **rule)

    def clear_faults(self) -> int:
        return self.control.clear_faults()


class Lifecycle:
    """start() and stop(), and the same as a `with` block."""

    def start(self) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
