"""Deliver a transaction's outbox (gateway events, console hints) after it commits.

Endpoints end with ``notify.after_commit(session)``: the outbox is taken then and
delivered by a background task, which Starlette runs after the response is sent,
and so after the request's session has committed (the session dependency ends
before the response). A request that fails sends nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from crm_backend.console.hub import Hub
from crm_backend.core.config import Settings
from crm_backend.core.deps import SettingsDep
from crm_backend.core.gateway import GatewayClient
from crm_backend.core.outbox import Outbox, take


def deliver(
    outbox: Outbox,
    *,
    settings: Settings,
    hub: Hub | None,
    gateway: GatewayClient | None,
) -> None:
    """Push the hints, then post the gateway events in order (none without a
    gateway client)."""
    if hub is not None:
        for hint in outbox.hints:
            hub.publish(hint)
    if gateway is not None:
        gateway.post_events(outbox.events, settings)


def get_hub(connection: HTTPConnection) -> Hub | None:
    """The app's console hub (``app.state.hub``)."""
    return getattr(connection.app.state, "hub", None)


def get_gateway(connection: HTTPConnection) -> GatewayClient | None:
    """The app's shared client for CRM → gateway events (``app.state.gateway``)."""
    return getattr(connection.app.state, "gateway", None)


HubDep = Annotated[Hub | None, Depends(get_hub)]
GatewayDep = Annotated[GatewayClient | None, Depends(get_gateway)]


class Notifier:
    """Sends what a request's transaction queued, once the request is answered."""

    def __init__(
        self,
        background: BackgroundTasks,
        settings: Settings,
        hub: Hub | None,
        gateway: GatewayClient | None,
    ) -> None:
        self.background = background
        self.settings = settings
        self.hub = hub
        self.gateway = gateway

    def after_commit(self, session: Session) -> None:
        """Take the session's outbox and deliver it after the response."""
        outbox = take(session)
        if outbox:
            self.background.add_task(
                deliver,
                outbox,
                settings=self.settings,
                hub=self.hub,
                gateway=self.gateway,
            )


def get_notifier(
    background: BackgroundTasks,
    settings: SettingsDep,
    hub: HubDep,
    gateway: GatewayDep,
) -> Notifier:
    """The request's notifier."""
    return Notifier(background, settings, hub, gateway)


NotifyDep = Annotated[Notifier, Depends(get_notifier)]
