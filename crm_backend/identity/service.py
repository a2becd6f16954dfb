"""Identity rules: knowledge checks with lock-out, step-up codes, WeChat binding."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Forbidden, Locked, NotFound
from crm_backend.core.masking import mask_phone
from crm_backend.customers import service as customers
from crm_backend.customers.schemas import CustomerBrief
from crm_backend.identity.notifier import Notifier, step_up_text
from crm_backend.identity.schemas import (
    StepUpCreate,
    StepUpPurpose,
    StepUpSent,
    StepUpVerify,
    VerifyCreate,
    WechatBindingCreate,
    WechatBindingRead,
)
from crm_backend.models import (
    Conversation,
    Customer,
    OneTimeCode,
    Policy,
    VerificationAttempt,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import Channel, VerificationLevel, VerificationMethod

# only guesses of a secret count towards a lock-out (a bound openid is not a guess)
GUESSED_METHODS = (VerificationMethod.phone_id, VerificationMethod.policy_birth)
VERIFIED_LEVELS = (VerificationLevel.verified, VerificationLevel.step_up)
STEP_UP_TOKEN_MINUTES = 10
_TOKEN_SALT = "crm-step-up"


@dataclass(frozen=True)
class VerifyOutcome:
    """What a verification attempt produced; ``locked_until`` set means refused."""

    verified: bool
    attempts_left: int
    customer: CustomerBrief | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class StepUpOutcome:
    """A step-up code check: a token, a wrong code, or a code now dead (``locked``)."""

    verified: bool
    attempts_left: int
    locked: bool = False
    purpose: StepUpPurpose | None = None
    token: str | None = None
    token_expires_at: datetime | None = None


def subject_of(verify_in: VerifyCreate) -> str:
    """The key failures are counted under: ``phone:…``, ``policy:…``, ``wechat:…``."""
    value = {
        "phone_id": f"phone:{verify_in.phone}",
        "policy_birth": f"policy:{verify_in.policy_no}",
        "wechat": f"wechat:{verify_in.openid}",
    }[verify_in.method]
    return value[:64]


def _recent_failures(
    session: Session,
    *,
    key: ColumnElement[bool],
    since: datetime,
    limit: int,
) -> list[datetime]:
    """Failures under ``key`` in the window and after the last success, newest first."""
    last_success = session.scalar(
        select(func.max(VerificationAttempt.id)).where(
            key, VerificationAttempt.success.is_(True)
        )
    )
    query = select(VerificationAttempt.created_at).where(
        key,
        VerificationAttempt.success.is_(False),
        VerificationAttempt.method.in_(GUESSED_METHODS),
        VerificationAttempt.created_at >= since,
    )
    if last_success is not None:
        query = query.where(VerificationAttempt.id > last_success)
    return list(
        session.scalars(query.order_by(VerificationAttempt.id.desc()).limit(limit))
    )


def lock_state(
    session: Session,
    *,
    subject: str,
    conversation_id: int | None,
    settings: Settings,
) -> tuple[int, datetime | None]:
    """Failures counted for the subject or conversation, and when a lock ends."""
    window = timedelta(minutes=settings.verify_lockout_minutes)
    limit = settings.verify_max_attempts
    keys = [VerificationAttempt.subject == subject]
    if conversation_id is not None:
        keys.append(VerificationAttempt.conversation_id == conversation_id)
    used = 0
    locked_until: datetime | None = None
    for key in keys:
        failures = _recent_failures(
            session, key=key, since=utcnow() - window, limit=limit
        )
        used = max(used, len(failures))
        if len(failures) >= limit:
            # locked until the oldest of the last ``limit`` failures leaves the window
            until = failures[-1] + window
            locked_until = max(locked_until, until) if locked_until else until
    return used, locked_until


def _record(
    session: Session,
    *,
    subject: str,
    method: VerificationMethod,
    success: bool,
    customer_id: int | None,
    conversation_id: int | None,
) -> None:
    session.add(
        VerificationAttempt(
            subject=subject,
            method=method,
            success=success,
            customer_id=customer_id,
            conversation_id=conversation_id,
        )
    )
    session.flush()


def _candidates(session: Session, verify_in: VerifyCreate) -> list[Customer]:
    """Customers the claimed identifier points at (before checking the secret)."""
    if verify_in.method == "phone_id":
        query = select(Customer).where(Customer.phone == verify_in.phone)
    elif verify_in.method == "policy_birth":
        query = (
            select(Customer)
            .join(Policy, Policy.holder_id == Customer.id)
            .where(Policy.policy_no == verify_in.policy_no)
        )
    else:
        query = select(Customer).where(Customer.wechat_openid == verify_in.openid)
    return list(session.scalars(query.order_by(Customer.id)))


def _matches(customer: Customer, verify_in: VerifyCreate) -> bool:
    if verify_in.method == "phone_id":
        assert verify_in.id_last4 is not None
        return customer.id_number.upper().endswith(verify_in.id_last4)
    if verify_in.method == "policy_birth":
        return customer.birth_date == verify_in.birth_date
    return True  # the openid itself was the proof


def _conversation(session: Session, conversation_id: int | None) -> Conversation | None:
    if conversation_id is None:
        return None
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("Conversation not found", code="conversation_not_found")
    return conversation


def mark_verified(
    session: Session, *, conversation: Conversation, customer_id: int
) -> None:
    """Attach the customer to the conversation as verified (never downgrading)."""
    already = (
        conversation.customer_id == customer_id
        and conversation.verification_level == VerificationLevel.step_up
    )
    conversation.customer_id = customer_id
    if not already:
        conversation.verification_level = VerificationLevel.verified
    conversation.verified_at = utcnow()
    session.flush()


def verify(
    session: Session, *, verify_in: VerifyCreate, settings: Settings
) -> VerifyOutcome:
    """Check one answer; every attempt is recorded, and a locked subject is refused."""
    conversation = _conversation(session, verify_in.conversation_id)
    subject = subject_of(verify_in)
    conversation_id = verify_in.conversation_id
    method = VerificationMethod(verify_in.method)
    limit = settings.verify_max_attempts

    def record(success: bool, customer_id: int | None) -> None:
        _record(
            session,
            subject=subject,
            method=method,
            success=success,
            customer_id=customer_id,
            conversation_id=conversation_id,
        )

    def state() -> tuple[int, datetime | None]:
        return lock_state(
            session,
            subject=subject,
            conversation_id=conversation_id,
            settings=settings,
        )

    if method in GUESSED_METHODS and state()[1] is not None:
        # a refused try still counts, so a guesser keeps the lock on
        record(False, None)
        return VerifyOutcome(False, 0, locked_until=state()[1])
    candidates = _candidates(session, verify_in)
    customer = next((c for c in candidates if _matches(c, verify_in)), None)
    if customer is not None:
        record(True, customer.id)
        if conversation is not None:
            mark_verified(session, conversation=conversation, customer_id=customer.id)
            if conversation.channel == Channel.wechat:
                _bind_openid(
                    session, customer=customer, openid=conversation.external_id
                )
        brief = customers.brief(session, customer=customer)
        return VerifyOutcome(True, limit, customer=brief)
    # remember whom a failed answer was aimed at when that is unambiguous (audit)
    record(False, candidates[0].id if len(candidates) == 1 else None)
    used, locked_until = state()
    return VerifyOutcome(False, max(limit - used, 0), locked_until=locked_until)


def _hash_code(secret_key: str, customer_id: int, code: str) -> str:
    message = f"{customer_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _ensure_verified(
    session: Session, *, conversation_id: int | None, customer_id: int
) -> Conversation | None:
    """The conversation, which must be verified as this customer."""
    conversation = _conversation(session, conversation_id)
    if conversation is not None and (
        conversation.customer_id != customer_id
        or conversation.verification_level not in VERIFIED_LEVELS
    ):
        raise Forbidden(
            "The conversation is not verified as this customer",
            code="verification_required",
        )
    return conversation


def request_step_up(
    session: Session,
    *,
    step_up_in: StepUpCreate,
    notifier: Notifier,
    settings: Settings,
) -> StepUpSent:
    """Create a one-time code and send it; only the latest code of a customer counts."""
    customer = customers.get(session, customer_id=step_up_in.customer_id)
    _ensure_verified(
        session, conversation_id=step_up_in.conversation_id, customer_id=customer.id
    )
    code = f"{secrets.randbelow(10**6):06d}"
    expires_at = utcnow() + timedelta(minutes=settings.step_up_code_ttl_minutes)
    session.add(
        OneTimeCode(
            customer_id=customer.id,
            conversation_id=step_up_in.conversation_id,
            purpose=step_up_in.purpose,
            code_hash=_hash_code(settings.secret_key, customer.id, code),
            expires_at=expires_at,
        )
    )
    session.flush()
    notifier.send(
        session,
        customer=customer,
        body=step_up_text(code, settings.step_up_code_ttl_minutes),
    )
    return StepUpSent(
        sent=True,
        channel=notifier.channel,
        recipient_masked=mask_phone(customer.phone),
        expires_at=expires_at,
    )


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)


def mint_step_up_token(*, customer_id: int, purpose: str, secret_key: str) -> str:
    """A signed token proving a step-up for ``purpose`` (valid 10 minutes)."""
    return _serializer(secret_key).dumps(
        {"customer_id": customer_id, "purpose": purpose}
    )


def check_step_up_token(
    token: str | None, *, customer_id: int, purpose: str, secret_key: str
) -> None:
    """Raise ``Forbidden(step_up_required)`` unless the token fits both arguments."""
    refused = Forbidden(
        "A fresh step-up verification is required", code="step_up_required"
    )
    if not token:
        raise refused
    try:
        data = _serializer(secret_key).loads(token, max_age=STEP_UP_TOKEN_MINUTES * 60)
    except BadSignature as exc:  # also covers SignatureExpired
        raise refused from exc
    if not isinstance(data, dict) or data.get("customer_id") != customer_id:
        raise refused
    if data.get("purpose") != purpose:
        raise refused


def verify_step_up(
    session: Session, *, verify_in: StepUpVerify, settings: Settings
) -> StepUpOutcome:
    """Check a code; a wrong one uses an attempt, the right one yields a token."""
    customer = customers.get(session, customer_id=verify_in.customer_id)
    conversation = _ensure_verified(
        session, conversation_id=verify_in.conversation_id, customer_id=customer.id
    )
    code = session.scalars(
        select(OneTimeCode)
        .where(OneTimeCode.customer_id == customer.id)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    ).first()
    if code is None or code.consumed_at is not None:
        raise Conflict("No code is waiting; request a new one", code="no_active_code")
    limit = settings.step_up_max_attempts
    if code.attempts >= limit:
        raise Locked("Too many wrong codes; request a new one", code="code_locked")
    now = utcnow()
    if code.expires_at <= now:
        raise Conflict("The code has expired; request a new one", code="code_expired")
    subject = f"step_up:{customer.id}"
    given = _hash_code(settings.secret_key, customer.id, verify_in.code)
    if not hmac.compare_digest(given, code.code_hash):
        code.attempts += 1
        _record(
            session,
            subject=subject,
            method=VerificationMethod.step_up,
            success=False,
            customer_id=customer.id,
            conversation_id=verify_in.conversation_id,
        )
        left = max(limit - code.attempts, 0)
        return StepUpOutcome(False, left, locked=left == 0)
    code.consumed_at = now
    _record(
        session,
        subject=subject,
        method=VerificationMethod.step_up,
        success=True,
        customer_id=customer.id,
        conversation_id=verify_in.conversation_id,
    )
    if conversation is not None:
        conversation.verification_level = VerificationLevel.step_up
    session.flush()
    purpose = cast(StepUpPurpose, code.purpose)
    token = mint_step_up_token(
        customer_id=customer.id, purpose=purpose, secret_key=settings.secret_key
    )
    return StepUpOutcome(
        True,
        limit - code.attempts,
        purpose=purpose,
        token=token,
        token_expires_at=now + timedelta(minutes=STEP_UP_TOKEN_MINUTES),
    )


def _bind_openid(session: Session, *, customer: Customer, openid: str) -> bool:
    """Bind ``openid`` to ``customer`` unless another customer holds it (then False).

    Verifying on WeChat binds the account, so the customer's next chat there starts
    verified. An openid bound to someone else (a relative's phone, say) stays theirs.
    """
    holder = session.scalars(
        select(Customer).where(Customer.wechat_openid == openid)
    ).first()
    if holder is not None and holder.id != customer.id:
        return False
    if holder is None or customer.wechat_bound_at is None:
        customer.wechat_openid = openid
        customer.wechat_bound_at = utcnow()
        session.flush()
    return True


def bind_wechat(
    session: Session, *, binding_in: WechatBindingCreate
) -> WechatBindingRead:
    """Bind an openid to a customer verified in the given conversation."""
    customer = customers.get(session, customer_id=binding_in.customer_id)
    _ensure_verified(
        session, conversation_id=binding_in.conversation_id, customer_id=customer.id
    )
    if not _bind_openid(session, customer=customer, openid=binding_in.openid):
        raise Conflict(
            "This WeChat account is bound to another customer",
            code="openid_bound_elsewhere",
        )
    assert customer.wechat_bound_at is not None
    return WechatBindingRead(
        customer=customers.brief(session, customer=customer),
        openid=binding_in.openid,
        bound_at=customer.wechat_bound_at,
    )


def lookup_wechat(session: Session, *, openid: str) -> CustomerBrief:
    """The customer bound to ``openid``, or ``NotFound``."""
    customer = session.scalars(
        select(Customer).where(Customer.wechat_openid == openid)
    ).first()
    if customer is None:
        raise NotFound("No customer is bound to this WeChat account", code="not_bound")
    return customers.brief(session, customer=customer)
