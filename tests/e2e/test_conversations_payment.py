"""Payments through the REST channel: real Rasa, action server and CRM.

林慧敏 (VIP) cannot pay this year: after verification she gets her options, the CRM
records a payment_difficulty churn signal for her and an escalation with that
trigger on the retention topic, and the bot hands her over. 吴秀英 changes the
debit card in chat: verification, the one-time code from the CRM's outbox, the
policy, the new card; the CRM holds the new account only after that.
"""

from __future__ import annotations

import secrets
import uuid

import pytest

from tests.e2e.chat import crm_get, customer_id, db_scalar, say, slots
from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer, outbox_code

pytestmark = pytest.mark.rasa

LIN_HUIMIN = ("13800138002", "1249")
WU_XIUYING = ("13800138006", "2427")
SIGNALS = (
    "SELECT count(*) FROM customer_signals "
    "WHERE customer_id = :customer AND kind = :kind"
)


def _card_number(prefix: str = "622588") -> str:
    """A 16-digit card number with a valid Luhn check digit."""
    body = prefix + "".join(str(secrets.randbelow(10)) for _ in range(15 - len(prefix)))

    def luhn(digits: str) -> bool:
        total = 0
        for position, char in enumerate(reversed(digits)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        return total % 10 == 0

    return next(body + d for d in "0123456789" if luhn(body + d))


def test_vip_payment_difficulty_is_recorded_and_escalated(
    live_crm: LiveCrm, rasa_server: RasaServer
) -> None:
    customer = customer_id(live_crm, *LIN_HUIMIN)
    before = db_scalar(live_crm, SIGNALS, customer=customer, kind="payment_difficulty")
    sender = f"e2e-difficulty-{uuid.uuid4().hex[:8]}"

    first = say(rasa_server, sender, "今年生意不好，保费实在交不起了")
    assert "核实" in first and "手机" in first, first
    say(rasa_server, sender, LIN_HUIMIN[0])
    answer = say(rasa_server, sender, LIN_HUIMIN[1])
    assert "理解您的难处" in answer, answer
    assert "专属的服务人员" in answer, answer

    after = db_scalar(live_crm, SIGNALS, customer=customer, kind="payment_difficulty")
    assert after == before + 1
    conversation_id = slots(rasa_server, sender)["conversation_id"]
    conversation = crm_get(live_crm, f"/conversations/{conversation_id}")
    assert conversation["customer_id"] == customer
    assert conversation["status"] in ("queued", "agent")
    escalation = crm_get(live_crm, f"/escalations/{conversation['open_escalation_id']}")
    assert escalation["trigger"] == "payment_difficulty"
    assert escalation["topic"] == "retention"
    signal_conversation = db_scalar(
        live_crm,
        "SELECT conversation_id FROM customer_signals WHERE customer_id = :customer "
        "AND kind = 'payment_difficulty' ORDER BY id DESC LIMIT 1",
        customer=customer,
    )
    assert signal_conversation == conversation_id


def test_debit_card_changes_only_after_the_code(
    live_crm: LiveCrm, rasa_server: RasaServer
) -> None:
    customer = customer_id(live_crm, *WU_XIUYING)
    policies = {
        p["policy_no"]: p
        for p in crm_get(live_crm, f"/customers/{customer}/policies")["items"]
    }
    changeable = [
        no
        for no, p in policies.items()
        if p["status"] in ("in_force", "grace")
        and p["customer_role"] in ("holder", "holder_insured")
        and p["payment_frequency"] != "single"
    ]
    assert changeable, "吴秀英 pays premiums in the demo book"
    sender = f"e2e-card-{uuid.uuid4().hex[:8]}"

    assert "核实" in say(rasa_server, sender, "我要换扣款银行卡")
    say(rasa_server, sender, WU_XIUYING[0])
    sent = say(rasa_server, sender, WU_XIUYING[1])
    assert "验证码已发送至138****8006" in sent, sent
    assert "验证码是6位数字" not in sent, sent  # nothing was typed yet

    code = outbox_code(live_crm.database_url, customer)
    assert code
    asked = say(rasa_server, sender, code)
    assert "验证通过" in asked, asked
    target = changeable[-1]
    if len(changeable) > 1:
        assert "哪张保单" in asked, asked
        asked = say(rasa_server, sender, target)
    assert slots(rasa_server, sender)["debit_policy"] == target
    assert "哪家银行" in asked, asked
    # nothing has changed yet
    unchanged = crm_get(live_crm, f"/customers/{customer}/policies")["items"]
    assert {p["policy_no"]: p for p in unchanged} == policies

    card = _card_number()
    done = say(rasa_server, sender, f"招商银行 {card}")
    masked = "*" * (len(card) - 4) + card[-4:]
    assert f"保单{target}的扣款账户变更为招商银行（{masked}）" in done, done
    after = {
        p["policy_no"]: p
        for p in crm_get(live_crm, f"/customers/{customer}/policies")["items"]
    }
    assert after[target]["debit_bank"] == "招商银行"
    assert after[target]["debit_account_masked"] == masked
    others = {no: p for no, p in after.items() if no != target}
    assert others == {no: p for no, p in policies.items() if no != target}
