"""The CRM's ASGI application."""

from __future__ import annotations

from fastapi import FastAPI

from crm_backend.api import build_router
from crm_backend.core.errors import install_handlers


def create_app() -> FastAPI:
    """Build the app: API under ``/api/v1``, OpenAPI at ``/docs``, ``/health``."""
    app = FastAPI(
        title="保险客服 CRM",
        version="0.1.0",
        description="System of record for the insurance service bot and agent console.",
    )
    install_handlers(app)
    app.include_router(build_router())

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
