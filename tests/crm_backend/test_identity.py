"""Identity: knowledge checks with lock-out, step-up codes and tokens, WeChat."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from crm_backend.core.errors import Conflict, Forbidden, Locked, NotFound
from crm_backend.identity import service
from crm_backend.identity.notifier import OutboxNotifier, get_notifier, step_up_text
from crm_backend.identity.schemas import (
    StepUpCreate,
    StepUpVerify,
    VerifyCreate,
    WechatBindingCreate,
)
from crm_backend.models import (
    Conversation,
    Customer,
    CustomerScore,
    OneTimeCode,
    OutboxMessage,
    VerificationAttempt,
)
from crm_backend.models.enums import (
    Channel,
    Gender,
    RiskLevel,
    ValueTier,
    VerificationLevel,
    VerificationMethod,
)
from tests.factories import make_conversation, make_customer, make_policy

VERIFY = "/api/v1/service/identity/verify"
STEP_UP = "/api/v1/service/identity/step-up"
STEP_UP_VERIFY = "/api/v1/service/identity/step-up/verify"
BINDING = "/api/v1/service/identity/wechat-binding"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

PHONE = "13812345678"
ID_NUMBER = "11010119850615123X"


@pytest.fixture()
def customer(session) -> Customer:
    """A customer whose ID number ends in X."""
    return make_customer(
        session, name="张伟", gender=Gender.male, phone=PHONE, id_number=ID_NUMBER
    )


def _phone_id(phone: str = PHONE, last4: str = "123x", **extra) -> dict:
    return {"method": "phone_id", "phone": phone, "id_last4": last4, **extra}


def _assert_masked(text: str, customer: Customer) -> None:
    assert customer.phone not in text
    assert customer.id_number not in text
    assert customer.id_number.lower() not in text


def _attempts(session, subject: str) -> list[VerificationAttempt]:
    return list(
        session.scalars(
            select(VerificationAttempt)
            .where(VerificationAttempt.subject == subject)
            .order_by(VerificationAttempt.id)
        )
    )


def _sent_code(session, customer: Customer) -> str:
    body = session.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.customer_id == customer.id)
        .order_by(OutboxMessage.id.desc())
    ).first()
    match = re.search(r"验证码为(\d{6})", body or "")
    assert match, body
    return match.group(1)


def _verified_conversation(session, customer: Customer) -> Conversation:
    conversation = make_conversation(session, customer=customer)
    conversation.verification_level = VerificationLevel.verified
    session.flush()
    return conversation


# --- knowledge checks --------------------------------------------------------------


def test_phone_and_id_last4_verify_and_attach_conversation(
    client, session, service_headers, customer
):
    conversation = make_conversation(session)
    response = client.post(
        VERIFY,
        json=_phone_id(phone="+86 138-1234-5678", conversation_id=conversation.id),
        headers=service_headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True and body["attempts_left"] == 3
    assert body["customer"] == {
        "id": customer.id,
        "customer_no": customer.customer_no,
        "name": "张伟",
        "salutation": "张先生",
        "gender": "male",
        "phone_masked": "138****5678",
        "value_tier": "standard",
    }
    _assert_masked(response.text, customer)
    session.refresh(conversation)
    assert conversation.customer_id == customer.id
    assert conversation.verification_level == VerificationLevel.verified
    assert conversation.verified_at is not None
    [attempt] = _attempts(session, f"phone:{PHONE}")
    assert attempt.success and attempt.customer_id == customer.id
    assert attempt.conversation_id == conversation.id


def test_verifying_on_wechat_binds_the_openid(
    client, session, service_headers, customer
):
    wechat = make_conversation(session, channel=Channel.wechat)
    response = client.post(
        VERIFY,
        json=_phone_id(phone=PHONE, conversation_id=wechat.id),
        headers=service_headers,
    )
    assert response.status_code == 200 and response.json()["verified"] is True
    session.refresh(customer)
    assert customer.wechat_openid == wechat.external_id
    assert customer.wechat_bound_at is not None
    # the next WeChat chat of this openid starts verified as this customer
    found = client.get(
        f"/api/v1/service/identity/wechat/{wechat.external_id}",
        headers=service_headers,
    )
    assert found.status_code == 200 and found.json()["id"] == customer.id


def test_verifying_on_wechat_keeps_an_openid_bound_to_someone_else(
    client, session, service_headers, customer
):
    other = make_customer(session, wechat_openid="oWx-relative")
    wechat = make_conversation(session, channel=Channel.wechat)
    wechat.external_id = "oWx-relative"
    session.flush()
    response = client.post(
        VERIFY,
        json=_phone_id(phone=PHONE, conversation_id=wechat.id),
        headers=service_headers,
    )
    assert response.status_code == 200 and response.json()["verified"] is True
    session.refresh(customer)
    session.refresh(other)
    assert customer.wechat_openid is None
    assert other.wechat_openid == "oWx-relative"


def test_verifying_on_the_web_binds_nothing(client, session, service_headers, customer):
    web = make_conversation(session)
    client.post(
        VERIFY,
        json=_phone_id(phone=PHONE, conversation_id=web.id),
        headers=service_headers,
    )
    session.refresh(customer)
    assert customer.wechat_openid is None


def test_shared_phone_matches_the_customer_whose_id_ends_with_the_digits(
    session, settings
):
    make_customer(session, phone="13900001111", id_number="310101199001011111")
    wanted = make_customer(session, phone="13900001111", id_number="310101199202022222")
    outcome = service.verify(
        session,
        verify_in=VerifyCreate(method="phone_id", phone="13900001111", id_last4="2222"),
        settings=settings,
    )
    assert outcome.verified and outcome.customer is not None
    assert outcome.customer.id == wanted.id


def test_failure_does_not_reveal_whether_the_phone_exists(
    client, session, service_headers, customer
):
    wrong_digits = client.post(
        VERIFY, json=_phone_id(last4="9999"), headers=service_headers
    )
    unknown_phone = client.post(
        VERIFY, json=_phone_id(phone="13700000000"), headers=service_headers
    )
    assert wrong_digits.status_code == unknown_phone.status_code == 200
    assert (
        wrong_digits.json()
        == unknown_phone.json()
        == {
            "verified": False,
            "attempts_left": 2,
            "customer": None,
        }
    )
    # the audit row knows whom the wrong answer was aimed at; the answer did not say
    assert _attempts(session, f"phone:{PHONE}")[0].customer_id == customer.id
    assert _attempts(session, "phone:13700000000")[0].customer_id is None


def test_three_failures_lock_out_and_a_correct_answer_is_then_refused(
    client, session, service_headers, customer
):
    with time_machine.travel(START, tick=False):
        lefts = [
            client.post(VERIFY, json=_phone_id(last4="0000"), headers=service_headers)
            for _ in range(2)
        ]
        assert [r.json()["attempts_left"] for r in lefts] == [2, 1]
        third = client.post(
            VERIFY, json=_phone_id(last4="0000"), headers=service_headers
        )
        assert third.status_code == 423
        error = third.json()["error"]
        assert error["code"] == "locked" and error["attempts_left"] == 0
        locked_until = datetime.fromisoformat(error["locked_until"])
        assert locked_until == START + timedelta(minutes=30)

        right = client.post(VERIFY, json=_phone_id(), headers=service_headers)
        assert right.status_code == 423
        _assert_masked(right.text, customer)
        assert "customer" not in right.json()["error"]
    attempts = _attempts(session, f"phone:{PHONE}")
    assert [a.success for a in attempts] == [False] * 4


def test_lock_expires_after_the_lockout_window(
    client, session, service_headers, customer
):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(3):
            client.post(VERIFY, json=_phone_id(last4="0000"), headers=service_headers)
        traveller.shift(timedelta(minutes=29))
        assert (
            client.post(VERIFY, json=_phone_id(), headers=service_headers).status_code
            == 423
        )
        # the refused try at minute 29 counts: the lock now ends when the second
        # failure (minute 0) leaves the window, i.e. still minute 30
        traveller.shift(timedelta(minutes=1, seconds=1))
        response = client.post(VERIFY, json=_phone_id(), headers=service_headers)
    assert response.status_code == 200
    assert response.json()["verified"] is True


def test_lock_uses_the_configured_limits(session, settings, customer):
    settings.verify_max_attempts = 2
    settings.verify_lockout_minutes = 5
    wrong = VerifyCreate(method="phone_id", phone=PHONE, id_last4="0000")
    with time_machine.travel(START, tick=False) as traveller:
        assert (
            service.verify(session, verify_in=wrong, settings=settings).attempts_left
            == 1
        )
        locked = service.verify(session, verify_in=wrong, settings=settings)
        assert locked.locked_until == START + timedelta(minutes=5)
        traveller.shift(timedelta(minutes=5, seconds=1))
        right = VerifyCreate(method="phone_id", phone=PHONE, id_last4="123X")
        assert service.verify(session, verify_in=right, settings=settings).verified


def test_failures_are_counted_per_conversation_across_phones(
    client, session, service_headers, customer
):
    conversation = make_conversation(session)
    for phone in ("13700000001", "13700000002"):
        response = client.post(
            VERIFY,
            json=_phone_id(phone=phone, conversation_id=conversation.id),
            headers=service_headers,
        )
        assert response.status_code == 200
    third = client.post(
        VERIFY,
        json=_phone_id(phone="13700000003", conversation_id=conversation.id),
        headers=service_headers,
    )
    assert third.status_code == 423
    # the real customer's own answer in that conversation is refused too …
    refused = client.post(
        VERIFY, json=_phone_id(conversation_id=conversation.id), headers=service_headers
    )
    assert refused.status_code == 423
    session.refresh(conversation)
    assert conversation.customer_id is None
    assert conversation.verification_level == VerificationLevel.none
    # … but the phone itself is not locked: another conversation verifies
    other = make_conversation(session)
    ok = client.post(
        VERIFY, json=_phone_id(conversation_id=other.id), headers=service_headers
    )
    assert ok.status_code == 200 and ok.json()["verified"] is True


def test_a_success_resets_the_failure_count(session, settings, customer):
    wrong = VerifyCreate(method="phone_id", phone=PHONE, id_last4="0000")
    right = VerifyCreate(method="phone_id", phone=PHONE, id_last4="123X")
    service.verify(session, verify_in=wrong, settings=settings)
    service.verify(session, verify_in=wrong, settings=settings)
    assert service.verify(session, verify_in=right, settings=settings).verified
    after = service.verify(session, verify_in=wrong, settings=settings)
    assert after.attempts_left == 2 and after.locked_until is None


def test_lock_state_reports_failures_and_lock_end(session, settings, customer):
    with time_machine.travel(START, tick=False):
        assert service.lock_state(
            session, subject=f"phone:{PHONE}", conversation_id=None, settings=settings
        ) == (0, None)
        wrong = VerifyCreate(method="phone_id", phone=PHONE, id_last4="0000")
        for _ in range(3):
            service.verify(session, verify_in=wrong, settings=settings)
        assert service.lock_state(
            session, subject=f"phone:{PHONE}", conversation_id=None, settings=settings
        ) == (3, START + timedelta(minutes=30))


def test_policy_number_and_birth_date(client, session, service_headers, customer):
    policy = make_policy(session, holder=customer)
    ok = client.post(
        VERIFY,
        json={
            "method": "policy_birth",
            "policy_no": f" {policy.policy_no.lower()} ",
            "birth_date": "1985-06-15",
        },
        headers=service_headers,
    )
    assert ok.status_code == 200 and ok.json()["customer"]["id"] == customer.id
    _assert_masked(ok.text, customer)
    wrong = client.post(
        VERIFY,
        json={
            "method": "policy_birth",
            "policy_no": policy.policy_no,
            "birth_date": "1985-06-16",
        },
        headers=service_headers,
    )
    assert wrong.json() == {"verified": False, "attempts_left": 2, "customer": None}
    assert [a.success for a in _attempts(session, f"policy:{policy.policy_no}")] == [
        True,
        False,
    ]


def test_insured_person_is_not_the_policy_holder(session, settings, customer):
    insured = make_customer(session, birth_date=date(2010, 1, 1))
    policy = make_policy(session, holder=customer, insured=insured)
    outcome = service.verify(
        session,
        verify_in=VerifyCreate(
            method="policy_birth",
            policy_no=policy.policy_no,
            birth_date=date(2010, 1, 1),
        ),
        settings=settings,
    )
    assert not outcome.verified


def test_bound_openid_verifies_and_unbound_one_does_not_count(
    session, settings, customer
):
    customer.wechat_openid = "o-bound"
    session.flush()
    conversation = make_conversation(session)
    outcome = service.verify(
        session,
        verify_in=VerifyCreate(
            method="wechat", openid="o-bound", conversation_id=conversation.id
        ),
        settings=settings,
    )
    assert outcome.verified and conversation.customer_id == customer.id
    other = make_conversation(session)
    for _ in range(4):
        miss = service.verify(
            session,
            verify_in=VerifyCreate(
                method="wechat", openid="o-unknown", conversation_id=other.id
            ),
            settings=settings,
        )
        assert not miss.verified and miss.attempts_left == 3
    assert miss.locked_until is None
    assert all(
        a.method == VerificationMethod.wechat
        for a in _attempts(session, "wechat:o-unknown")
    )


def test_verify_never_downgrades_a_stepped_up_conversation(session, settings, customer):
    conversation = make_conversation(session, customer=customer)
    conversation.verification_level = VerificationLevel.step_up
    session.flush()
    right = VerifyCreate(
        method="phone_id", phone=PHONE, id_last4="123X", conversation_id=conversation.id
    )
    assert service.verify(session, verify_in=right, settings=settings).verified
    assert conversation.verification_level == VerificationLevel.step_up


@pytest.mark.parametrize(
    "payload",
    [
        {"method": "phone_id", "phone": PHONE},
        {"method": "phone_id", "phone": PHONE, "id_last4": "12A4"},
        {"method": "policy_birth", "policy_no": "P1"},
        {"method": "wechat"},
        {"method": "password"},
    ],
)
def test_verify_rejects_incomplete_input(client, service_headers, payload):
    response = client.post(VERIFY, json=payload, headers=service_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_verify_unknown_conversation_is_404_and_records_nothing(
    client, session, service_headers, customer
):
    response = client.post(
        VERIFY, json=_phone_id(conversation_id=987654321), headers=service_headers
    )
    assert response.status_code == 404
    assert _attempts(session, f"phone:{PHONE}") == []


def test_identity_endpoints_need_the_service_token(client, customer):
    assert client.post(VERIFY, json=_phone_id()).status_code == 401
    assert client.get("/api/v1/service/identity/wechat/x").status_code == 401


# --- step-up -----------------------------------------------------------------------


def test_step_up_happy_path(client, session, service_headers, customer):
    conversation = _verified_conversation(session, customer)
    with time_machine.travel(START, tick=False):
        sent = client.post(
            STEP_UP,
            json={
                "customer_id": customer.id,
                "purpose": "update_contact",
                "conversation_id": conversation.id,
            },
            headers=service_headers,
        )
    assert sent.status_code == 200
    assert sent.json() == {
        "sent": True,
        "channel": "sms",
        "recipient_masked": "138****5678",
        "expires_at": "2025-03-03T09:10:00Z",
    }
    _assert_masked(sent.text, customer)
    [outbox] = session.scalars(
        select(OutboxMessage).where(OutboxMessage.customer_id == customer.id)
    ).all()
    assert outbox.channel == "sms" and outbox.recipient == PHONE
    code = _sent_code(session, customer)
    assert outbox.body == f"【安顺人寿】您的验证码为{code}，10分钟内有效，请勿泄露。"
    assert code not in sent.text
    [row] = session.scalars(
        select(OneTimeCode).where(OneTimeCode.customer_id == customer.id)
    ).all()
    assert row.purpose == "update_contact" and code not in row.code_hash
    assert len(row.code_hash) == 64

    with time_machine.travel(START + timedelta(minutes=9), tick=False):
        ok = client.post(
            STEP_UP_VERIFY,
            json={
                "customer_id": customer.id,
                "code": code,
                "conversation_id": conversation.id,
            },
            headers=service_headers,
        )
    assert ok.status_code == 200
    body = ok.json()
    assert body["verified"] is True and body["purpose"] == "update_contact"
    assert body["token_expires_at"] == "2025-03-03T09:19:00Z"
    assert body["step_up_token"]
    session.refresh(conversation)
    session.refresh(row)
    assert conversation.verification_level == VerificationLevel.step_up
    assert row.consumed_at is not None
    # a used code cannot be used again
    again = client.post(
        STEP_UP_VERIFY,
        json={"customer_id": customer.id, "code": code},
        headers=service_headers,
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "no_active_code"


def test_wrong_codes_use_up_attempts_then_the_code_is_dead(
    client, session, service_headers, customer
):
    client.post(
        STEP_UP,
        json={"customer_id": customer.id, "purpose": "update_contact"},
        headers=service_headers,
    )
    code = _sent_code(session, customer)
    wrong = "000000" if code != "000000" else "111111"
    payload = {"customer_id": customer.id, "code": wrong}
    first = client.post(STEP_UP_VERIFY, json=payload, headers=service_headers)
    assert first.status_code == 200
    assert first.json() == {
        "verified": False,
        "attempts_left": 2,
        "purpose": None,
        "step_up_token": None,
        "token_expires_at": None,
    }
    assert (
        client.post(STEP_UP_VERIFY, json=payload, headers=service_headers).json()[
            "attempts_left"
        ]
        == 1
    )
    third = client.post(STEP_UP_VERIFY, json=payload, headers=service_headers)
    assert third.status_code == 423
    assert third.json()["error"]["code"] == "code_locked"
    right = client.post(
        STEP_UP_VERIFY,
        json={"customer_id": customer.id, "code": code},
        headers=service_headers,
    )
    assert right.status_code == 423
    row = session.scalars(
        select(OneTimeCode).where(OneTimeCode.customer_id == customer.id)
    ).one()
    assert row.attempts == 3 and row.consumed_at is None
    failures = _attempts(session, f"step_up:{customer.id}")
    assert [a.success for a in failures] == [False, False, False]


def test_expired_code_is_refused(client, session, service_headers, customer):
    with time_machine.travel(START, tick=False) as traveller:
        client.post(
            STEP_UP,
            json={"customer_id": customer.id, "purpose": "update_contact"},
            headers=service_headers,
        )
        code = _sent_code(session, customer)
        traveller.shift(timedelta(minutes=10))
        response = client.post(
            STEP_UP_VERIFY,
            json={"customer_id": customer.id, "code": code},
            headers=service_headers,
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "code_expired"


def test_a_new_code_replaces_the_old_one(session, settings, customer):
    notifier = OutboxNotifier()
    request = StepUpCreate(customer_id=customer.id, purpose="change_bank")
    service.request_step_up(
        session, step_up_in=request, notifier=notifier, settings=settings
    )
    old = _sent_code(session, customer)
    service.request_step_up(
        session, step_up_in=request, notifier=notifier, settings=settings
    )
    new = _sent_code(session, customer)
    if old != new:
        stale = service.verify_step_up(
            session,
            verify_in=StepUpVerify(customer_id=customer.id, code=old),
            settings=settings,
        )
        assert not stale.verified
    fresh = service.verify_step_up(
        session,
        verify_in=StepUpVerify(customer_id=customer.id, code=f" {new} "),
        settings=settings,
    )
    assert fresh.verified and fresh.purpose == "change_bank" and fresh.token


def test_step_up_without_any_code_is_409(client, service_headers, customer):
    response = client.post(
        STEP_UP_VERIFY,
        json={"customer_id": customer.id, "code": "123456"},
        headers=service_headers,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_active_code"


def test_step_up_needs_a_conversation_verified_as_that_customer(
    client, session, service_headers, settings, customer
):
    unverified = make_conversation(session, customer=customer)
    someone_else = _verified_conversation(session, make_customer(session))
    for conversation in (unverified, someone_else):
        response = client.post(
            STEP_UP,
            json={
                "customer_id": customer.id,
                "purpose": "update_contact",
                "conversation_id": conversation.id,
            },
            headers=service_headers,
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "verification_required"
    assert (
        session.scalar(
            select(func.count())
            .select_from(OneTimeCode)
            .where(OneTimeCode.customer_id == customer.id)
        )
        == 0
    )
    with pytest.raises(Forbidden):
        service.verify_step_up(
            session,
            verify_in=StepUpVerify(
                customer_id=customer.id, code="123456", conversation_id=unverified.id
            ),
            settings=settings,
        )


def test_step_up_unknown_customer_is_404(client, service_headers):
    response = client.post(
        STEP_UP,
        json={"customer_id": 987654321, "purpose": "update_contact"},
        headers=service_headers,
    )
    assert response.status_code == 404
    bad_purpose = client.post(
        STEP_UP, json={"customer_id": 1, "purpose": "anything"}, headers=service_headers
    )
    assert bad_purpose.status_code == 422


def test_the_notifier_is_pluggable(client, session, service_headers, customer):
    class Recorder:
        channel = "wechat_template"

        def __init__(self) -> None:
            self.sent: list[tuple[int, str]] = []

        def send(self, session, *, customer, body) -> None:
            self.sent.append((customer.id, body))

    recorder = Recorder()
    client.app.dependency_overrides[get_notifier] = lambda: recorder
    response = client.post(
        STEP_UP,
        json={"customer_id": customer.id, "purpose": "update_contact"},
        headers=service_headers,
    )
    assert (
        response.status_code == 200 and response.json()["channel"] == "wechat_template"
    )
    [(customer_id, body)] = recorder.sent
    assert customer_id == customer.id and re.search(r"验证码为\d{6}", body)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_step_up_text_and_outbox_notifier(session, customer):
    assert (
        step_up_text("123456", 5)
        == "【安顺人寿】您的验证码为123456，5分钟内有效，请勿泄露。"
    )
    OutboxNotifier().send(session, customer=customer, body="hello")
    row = session.scalars(select(OutboxMessage)).one()
    assert (row.customer_id, row.channel, row.recipient, row.body, row.sent_at) == (
        customer.id,
        "sms",
        PHONE,
        "hello",
        None,
    )


def test_step_up_tokens_fit_only_their_customer_purpose_and_time(settings):
    key = settings.secret_key
    with time_machine.travel(START, tick=False) as traveller:
        token = service.mint_step_up_token(
            customer_id=7, purpose="update_contact", secret_key=key
        )
        service.check_step_up_token(
            token, customer_id=7, purpose="update_contact", secret_key=key
        )
        refused = [
            (None, 7, "update_contact", key),
            (token, 8, "update_contact", key),
            (token, 7, "change_bank", key),
            (token, 7, "update_contact", "another-key"),
            (token + "x", 7, "update_contact", key),
        ]
        for given, customer_id, purpose, secret in refused:
            with pytest.raises(Forbidden) as info:
                service.check_step_up_token(
                    given, customer_id=customer_id, purpose=purpose, secret_key=secret
                )
            assert info.value.code == "step_up_required"
        traveller.shift(timedelta(minutes=10, seconds=1))
        with pytest.raises(Forbidden):
            service.check_step_up_token(
                token, customer_id=7, purpose="update_contact", secret_key=key
            )


# --- WeChat binding ----------------------------------------------------------------


def test_wechat_binding_and_lookup(client, session, service_headers, customer):
    conversation = _verified_conversation(session, customer)
    payload = {
        "customer_id": customer.id,
        "openid": "oWx-123",
        "conversation_id": conversation.id,
    }
    with time_machine.travel(START, tick=False):
        bound = client.post(BINDING, json=payload, headers=service_headers)
    assert bound.status_code == 200
    assert bound.json()["bound_at"] == "2025-03-03T09:00:00Z"
    assert bound.json()["customer"]["phone_masked"] == "138****5678"
    _assert_masked(bound.text, customer)
    session.refresh(customer)
    assert customer.wechat_openid == "oWx-123"
    # binding again is idempotent and keeps the first time
    again = client.post(BINDING, json=payload, headers=service_headers)
    assert (
        again.status_code == 200
        and again.json()["bound_at"] == bound.json()["bound_at"]
    )

    found = client.get(
        "/api/v1/service/identity/wechat/oWx-123", headers=service_headers
    )
    assert found.status_code == 200 and found.json()["id"] == customer.id
    _assert_masked(found.text, customer)
    missing = client.get(
        "/api/v1/service/identity/wechat/nobody", headers=service_headers
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_bound"


def test_an_openid_bound_to_another_customer_is_409(
    client, session, service_headers, customer
):
    make_customer(session, wechat_openid="oWx-taken")
    conversation = _verified_conversation(session, customer)
    response = client.post(
        BINDING,
        json={
            "customer_id": customer.id,
            "openid": "oWx-taken",
            "conversation_id": conversation.id,
        },
        headers=service_headers,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "openid_bound_elsewhere"
    session.refresh(customer)
    assert customer.wechat_openid is None


def test_binding_needs_a_verified_conversation(
    client, session, service_headers, customer
):
    conversation = make_conversation(session, customer=customer)
    response = client.post(
        BINDING,
        json={
            "customer_id": customer.id,
            "openid": "oWx-1",
            "conversation_id": conversation.id,
        },
        headers=service_headers,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verification_required"
    missing = client.post(
        BINDING,
        json={"customer_id": customer.id, "openid": "oWx-1", "conversation_id": 987654},
        headers=service_headers,
    )
    assert missing.status_code == 404
    session.refresh(customer)
    assert customer.wechat_openid is None and customer.wechat_bound_at is None


def test_service_functions_raise_domain_errors(session, settings, customer):
    with pytest.raises(NotFound):
        service.lookup_wechat(session, openid="none")
    with pytest.raises(NotFound):
        service.bind_wechat(
            session,
            binding_in=WechatBindingCreate(
                customer_id=987654, openid="x", conversation_id=1
            ),
        )
    make_customer(session, wechat_openid="oWx-2")
    conversation = _verified_conversation(session, customer)
    with pytest.raises(Conflict):
        service.bind_wechat(
            session,
            binding_in=WechatBindingCreate(
                customer_id=customer.id, openid="oWx-2", conversation_id=conversation.id
            ),
        )
    service.request_step_up(
        session,
        step_up_in=StepUpCreate(customer_id=customer.id, purpose="update_contact"),
        notifier=OutboxNotifier(),
        settings=settings,
    )
    settings.step_up_max_attempts = 1
    dead = service.verify_step_up(
        session,
        verify_in=StepUpVerify(customer_id=customer.id, code="abcdef"),
        settings=settings,
    )
    assert dead.locked and dead.attempts_left == 0
    with pytest.raises(Locked):
        service.verify_step_up(
            session,
            verify_in=StepUpVerify(customer_id=customer.id, code="abcdef"),
            settings=settings,
        )


def test_brief_reports_the_stored_value_tier(session, settings, customer):
    session.add(
        CustomerScore(
            customer_id=customer.id,
            value_tier=ValueTier.vip,
            churn_risk=RiskLevel.high,
        )
    )
    session.flush()
    outcome = service.verify(
        session,
        verify_in=VerifyCreate(method="phone_id", phone=PHONE, id_last4="123X"),
        settings=settings,
    )
    assert outcome.customer is not None and outcome.customer.value_tier == ValueTier.vip
