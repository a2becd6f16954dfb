"""Domain exceptions that carry their HTTP status, rendered by one handler."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class CrmError(Exception):
    """Base of every expected error; ``code`` is a stable machine-readable name."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        keep_changes: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        # True when the request's writes must survive the error (a failed attempt
        # that counts towards a lock-out, for instance).
        self.keep_changes = keep_changes
        self.extra = extra


class NotFound(CrmError):
    """The thing does not exist (or the caller may not know that it does)."""

    status_code = 404
    code = "not_found"


class Unauthorized(CrmError):
    """No or invalid credentials."""

    status_code = 401
    code = "unauthorized"


class Forbidden(CrmError):
    """Authenticated, but not allowed."""

    status_code = 403
    code = "forbidden"


class Conflict(CrmError):
    """The state does not allow this (already claimed, already resolved…)."""

    status_code = 409
    code = "conflict"


class Unprocessable(CrmError):
    """Well-formed but semantically wrong input."""

    status_code = 422
    code = "unprocessable"


class Locked(CrmError):
    """Too many failed attempts; try later."""

    status_code = 423
    code = "locked"


def install_handlers(app: FastAPI) -> None:
    """Render domain and validation errors as ``{"error": {...}}`` JSON."""

    @app.exception_handler(CrmError)
    async def _crm_error(_: Request, exc: CrmError) -> JSONResponse:
        body = {"code": exc.code, "message": exc.message, **exc.extra}
        return JSONResponse({"error": body}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        body = {
            "code": "validation_error",
            "message": "Invalid input",
            "fields": fields,
        }
        return JSONResponse({"error": body}, status_code=422)
