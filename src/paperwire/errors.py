"""Errors a user can cause, each with the HTTP status the web edge answers with.

Services raise them with a message meant for the user; pages show the message, the JSON
API returns it as ``{"detail": ...}`` and the CLI prints it.
"""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be done as asked (400)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSignedIn(UserError):
    status_code = 401


class Forbidden(UserError):
    status_code = 403


class NotFound(UserError):
    status_code = 404


class Conflict(UserError):
    """The request clashes with what is stored (a duplicate, a taken name)."""

    status_code = 409


class RateLimited(UserError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(UserError):
    """A source paperwire relies on (arXiv) failed or did not answer."""

    status_code = 502
