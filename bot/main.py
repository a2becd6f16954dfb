"""The gateway's ASGI app: ``uvicorn bot.main:app`` (default 127.0.0.1:8001).

socket.io (``/socket.io/``) wraps a FastAPI app holding the chat page, the
widget, the history API, Rasa's REST shape and the CRM's event endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import socketio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot import events, pages
from bot.channels import rest, web, wechat
from bot.config import Settings, get_settings
from bot.crm_client import CrmClient
from bot.queue_watch import QueueWatch
from bot.rasa_client import RasaClient
from bot.relay import Relay

logger = logging.getLogger("bot")


def create_app(settings: Settings | None = None) -> socketio.ASGIApp:
    """Build the app; connections open at startup, not at import."""
    settings = settings or get_settings()
    sio = web.create_server(settings)

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        redis = None
        if settings.redis_url:
            from redis.asyncio import Redis

            redis = Redis.from_url(settings.redis_url)
        async with (
            httpx.AsyncClient(base_url=settings.crm_url, limits=limits) as crm_http,
            httpx.AsyncClient(base_url=settings.rasa_url, limits=limits) as rasa_http,
        ):
            crm = CrmClient(
                crm_http,
                token=settings.crm_service_token,
                timeout=settings.crm_timeout_seconds,
            )
            rasa = RasaClient(
                rasa_http,
                token=settings.rasa_token,
                timeout=settings.rasa_timeout_seconds,
            )
            watch = QueueWatch(crm, interval=settings.queue_poll_seconds, redis=redis)
            relay = Relay(crm=crm, rasa=rasa, queue_watch=watch)
            web.attach(sio, relay)
            api.state.relay = relay
            api.state.wechat = wechat.attach(relay, settings=settings, redis=redis)
            if not pages.vendor_ready():
                logger.warning("socket.io-client missing: run `make setup` (npm ci)")
            try:
                yield
            finally:
                if api.state.wechat is not None:
                    await api.state.wechat.close()
                await relay.close()
                if redis is not None:
                    await redis.aclose()

    api = FastAPI(
        title="Gateway (web chat, WeChat, Rasa REST shape, CRM events)",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    api.state.settings = settings
    api.include_router(pages.router)
    api.include_router(rest.router)
    api.include_router(events.router)
    api.include_router(wechat.router)

    @api.get("/health")
    def health() -> dict[str, str]:
        """Liveness for wait_ready.py and load balancers, naming the service."""
        return {"status": "ok", "service": "gateway"}

    api.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    api.mount(
        "/vendor/socket.io",
        StaticFiles(directory=pages.VENDOR, check_dir=False),
        name="vendor",
    )
    return socketio.ASGIApp(sio, other_asgi_app=api, socketio_path="socket.io")


app = create_app()
