"""Payments (capability 3): methods, failed debits, payment difficulty, surrender.

Every action shows personal data, so each is a ``VerifiedCrmAction``. The CRM owns
the facts (grace countdown, loan available, surrender value, failure advice); these
actions choose what applies to this customer's policies and phrase it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import DomainDict, Events, VerifiedCrmAction
from actions.crm.client import CrmClient
from actions.crm.payment import PolicyFacts
from actions.debit_card import start_card_change, wants_card_change
from actions.enquiry_format import (
    POLICY_NO,
    cn_date,
    entity_value,
    find_number,
    money,
    request_entities,
)
from actions.handoff import escalate

HIGH_VALUE_TIERS = ("vip", "gold")
PAYMENTS_PER_YEAR = {"annual": 1, "semiannual": 2, "quarterly": 4, "monthly": 12}
# products whose cash value can be turned into a smaller, fully paid-up cover
PAID_UP_TYPES = ("critical_illness", "life", "annuity")
PAYMENT_CHANNELS = (
    "目前支持以下缴费方式：\n"
    "1. 银行卡自动扣款：到期自动从您的扣款账户扣费，最省心；\n"
    "2. 安顺人寿App或微信公众号：用微信支付、支付宝随时主动缴费；\n"
    "3. 柜面缴费：携带身份证件到任一营业网点办理；\n"
    "4. 银行转账：转账至公司指定账户，备注保单号。"
)
CHANGE_HINT = (
    "想更换扣款银行卡，直接跟我说“我要换扣款银行卡”，短信验证后我在这里为您办理；"
    "如想调整缴费频率（如年缴改月缴），可在下一个保单周年日前通过App或柜面申请。"
)


def conversation_id(tracker: Tracker) -> int | None:
    """The CRM conversation id in the tracker, if the gateway or identity set one."""
    value = tracker.get_slot(names.CONVERSATION_ID)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def asked_policy_no(tracker: Tracker, intents: tuple[str, ...]) -> str | None:
    """A policy number the customer named with the request (entity or text)."""
    value = entity_value(request_entities(tracker, intents), "policy_number")
    return find_number(value, POLICY_NO) or find_number(
        (tracker.latest_message or {}).get("text"), POLICY_NO
    )


def latest_text(tracker: Tracker, intents: tuple[str, ...]) -> str:
    """The text of the latest user message with one of ``intents`` (or the last)."""
    for event in reversed(tracker.events or []):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in intents:
            return str(event.get("text") or "")
    return str((tracker.latest_message or {}).get("text") or "")


def premiums_paid_fen(policy: PolicyFacts) -> int:
    """Premiums paid so far, from the start date to the paid-to date."""
    if policy.payment_frequency == "single" or policy.paid_to_date is None:
        return policy.premium_fen
    per_year = PAYMENTS_PER_YEAR.get(policy.payment_frequency, 1)
    months = (policy.paid_to_date.year - policy.start_date.year) * 12 + (
        policy.paid_to_date.month - policy.start_date.month
    )
    periods = max(months * per_year // 12, 1)
    if policy.payment_years:
        periods = min(periods, policy.payment_years * per_year)
    return periods * policy.premium_fen


def policy_title(policy: PolicyFacts) -> str:
    """保单P4100000000006（康惠多倍保重大疾病保险）."""
    return f"保单{policy.policy_no}（{policy.product_name}）"


async def escalate_or_offer(
    crm: CrmClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    trigger: str | None,
    reason: str,
    topic: str | None = None,
) -> Events:
    """Escalate (actions/handoff.py) when a trigger fired, else offer a person."""
    if trigger is None:
        dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)
        return []
    return await escalate(
        crm, dispatcher, tracker, trigger=trigger, reason=reason, topic=topic
    )


def retention_trigger(
    tier: str, churn_risk: str, *, high_value: str
) -> tuple[str | None, str]:
    """Which escalation trigger fires for this customer, and the reason's prefix."""
    if tier in HIGH_VALUE_TIERS:
        return high_value, f"{'VIP' if tier == 'vip' else '黄金'}客户"
    if churn_risk == "high":
        return "churn_risk", "流失风险高"
    return None, ""


class ActionPaymentMethod(VerifiedCrmAction):
    """How to pay and the debit account of each policy; "换扣款卡" changes it."""

    def name(self) -> str:
        return "action_payment_method"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        request = latest_text(tracker, ("ask_payment_method",))
        if wants_card_change(request):
            return await start_card_change(
                crm, dispatcher, tracker, customer_id=customer_id, request=request
            )
        policies = [p for p in await crm.get_policy_facts(customer_id) if p.live]
        lines = [PAYMENT_CHANNELS]
        paying = [p for p in policies if p.payment_frequency != "single"]
        if paying:
            lines.append("您名下需要续期缴费的保单：")
            for policy in paying:
                account = (
                    f"由{policy.debit_bank}（{policy.debit_account_masked}）自动扣款"
                    if policy.debit_bank and policy.debit_account_masked
                    else "尚未设置自动扣款账户"
                )
                lines.append(
                    f"· {policy_title(policy)}：{policy.payment_frequency_label}"
                    f"{money(policy.premium_fen)}，{account}"
                )
        elif policies:
            lines.append("您名下的保单均已缴清保费（趸缴或已满期缴费），无需续期缴费。")
        lines.append(CHANGE_HINT)
        dispatcher.utter_message(text="\n".join(lines))
        # no step-up follows (a stale purpose must not steer the dialogue)
        return [SlotSet(names.STEP_UP_PURPOSE, None)]


class ActionPaymentFailed(VerifiedCrmAction):
    """The latest failed debits with the recorded reason and how to retry."""

    def name(self) -> str:
        return "action_payment_failed"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        attempts = await crm.get_recent_payments(customer_id, limit=20)
        asked = asked_policy_no(tracker, ("payment_failed",))
        if asked:
            attempts = [a for a in attempts if a.policy_no == asked]
        # the newest failure of each bill: older retries of it add nothing
        latest: dict[tuple[str, Any], Any] = {}
        paid_bills = {
            (a.policy_no, a.bill_due_date) for a in attempts if a.result == "success"
        }
        for attempt in attempts:
            key = (attempt.policy_no, attempt.bill_due_date)
            if attempt.failed and key not in latest and key not in paid_bills:
                latest[key] = attempt
        if not latest:
            dispatcher.utter_message(
                text="查询了您最近的缴费记录，没有发现扣款失败的情况。"
                + (
                    f"最近一次是{cn_date(attempts[0].bill_due_date)}应缴的"
                    f"{money(attempts[0].amount_fen)}，{attempts[0].method_label}"
                    "已成功。"
                    if attempts and attempts[0].result == "success"
                    else ""
                )
            )
            return []
        policies = {p.policy_no: p for p in await crm.get_policy_facts(customer_id)}
        lines = []
        for attempt in list(latest.values())[:3]:
            count = sum(
                1
                for a in attempts
                if a.failed
                and (a.policy_no, a.bill_due_date)
                == (attempt.policy_no, attempt.bill_due_date)
            )
            tail = f"（尾号{attempt.account_tail}）" if attempt.account_tail else ""
            lines.append(
                f"保单{attempt.policy_no}应于{cn_date(attempt.bill_due_date)}缴纳的"
                f"保费{money(attempt.amount_fen)}，{cn_date(_day(attempt.attempted_at))}"
                f"{attempt.method_label}{tail}未成功"
                + (f"（已连续{count}次）" if count > 1 else "")
                + f"，原因：{attempt.failure_label or '银行未返回具体原因'}。"
                + (attempt.failure_explanation or "")
            )
            if attempt.failure_advice:
                lines.append(attempt.failure_advice)
            policy = policies.get(attempt.policy_no)
            if policy and policy.within_grace_period and policy.grace_end_date:
                lines.append(
                    f"该保单目前处于宽限期，请在{cn_date(policy.grace_end_date)}前"
                    f"（还有{policy.grace_days_left}天）完成缴费，保障不受影响。"
                )
        lines.append(
            "如需立即缴费，可在安顺人寿App或微信公众号用微信支付、支付宝缴纳；"
            "如要更换扣款卡，跟我说“我要换扣款银行卡”即可在这里办理。"
        )
        dispatcher.utter_message(text="\n".join(lines))
        return []


def _day(instant: str) -> datetime:
    return datetime.fromisoformat(instant.replace("Z", "+00:00"))


def difficulty_options(policy: PolicyFacts) -> list[str]:
    """The ways through a hard time that apply to this policy."""
    options = []
    if policy.policy_loan_allowed and policy.loan_available_fen > 0:
        options.append(
            f"保单贷款：以本保单现金价值申请借款，目前最高可借"
            f"{money(policy.loan_available_fen)}，可用于缴纳保费，保障继续有效"
        )
    if policy.payment_frequency in ("annual", "semiannual", "quarterly"):
        options.append(
            f"调整缴费频率：把{policy.payment_frequency_label}改为月缴，"
            f"每期压力更小（可在保单周年日前申请）"
        )
    if policy.product_type == "universal":
        options.append("保费假期：万能险可申请暂停缴费，账户价值足够时保障继续有效")
    elif policy.product_type in PAID_UP_TYPES and policy.cash_value_fen > 0:
        options.append(
            f"减额缴清：以现金价值{money(policy.cash_value_fen)}作为一次缴清的"
            "保费，今后不用再缴费，保额相应降低"
        )
    return options


class ActionPaymentDifficulty(VerifiedCrmAction):
    """Grace countdown and this policy's options; a churn signal; retention."""

    def name(self) -> str:
        return "action_payment_difficulty"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        policies = [p for p in await crm.get_policy_facts(customer_id) if p.live]
        asked = asked_policy_no(tracker, ("payment_difficulty",))
        chosen = [p for p in policies if p.policy_no == asked] if asked else []
        if not chosen:
            chosen = [p for p in policies if p.arrears_since] or [
                p for p in policies if p.payment_frequency != "single"
            ]
        lines = ["理解您的难处，我们一起看看怎么让保障不中断。"]
        if not chosen:
            lines.append("您名下目前没有需要继续缴费的有效保单。")
        for policy in chosen[:3]:
            head = f"{policy_title(policy)}，{policy.payment_frequency_label}"
            head += money(policy.premium_fen)
            if policy.within_grace_period and policy.grace_end_date:
                head += (
                    f"：{cn_date(policy.arrears_since)}的保费尚未缴纳，"
                    f"宽限期到{cn_date(policy.grace_end_date)}，"
                    f"还剩{policy.grace_days_left}天，宽限期内保障依然有效。"
                )
            elif policy.arrears_since:
                head += f"：{cn_date(policy.arrears_since)}起欠费。"
            else:
                head += "。"
            lines.append(head)
            options = difficulty_options(policy)
            if options:
                lines.append("可以考虑：")
                lines.extend(f"{i}. {text}" for i, text in enumerate(options, 1))
        dispatcher.utter_message(text="\n".join(lines))
        detail = latest_text(tracker, ("payment_difficulty",))
        signal = await crm.record_churn_signal(
            customer_id,
            kind="payment_difficulty",
            detail=detail or "客户表示缴费困难",
            conversation_id=conversation_id(tracker),
        )
        summary = await crm.get_customer_summary(customer_id)
        trigger, why = retention_trigger(
            summary.value_tier, signal.churn_risk, high_value="payment_difficulty"
        )
        events: Events = []
        if trigger:
            dispatcher.utter_message(
                text="为了给您最合适的方案，我请专属的服务人员来为您详细规划。"
            )
        events += await escalate_or_offer(
            crm,
            dispatcher,
            tracker,
            trigger=trigger,
            reason=f"{why}表示缴费困难：{detail}"[:480],
            topic="retention",
        )
        return events


class ActionCancelPolicy(VerifiedCrmAction):
    """What surrender costs this customer; a churn signal; retention or process."""

    def name(self) -> str:
        return "action_cancel_policy"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        policies = [p for p in await crm.get_policy_facts(customer_id) if p.live]
        asked = asked_policy_no(tracker, ("cancel_policy",))
        chosen = [p for p in policies if p.policy_no == asked] if asked else policies
        lines = []
        if not chosen:
            lines.append("您名下目前没有可以退保的有效保单。")
        for policy in chosen[:3]:
            paid = premiums_paid_fen(policy)
            if policy.within_hesitation_period:
                lines.append(
                    f"{policy_title(policy)}还在犹豫期内（到"
                    f"{cn_date(policy.hesitation_end_date)}），现在退保可全额退还"
                    f"已交保费{money(paid)}，仅可能扣除少量工本费。"
                )
                continue
            loss = paid - policy.surrender_value_fen
            text = f"{policy_title(policy)}：已交保费约{money(paid)}，"
            if policy.surrender_value_fen > 0:
                text += f"现在退保可退{money(policy.surrender_value_fen)}（现金价值）"
            else:
                text += "该保单没有现金价值，退保不退费"
            if 0 < loss < paid:
                text += f"，比已交保费少{money(loss)}"
            text += (
                f"；退保后{money(policy.sum_assured_fen)}的保障随即终止，"
                "日后重新投保可能因年龄和健康状况保费更高甚至被拒保。"
            )
            lines.append(text)
        lines.append("如果是缴费压力大，也可以考虑保单贷款、减额缴清等方式保留保障。")
        dispatcher.utter_message(text="\n".join(lines))
        detail = latest_text(tracker, ("cancel_policy",))
        signal = await crm.record_churn_signal(
            customer_id,
            kind="surrender_enquiry",
            detail=detail or "客户咨询退保",
            conversation_id=conversation_id(tracker),
        )
        summary = await crm.get_customer_summary(customer_id)
        trigger, why = retention_trigger(
            summary.value_tier, signal.churn_risk, high_value="surrender"
        )
        if trigger == "churn_risk":
            trigger = "surrender"
        if trigger:
            dispatcher.utter_message(
                text="退保涉及您的切身利益，我请专属的服务人员和您详细沟通。"
            )
        else:
            dispatcher.utter_message(
                text="如您确定退保，需由投保人本人通过安顺人寿App“保单服务-退保”"
                "或携带身份证件、银行卡到柜面申请，审核通过后退保金转入您的银行账户。"
            )
        return await escalate_or_offer(
            crm,
            dispatcher,
            tracker,
            trigger=trigger,
            reason=f"{why}咨询退保：{detail}"[:480],
            topic="retention",
        )
