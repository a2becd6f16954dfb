"""The CRM's ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from crm_backend.api import build_router
from crm_backend.console.hub import make_hub
from crm_backend.console.pages import install as install_console
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.errors import install_handlers
from crm_backend.core.gateway import GatewayClient
from crm_backend.escalations.jobs import run_sweeper
from crm_backend.tickets.delivery import run_notice_sweeper
from crm_backend.tickets.jobs import run_ticket_sweeper

SWAGGER_STATIC = "/static/swagger-ui"
# Swagger UI 5 (OpenAPI 3.1) as shipped inside the swagger-ui-py wheel; located
# without importing the package, which would pull in its framework adapters.
_spec = importlib.util.find_spec("swagger_ui")
SWAGGER_DIR = Path(next(iter(_spec.submodule_search_locations or []))) / "static"  # type: ignore[union-attr]


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the console hub (Redis listener), the offer and breach sweeps and the
    notice delivery; stop them and close the gateway client's connections."""
    settings: Settings = app.state.settings
    await app.state.hub.start()
    sweeper = (
        asyncio.create_task(
            run_sweeper(settings, app.state.hub, gateway=app.state.gateway),
            name="offer-sweep",
        )
        if settings.offer_sweep_enabled
        else None
    )
    ticket_sweeper = (
        asyncio.create_task(run_ticket_sweeper(settings), name="ticket-sweep")
        if settings.ticket_sweep_enabled
        else None
    )
    notice_sweeper = (
        asyncio.create_task(
            run_notice_sweeper(settings, app.state.gateway, app.state.hub),
            name="notice-delivery",
        )
        if settings.notice_sweep_enabled
        else None
    )
    try:
        yield
    finally:
        if notice_sweeper is not None:
            notice_sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notice_sweeper
        if ticket_sweeper is not None:
            ticket_sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticket_sweeper
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        app.state.gateway.close()
        await app.state.hub.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: API under ``/api/v1``, OpenAPI at ``/docs``, ``/health``.

    ``settings`` (default: the environment's) decide the hub and the offer sweep.
    """
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=lifespan,
        title="保险客服 CRM",
        version="0.1.0",
        description="System of record for the insurance service bot and agent console.",
        # the default pages load Swagger UI from a CDN; serve it from the package
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.hub = make_hub(settings)
    app.state.gateway = GatewayClient()
    install_handlers(app)
    app.include_router(build_router())
    install_console(app)
    app.mount(SWAGGER_STATIC, StaticFiles(directory=SWAGGER_DIR), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_STATIC}/favicon-32x32.png",
        )

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        # "service" lets a caller tell this CRM from whatever else holds the port.
        return {"status": "ok", "service": "crm"}

    return app


app = create_app()
