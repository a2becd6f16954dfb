"""WeChat endpoints of the service API (the gateway's delivery reports)."""

from __future__ import annotations

from fastapi import APIRouter

from crm_backend.console.dispatch import NotifyDep
from crm_backend.core.deps import SessionDep
from crm_backend.wechat import service
from crm_backend.wechat.schemas import UndeliveredCreate, UndeliveredRead

service_router = APIRouter(tags=["wechat"])


@service_router.post("/wechat/undelivered", response_model=UndeliveredRead)
def undelivered(
    session: SessionDep, notify: NotifyDep, undelivered_in: UndeliveredCreate
) -> UndeliveredRead:
    """WeChat refused a message (45015: 48-hour window closed): a private note and
    a call-back task for the agent who wrote it."""
    result = service.undelivered(session, undelivered_in=undelivered_in)
    notify.after_commit(session)
    return result
