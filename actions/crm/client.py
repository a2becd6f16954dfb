"""The CRM's service API as the actions need it: one method per use case.

Every call has explicit timeouts and ends in a typed result or a typed error
(``CrmUnavailable`` for outages, ``CrmNotFound`` for 404, ``CrmError`` otherwise),
never a raw httpx exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from actions.crm.complaint import ComplaintApi
from actions.crm.enquiry import EnquiryApi
from actions.crm.errors import CrmError, CrmNotFound, CrmUnavailable
from actions.crm.identity import IdentityApi
from actions.crm.models import CustomerSummary, Health
from actions.crm.payment import PaymentApi

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TOKEN = "dev-service-token"
# A customer is waiting on every call: fail fast and apologise rather than hang.
DEFAULT_TIMEOUT = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0)
SERVICE_PREFIX = "/api/v1/service"

T = TypeVar("T")


class CrmClient(IdentityApi, EnquiryApi, PaymentApi, ComplaintApi):
    """Async client for the CRM service API, authenticated by the service token."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str = DEFAULT_TOKEN,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CrmClient:
        """A client for CRM_URL with CRM_SERVICE_TOKEN (local dev defaults)."""
        env = os.environ if environ is None else environ
        return cls(
            env.get("CRM_URL") or DEFAULT_URL,
            env.get("CRM_SERVICE_TOKEN") or DEFAULT_TOKEN,
        )

    @property
    def base_url(self) -> str:
        """Where the CRM is."""
        return str(self._http.base_url)

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts every call uses."""
        return self._http.timeout

    async def __aenter__(self) -> CrmClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def health(self) -> Health:
        """Whether the CRM is up (GET /health, no token needed)."""
        return await self._get("/health", Health.from_json)

    async def get_customer_summary(self, customer_id: int) -> CustomerSummary:
        """The masked summary of one customer; CrmNotFound when there is none."""
        return await self._get(
            f"{SERVICE_PREFIX}/customers/{int(customer_id)}", CustomerSummary.from_json
        )

    async def _get(self, path: str, parse: Callable[[Mapping[str, Any]], T]) -> T:
        body = await self._request("GET", path)
        try:
            return parse(body)
        except (TypeError, ValueError) as exc:
            raise CrmError(
                "CRM answered an unexpected shape", code="bad_response"
            ) from exc

    async def _request(
        self, method: str, path: str, *, json: Any = None
    ) -> Mapping[str, Any]:
        try:
            response = await self._http.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            raise CrmUnavailable(f"CRM timed out: {method} {path}") from exc
        except httpx.TransportError as exc:
            raise CrmUnavailable(f"CRM unreachable: {method} {path}: {exc}") from exc
        if response.status_code >= 400:
            raise _error_from(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise CrmError("CRM answered non-JSON", code="bad_response") from exc
        if not isinstance(body, Mapping):
            raise CrmError("CRM answered an unexpected shape", code="bad_response")
        return body


def _error_from(response: httpx.Response) -> CrmError:
    """Map an error response (the CRM's ``{"error": {code, message}}``) to a type."""
    code: str | None = None
    message = response.reason_phrase or "error"
    try:
        error = response.json().get("error") or {}
        code = error.get("code")
        message = error.get("message") or message
    except (ValueError, AttributeError):
        pass
    status = response.status_code
    text = f"CRM {response.request.method} {response.request.url.path} → {status}: "
    if status == 404:
        return CrmNotFound(text + message, status_code=status, code=code)
    if status >= 500:
        return CrmUnavailable(text + message, status_code=status, code=code)
    return CrmError(text + message, status_code=status, code=code)
