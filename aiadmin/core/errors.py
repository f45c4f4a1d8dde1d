"""Application errors, each with its HTTP status and a stable code; `aiadmin.core.http` maps them to responses."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class UriTooLong(AppError):
    status = 414
    code = "uri_too_long"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(AppError):
    """A person's or a browser's repeat past its limit; `retry_after_s` becomes the `Retry-After` header."""

    status = 429
    code = "too_many_requests"

    def __init__(
        self, message: str, *, retry_after_s: int, code: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message, code=code, details={**(details or {}), "retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class Gone(AppError):
    status = 410
    code = "gone"


class UpstreamError(AppError):
    """YCLIENTS (or another dependency) failed or answered something we cannot use."""

    status = 502
    code = "upstream_error"


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"


class ConfigurationError(ServiceUnavailable):
    code = "misconfigured"
