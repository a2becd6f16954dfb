"""All versioned routers under one prefix: ``/api/v1/service`` and ``/api/v1/agent``."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from crm_backend.core.deps import ServiceDep

# Each domain module exposes ``service_router`` and/or ``agent_router``.
DOMAINS = (
    "identity",
    "customers",
    "products",
    "policies",
    "premiums",
    "claims",
    "tickets",
    "agents",
    "conversations",
    "escalations",
    "analytics",
    "console",
    "wechat",
)


def build_router() -> APIRouter:
    """The ``/api/v1`` router with every domain's endpoints mounted."""
    api = APIRouter(prefix="/api/v1")
    service = APIRouter(prefix="/service", dependencies=[ServiceDep])
    agent = APIRouter(prefix="/agent")
    for name in DOMAINS:
        try:
            module = importlib.import_module(f"crm_backend.{name}.endpoints")
        except ModuleNotFoundError as exc:
            if exc.name != f"crm_backend.{name}.endpoints":
                raise
            continue
        if hasattr(module, "service_router"):
            service.include_router(module.service_router)
        if hasattr(module, "agent_router"):
            agent.include_router(module.agent_router)
    api.include_router(service)
    api.include_router(agent)
    return api
