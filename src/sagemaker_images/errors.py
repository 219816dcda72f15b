"""The one hierarchy of errors a call can end with.

The catalog raises these; only the protocol layer turns them into HTTP. Each kind carries
its wire code (`__type`) and status. SageMaker's modelled errors write their text under
`Message` (the member their shapes declare); framework errors under `message`.
"""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500
    modelled: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    code = "ValidationException"
    status = 400


class SerializationError(ServiceError):
    code = "SerializationException"
    status = 400


class UnknownOperation(ServiceError):
    code = "UnknownOperationException"
    status = 400


class RequestTooLarge(ServiceError):
    code = "RequestEntityTooLargeException"
    status = 413


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500


class ServiceUnavailable(ServiceError):
    code = "ServiceUnavailable"
    status = 503


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"
    status = 400
    modelled = True


class ResourceInUse(ServiceError):
    code = "ResourceInUse"
    status = 400
    modelled = True


class ResourceLimitExceeded(ServiceError):
    code = "ResourceLimitExceeded"
    status = 400
    modelled = True


# Authentication (SigV4). Codes and texts as AWS sends them; see protocol/sigv4.py.
class MissingAuthenticationToken(ServiceError):
    code = "MissingAuthenticationToken"
    status = 403


class UnrecognizedClient(ServiceError):
    code = "UnrecognizedClientException"
    status = 403


class InvalidSignature(ServiceError):
    code = "InvalidSignatureException"
    status = 403


class IncompleteSignature(ServiceError):
    code = "IncompleteSignature"
    status = 400
