"""WeChat's server API as the gateway uses it: the access token and the
customer-service message (``POST /cgi-bin/message/custom/send``).

The access token is fetched once for every gateway process (a lock and the token
itself in the shared store: Redis when configured) and refreshed when WeChat says
it is invalid or expired. Errors are handled by code: a busy WeChat is retried
with backoff, the closed 48-hour window is reported as :class:`WindowClosed`.
Tokens and the app secret travel in query strings, so nothing here logs a URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import httpx

from bot.channels.wechat.store import Store

logger = logging.getLogger(__name__)

TOKEN_INVALID = frozenset({40001, 40014, 42001})  # invalid, malformed, expired
BUSY = frozenset({-1, 45009})  # system busy, API rate limit
WINDOW_CLOSED = 45015  # reply time limit exceeded: no customer message for 48 h
UNREACHABLE = frozenset({40003, 43004, 43019})  # bad openid, unsubscribed, blocked
TOKEN_MARGIN = 300.0  # refresh five minutes before WeChat's expiry
LOCK_TTL = 10.0


class WechatApiError(Exception):
    """WeChat refused or failed a call; ``errcode`` is WeChat's (or 0 for HTTP)."""

    def __init__(self, errcode: int, errmsg: str = ""):
        """Keep WeChat's code; the message is WeChat's own text."""
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WindowClosed(WechatApiError):
    """45015: the customer has not written for 48 hours."""


class WechatUnavailable(WechatApiError):
    """No usable answer from WeChat (network, timeout, HTTP 5xx).

    ``retryable``: the request surely did not take effect (no connection, 5xx),
    so sending it again cannot show the customer a message twice.
    """

    def __init__(self, errmsg: str, *, retryable: bool):
        """WeChat gave no errcode (0)."""
        super().__init__(0, errmsg)
        self.retryable = retryable


class AccessToken:
    """One access token for every process: cached, refreshed once."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        store: Store,
        *,
        app_id: str,
        app_secret: str,
        timeout: float = 5.0,
        poll: float = 0.05,
    ):
        """``http`` carries WeChat's base URL (``WECHAT_API_BASE``)."""
        self._http = http
        self._store = store
        self._app_id = app_id
        self._secret = app_secret
        self._timeout = timeout
        self._poll = poll
        self._key = f"token:{app_id}"
        self._local: tuple[str, float] | None = None
        self.fetches = 0  # how many tokens this process fetched (for tests/metrics)

    async def get(self) -> str:
        """A valid token: this process's copy, the shared one, or a new one."""
        if self._local is not None and self._local[1] > time.monotonic():
            return self._local[0]
        deadline = time.monotonic() + LOCK_TTL + self._timeout
        me = uuid.uuid4().hex
        while True:
            (shared,) = await self._store.get_many(self._key)
            if shared is not None:
                token, _, expires = shared.partition(" ")
                left = float(expires or 0) - time.time()
                if left > 0:
                    self._local = (token, time.monotonic() + left)
                    return token
            if await self._store.add(f"{self._key}:lock", me, LOCK_TTL):
                try:
                    return await self._fetch()
                finally:
                    await self._store.delete_if(f"{self._key}:lock", me)
            if time.monotonic() > deadline:
                raise WechatUnavailable("no access token in time", retryable=True)
            await asyncio.sleep(self._poll)  # another process is fetching it

    async def invalidate(self, token: str) -> None:
        """WeChat called ``token`` invalid: drop it unless already replaced."""
        if self._local is not None and self._local[0] == token:
            self._local = None
        (shared,) = await self._store.get_many(self._key)
        if shared is not None and shared.partition(" ")[0] == token:
            await self._store.delete_if(self._key, shared)

    async def _fetch(self) -> str:
        params = {
            "grant_type": "client_credential",
            "appid": self._app_id,
            "secret": self._secret,
        }
        for attempt in range(3):
            data = await _call(
                self._http, "GET", "/cgi-bin/token", self._timeout, params
            )
            code = int(data.get("errcode") or 0)
            if code == 0 and data.get("access_token"):
                break
            if code in BUSY and attempt < 2:
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            raise WechatApiError(code, str(data.get("errmsg") or ""))
        token = str(data["access_token"])
        lifetime = max(float(data.get("expires_in") or 7200) - TOKEN_MARGIN, 60.0)
        expires = time.time() + lifetime
        await self._store.put(self._key, f"{token} {expires:.3f}", lifetime)
        self._local = (token, time.monotonic() + lifetime)
        self.fetches += 1
        logger.info("fetched a new WeChat access token (valid %.0f s)", lifetime)
        return token


async def _call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    timeout: float,
    params: dict[str, str],
    body: bytes | None = None,
) -> dict[str, Any]:
    """One request; WeChat's JSON answer (network trouble → WechatUnavailable)."""
    headers = {"Content-Type": "application/json; charset=utf-8"} if body else None
    try:
        response = await http.request(
            method, path, params=params, content=body, headers=headers, timeout=timeout
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise WechatUnavailable(type(exc).__name__, retryable=True) from None
    except httpx.HTTPError as exc:  # it may have been sent: never sent twice
        raise WechatUnavailable(type(exc).__name__, retryable=False) from None
    if response.status_code >= 500:
        raise WechatUnavailable(f"HTTP {response.status_code}", retryable=True)
    try:
        data = response.json()
    except ValueError:
        raise WechatUnavailable(
            f"HTTP {response.status_code}, not JSON", retryable=False
        ) from None
    if not isinstance(data, dict):
        raise WechatUnavailable("unexpected answer", retryable=False)
    return data


class WechatApi:
    """The customer-service message API."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: AccessToken,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.3,
    ):
        """Busy answers are retried ``retries`` times, ``backoff`` doubling."""
        self._http = http
        self.token = token
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff

    async def send_text(self, openid: str, text: str) -> None:
        """Send one text message; raises WechatApiError (WindowClosed for 45015)."""
        # UTF-8 as is: WeChat shows \\uXXXX escapes literally.
        body = json.dumps(
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
            ensure_ascii=False,
        ).encode("utf-8")
        await self._post("/cgi-bin/message/custom/send", body)

    async def _post(self, path: str, body: bytes) -> None:
        refreshed = False
        attempt = 0
        while True:
            try:
                token = await self.token.get()
                data = await _call(
                    self._http,
                    "POST",
                    path,
                    self._timeout,
                    {"access_token": token},
                    body,
                )
            except WechatUnavailable as exc:
                if not exc.retryable or attempt >= self._retries:
                    raise
                await asyncio.sleep(self._backoff * 2**attempt)
                attempt += 1
                continue
            code = int(data.get("errcode") or 0)
            if code == 0:
                return
            message = str(data.get("errmsg") or "")
            if code in TOKEN_INVALID and not refreshed:
                await self.token.invalidate(token)
                refreshed = True
                continue
            if code in BUSY and attempt < self._retries:
                await asyncio.sleep(self._backoff * 2**attempt)
                attempt += 1
                continue
            if code == WINDOW_CLOSED:
                raise WindowClosed(code, message)
            raise WechatApiError(code, message)
