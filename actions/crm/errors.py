"""Typed errors of the CRM client; actions never show their text to customers."""

from __future__ import annotations


class CrmError(Exception):
    """The CRM answered with an error the caller did not expect."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code


class CrmUnavailable(CrmError):
    """The CRM cannot be reached, timed out or failed (5xx): try later or a person."""


class CrmNotFound(CrmError):
    """The thing asked for does not exist (404)."""
