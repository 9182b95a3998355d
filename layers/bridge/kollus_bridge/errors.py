"""Domain errors. Each carries a stable machine-readable code; HTTP status codes are assigned in
one place, `kollus_bridge.edge`."""

from __future__ import annotations

from collections.abc import Sequence


class BridgeError(Exception):
    """Base class of every error the service reports to a client."""

    code = "error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidPayload(BridgeError):
    """The callback body or query could not be understood or breaks a documented bound."""

    code = "invalid_payload"


class InvalidRequest(BridgeError):
    """An API request lacks a parameter or carries a malformed one."""

    code = "invalid_request"


class PayloadTooLarge(BridgeError):
    code = "payload_too_large"


class UnsupportedMediaType(BridgeError):
    code = "unsupported_media_type"


class Unauthorized(BridgeError):
    code = "unauthorized"


class Forbidden(BridgeError):
    """Authenticated, but not allowed: e.g. a callback without a valid session nonce."""

    code = "forbidden"


class NotFound(BridgeError):
    code = "not_found"


class MethodNotAllowed(BridgeError):
    """The path exists but does not take the request's method; `allowed` are the methods it takes."""

    code = "method_not_allowed"

    def __init__(self, message: str, allowed: Sequence[str]) -> None:
        super().__init__(message, field="method")
        self.allowed = tuple(allowed)


class Conflict(BridgeError):
    """The request is valid but the state of things does not allow it (e.g. keys kept elsewhere)."""

    code = "conflict"


class RecordTooLarge(BridgeError):
    """The learner's record would exceed DynamoDB's item size (pathological number of sessions)."""

    code = "record_too_large"


class StorageUnavailable(BridgeError):
    """DynamoDB failed after the SDK's own retries; the client may resend."""

    code = "storage_unavailable"


class KollusUnavailable(BridgeError):
    """The Kollus VOD API did not answer usably (or is not configured, or its rate limit is taken): retry later."""

    code = "kollus_unavailable"


class KollusRefused(BridgeError):
    """The Kollus VOD API refused the request; the message says why."""

    code = "kollus_refused"


class TooManyRequests(BridgeError):
    """A bounded resource is used up for now (the message says which, and when it frees)."""

    code = "too_many_requests"
