"""The one hierarchy of errors a call can end with.

The catalog raises these; only the protocol layer turns them into HTTP. Each names its wire
code (`__type`). SageMaker's own errors (`ResourceNotFound`, `ResourceInUse`,
`ResourceLimitExceeded`) are shapes of the service model, which decides their HTTP status
and the member their text goes under (`Message`); the others are the AWS JSON framework's,
whose status is set here and whose text goes under `message`.
"""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    code: ClassVar[str] = "InternalFailure"
    # The HTTP status of a framework error; a modelled error's comes from the model.
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- SageMaker's modelled errors (shapes of the service model) ------------------------------


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"


class ResourceInUse(ServiceError):
    code = "ResourceInUse"


class ResourceLimitExceeded(ServiceError):
    code = "ResourceLimitExceeded"


MODELLED = (ResourceNotFound, ResourceInUse, ResourceLimitExceeded)


# -- the AWS JSON framework's errors ----------------------------------------------------------


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


# Authentication (SigV4). Codes, statuses and texts as AWS JSON services answer them; see
# protocol/sigv4.py. Signature failures are client errors (400) on these services; only a
# request with no signature at all is 403.
class MissingAuthenticationToken(ServiceError):
    code = "MissingAuthenticationToken"
    status = 403


class UnrecognizedClient(ServiceError):
    code = "UnrecognizedClientException"
    status = 400


class InvalidSignature(ServiceError):
    code = "InvalidSignatureException"
    status = 400


class IncompleteSignature(ServiceError):
    code = "IncompleteSignature"
    status = 400


class AccessDenied(ServiceError):
    """An IAM-style policy refused the call (auth/policies.py); as AWS answers it, 400."""

    code = "AccessDeniedException"
    status = 400
