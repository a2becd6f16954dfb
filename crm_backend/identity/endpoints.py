"""Identity endpoints of the service API (the bot's verification actions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crm_backend.core.deps import SessionDep, SettingsDep
from crm_backend.core.errors import Locked
from crm_backend.customers.schemas import CustomerBrief
from crm_backend.identity import service
from crm_backend.identity.notifier import NotifierDep
from crm_backend.identity.schemas import (
    StepUpCreate,
    StepUpSent,
    StepUpVerified,
    StepUpVerify,
    VerifyCreate,
    VerifyRead,
    WechatBindingCreate,
    WechatBindingRead,
)

service_router = APIRouter(prefix="/identity", tags=["identity"])

LOCKED_DOC: dict[int | str, dict[str, Any]] = {
    423: {"description": "Locked: too many failures (body: error with locked_until)"}
}


@service_router.post("/verify", response_model=VerifyRead, responses=LOCKED_DOC)
def verify(
    verify_in: VerifyCreate, session: SessionDep, settings: SettingsDep
) -> VerifyRead:
    """Verify phone + ID last 4, policy number + birth date, or a bound openid."""
    outcome = service.verify(session, verify_in=verify_in, settings=settings)
    if outcome.locked_until is not None:
        # raised with keep_changes: the failed attempt must be committed
        raise Locked(
            "Too many failed verifications; try again later",
            keep_changes=True,
            attempts_left=0,
            locked_until=outcome.locked_until.isoformat(),
        )
    return VerifyRead(
        verified=outcome.verified,
        attempts_left=outcome.attempts_left,
        customer=outcome.customer,
    )


@service_router.post("/step-up", response_model=StepUpSent)
def request_step_up(
    step_up_in: StepUpCreate,
    session: SessionDep,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> StepUpSent:
    """Send a one-time code to the customer's phone (never returned here)."""
    return service.request_step_up(
        session, step_up_in=step_up_in, notifier=notifier, settings=settings
    )


@service_router.post(
    "/step-up/verify",
    response_model=StepUpVerified,
    responses={
        **LOCKED_DOC,
        409: {"description": "No active code, or it expired"},
    },
)
def verify_step_up(
    verify_in: StepUpVerify, session: SessionDep, settings: SettingsDep
) -> StepUpVerified:
    """Check the one-time code; the right one yields a short-lived step-up token."""
    outcome = service.verify_step_up(session, verify_in=verify_in, settings=settings)
    if outcome.locked:
        raise Locked(
            "Too many wrong codes; request a new one",
            code="code_locked",
            keep_changes=True,
            attempts_left=0,
        )
    return StepUpVerified(
        verified=outcome.verified,
        attempts_left=outcome.attempts_left,
        purpose=outcome.purpose,
        step_up_token=outcome.token,
        token_expires_at=outcome.token_expires_at,
    )


@service_router.post("/wechat-binding", response_model=WechatBindingRead)
def bind_wechat(
    binding_in: WechatBindingCreate, session: SessionDep
) -> WechatBindingRead:
    """Bind a WeChat openid to the customer verified in the conversation."""
    return service.bind_wechat(session, binding_in=binding_in)


@service_router.get("/wechat/{openid}", response_model=CustomerBrief)
def lookup_wechat(openid: str, session: SessionDep) -> CustomerBrief:
    """The customer bound to this openid (masked), or 404."""
    return service.lookup_wechat(session, openid=openid)
