"""The WeChat Official Account channel (公众号): ``/wechat`` and the
customer-service message API. Off while ``WECHAT_TOKEN`` is unset.

``messages`` and ``outgoing`` are the pure wire format, ``endpoint`` the HTTP
callback, ``channel`` the flow through the relay, ``dedupe`` exactly-once handling
of WeChat's retries, ``api`` the access token and customer-service messages,
``delivery`` ordered sending per user, ``quick`` quick replies, ``store`` the
state shared by gateway processes (Redis) or kept in one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx

from bot.channels.wechat.api import AccessToken, WechatApi
from bot.channels.wechat.channel import WechatChannel, WechatConfig
from bot.channels.wechat.dedupe import Dedupe
from bot.channels.wechat.delivery import ApiSink, Courier, CrmReport
from bot.channels.wechat.endpoint import router
from bot.channels.wechat.messages import CHANNEL, mask_query
from bot.channels.wechat.quick import QuickReplies
from bot.channels.wechat.store import MemoryStore, RedisStore, Store
from bot.config import Settings
from bot.relay import Relay

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Wechat", "attach", "router"]


class MaskOpenids(logging.Filter):
    """Masks the ``openid`` WeChat puts in the callback URL (uvicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drops a record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_query(a) if isinstance(a, str) and "openid=" in a else a
                for a in record.args
            )
        return True


class Wechat:
    """The channel with the HTTP clients it owns (closed at shutdown)."""

    def __init__(self, channel: WechatChannel, clients: list[httpx.AsyncClient]):
        """Built by :func:`attach`."""
        self.channel = channel
        self._clients = clients

    async def close(self) -> None:
        """Stop deliveries and close the clients."""
        await self.channel.courier.close()
        for client in self._clients:
            await client.aclose()


def attach(
    relay: Relay, *, settings: Settings, redis: Redis | None = None
) -> Wechat | None:
    """Register the channel with the relay; None while WeChat is not configured."""
    if not settings.wechat_token:
        return None
    # httpx logs request URLs at INFO; WeChat's carry the secret and the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskOpenids) for f in access.filters):
        access.addFilter(MaskOpenids())
    store: Store = RedisStore(redis) if redis is not None else MemoryStore()
    wechat_http = httpx.AsyncClient(
        base_url=settings.wechat_api_base,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )
    crm_http = httpx.AsyncClient(base_url=settings.crm_url)
    token = AccessToken(
        wechat_http,
        store,
        app_id=settings.wechat_app_id or "",
        app_secret=settings.wechat_app_secret or "",
    )
    courier = Courier(
        WechatApi(wechat_http, token),
        CrmReport(
            crm_http,
            token=settings.crm_service_token,
            timeout=settings.crm_timeout_seconds,
        ),
    )
    quick = QuickReplies(store)
    channel = WechatChannel(
        WechatConfig(
            token=settings.wechat_token,
            app_id=settings.wechat_app_id or "",
            aes_key=settings.wechat_aes_key,
            passive_seconds=settings.wechat_passive_seconds,
            max_body_bytes=settings.wechat_max_body_bytes,
            max_skew_seconds=settings.wechat_max_skew_seconds,
        ),
        relay=relay,
        dedupe=Dedupe(store, poll=0.02 if redis is None else 0.03),
        quick=quick,
        courier=courier,
    )
    relay.register_channel(CHANNEL, lambda openid: ApiSink(courier, quick, openid))
    relay.register_notifier(CHANNEL, courier.notifier())
    return Wechat(channel, [wechat_http, crm_http])
