"""Enquiries (capability 2): policies, coverage, premiums and "who is my agent".

Claims live in actions/enquiry_claims.py; wording helpers in actions/enquiry_format.py.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction, DomainDict, Events, VerifiedCrmAction
from actions.crm.client import CrmClient
from actions.crm.enquiry import Policy, PolicyBills, Product, ServicingAgent
from actions.crm.errors import CrmNotFound
from actions.enquiry_format import (
    POLICY_NO,
    PRESENCE_LABELS,
    PRODUCT_LABELS,
    cn_date,
    entity_value,
    find_number,
    first_sentences,
    key_exclusions,
    money,
    product_type_code,
    request_entities,
)


def _requested(tracker: Tracker, intent: str) -> tuple[str | None, str | None]:
    """(policy number, CRM product type) named in the customer's request."""
    entities = request_entities(tracker, [intent])
    policy_no = find_number(entity_value(entities, names.POLICY_NUMBER), POLICY_NO)
    if policy_no is None:
        text = (tracker.latest_message or {}).get("text")
        policy_no = find_number(text, POLICY_NO)
    product = product_type_code(entity_value(entities, names.PRODUCT_TYPE))
    return policy_no, product


def _policy_line(policy: Policy) -> str:
    due = ""
    if policy.status in ("in_force", "grace") and policy.payment_frequency != "single":
        due = f"，下次缴费日{cn_date(policy.paid_to_date)}"
    return (
        f"· {policy.product_name}（{policy.policy_no}）：{policy.status_label}，"
        f"保额{money(policy.sum_assured_fen)}，"
        f"保费{money(policy.premium_fen)}/{policy.payment_frequency_label}{due}"
    )


def policy_detail_text(policy: Policy) -> str:
    """One policy in detail: parties, dates, beneficiaries, cash value, periods."""
    lines = [
        f"保单{policy.policy_no}《{policy.product_name}》（{policy.product_type_label}）",
        f"状态：{policy.status_label}；您是{policy.customer_role_label}",
        f"投保人：{policy.holder_name}；被保险人：{policy.insured_name}",
        f"基本保额：{money(policy.sum_assured_fen)}；保费："
        f"{money(policy.premium_fen)}（{policy.payment_frequency_label}）",
        f"生效日：{cn_date(policy.start_date)}；满期日："
        + (cn_date(policy.end_date) if policy.end_date else "终身"),
    ]
    if policy.beneficiaries:
        shares = "、".join(
            f"{b.name_masked}（{b.relationship}，{b.share_pct}%）"
            for b in policy.beneficiaries
        )
        lines.append(f"身故受益人：{shares}")
    else:
        lines.append("身故受益人：法定受益人")
    lines.append(f"当前现金价值：{money(policy.cash_value_fen)}")
    if policy.within_hesitation_period:
        lines.append(
            f"目前仍在犹豫期内（至{cn_date(policy.hesitation_end_date)}），"
            "此期间退保可退还已交保费（扣除少量工本费）。"
        )
    if policy.within_grace_period and policy.grace_days_left is not None:
        lines.append(
            f"保单处于宽限期，还剩{policy.grace_days_left}天"
            f"（{cn_date(policy.grace_end_date)}前）缴费，期间保障照常有效。"
        )
    return "\n".join(lines)


class ActionShowPolicies(VerifiedCrmAction):
    """List the customer's policies, or one in detail when one is named."""

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_SHOW_POLICIES

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Answer from the CRM's policy data."""
        policy_no, product = _requested(tracker, "ask_policy")
        if policy_no:
            try:
                policy = await crm.get_policy(customer_id, policy_no)
            except CrmNotFound:
                dispatcher.utter_message(
                    text=f"没有在您名下找到保单{policy_no}，请核对保单号后再告诉我，"
                    "或者直接说“查我的保单”看全部保单。"
                )
                return []
            dispatcher.utter_message(text=policy_detail_text(policy))
            return []
        policies = await crm.list_policies(customer_id)
        if product:
            chosen = [p for p in policies if p.product_type == product]
            if len(chosen) == 1:
                dispatcher.utter_message(text=policy_detail_text(chosen[0]))
                return []
            if chosen:
                policies = chosen
        if not policies:
            dispatcher.utter_message(
                text="您名下暂时没有查到保单。如果您是通过银行或其他渠道投保的，"
                "可以告诉我保单号，我再帮您核对。"
            )
            return []
        lines = [f"您名下共有{len(policies)}份保单："]
        lines.extend(_policy_line(p) for p in policies)
        lines.append("想看某份保单的受益人、现金价值等详情，告诉我保单号即可。")
        dispatcher.utter_message(text="\n".join(lines))
        return []


def coverage_text(product: Product, *, own: Policy | None = None) -> str:
    """What one product covers, its waiting period and key exclusions."""
    head = f"《{product.name}》（{product.type_label}）"
    if own is not None:
        head = f"您的保单{own.policy_no}{head}，保额{money(own.sum_assured_fen)}"
    waiting = (
        f"等待期{product.waiting_period_days}天"
        if product.waiting_period_days
        else "无等待期"
    )
    text = f"{head}保障：{product.coverage}\n{waiting}。"
    exclusions = key_exclusions(product.exclusions)
    if exclusions:
        text += f"\n主要免责情形：{exclusions}等，详见条款。"
    return text


class ActionShowCoverage(CrmAction):
    """What a product (by type) or the customer's own policy covers.

    A product type needs no verification; the customer's own policy does.
    """

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_SHOW_COVERAGE

    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Answer from the CRM's product catalogue (and the customer's policies)."""
        policy_no, product_type = _requested(tracker, "ask_coverage")
        if product_type is None:
            product_type = product_type_code(tracker.get_slot(names.PRODUCT_TYPE))
        verified = tracker.get_slot(names.VERIFIED) is True
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if policy_no and not (verified and customer_id):
            dispatcher.utter_message(response=names.UTTER_NEED_VERIFICATION)
            return [
                SlotSet(names.PENDING_ACTION, self.name()),
                FollowupAction(names.IDENTITY_FORM),
            ]
        own: list[Policy] = []
        if verified and customer_id:
            try:
                if policy_no:
                    own = [await crm.get_policy(int(customer_id), policy_no)]
                else:
                    own = await crm.list_policies(int(customer_id))
            except CrmNotFound:
                dispatcher.utter_message(
                    text=f"没有在您名下找到保单{policy_no}，请核对保单号。"
                )
                return []
            own = [p for p in own if p.status in ("in_force", "grace")] or own
            if product_type:
                own = [p for p in own if p.product_type == product_type]
        if own and (policy_no or product_type or len(own) <= 3):
            texts = []
            for policy in own[:3]:
                product = await crm.get_product(policy.product_code)
                texts.append(coverage_text(product, own=policy))
            dispatcher.utter_message(text="\n\n".join(texts))
            return []
        if not product_type:
            dispatcher.utter_message(response="utter_ask_coverage_product")
            return []
        products = await crm.list_products(product_type)
        if not products:
            dispatcher.utter_message(response="utter_ask_coverage_product")
            return []
        if len(products) == 1:
            dispatcher.utter_message(text=coverage_text(products[0]))
            return []
        label = PRODUCT_LABELS.get(product_type, products[0].type_label)
        lines = [f"我们的{label}产品有{len(products)}款："]
        for product in products:
            waiting = (
                f"等待期{product.waiting_period_days}天"
                if product.waiting_period_days
                else "无等待期"
            )
            summary = first_sentences(product.coverage)
            lines.append(f"· 《{product.name}》：{summary}（{waiting}）")
        exclusions = key_exclusions(products[0].exclusions, 3)
        if exclusions:
            lines.append(f"主要免责情形：{exclusions}等，以条款为准。")
        lines.append(
            "想了解您自己保单的保障，告诉我保单号，我按您的保单为您说明。"
            if verified
            else "想了解您自己保单的保障，验证身份后我可以按您的保单为您说明。"
        )
        dispatcher.utter_message(text="\n".join(lines))
        return []


def premium_line(bills: PolicyBills) -> str:
    """One policy's premium situation: arrears with grace countdown, or next due."""
    head = f"· {bills.product_name}（{bills.policy_no}）"
    if bills.arrears_count:
        text = (
            f"{head}：已欠缴{money(bills.arrears_fen)}"
            f"（应缴日{cn_date(bills.arrears_since)}）"
        )
        if bills.within_grace_period and bills.grace_days_left is not None:
            text += (
                f"，目前在宽限期内，还剩{bills.grace_days_left}天，"
                f"请在{cn_date(bills.grace_end_date)}前缴清，期间保障照常有效"
            )
        else:
            text += f"，保单状态：{bills.policy_status_label}"
        return text + "。"
    if bills.next_due_date and bills.next_amount_fen is not None:
        status = f"（{bills.next_status_label}）" if bills.next_status_label else ""
        return (
            f"{head}：下期保费{money(bills.next_amount_fen)}，"
            f"应缴日{cn_date(bills.next_due_date)}{status}，"
            f"{bills.payment_frequency_label}。"
        )
    if bills.policy_status in ("in_force", "grace"):
        paid_to = f"，已缴至{cn_date(bills.paid_to_date)}" if bills.paid_to_date else ""
        return f"{head}：目前没有待缴保费{paid_to}。"
    return f"{head}：保单{bills.policy_status_label}，无需缴费。"


class ActionShowPremiums(VerifiedCrmAction):
    """Next due date and amount per policy, arrears with grace days left."""

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_SHOW_PREMIUMS

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Answer from the CRM's bills overview."""
        policy_no, product = _requested(tracker, "ask_premium")
        overview = await crm.get_bills(customer_id)
        wanted = {policy_no} if policy_no else None
        if wanted is None and product:
            policies = await crm.list_policies(customer_id)
            wanted = {p.policy_no for p in policies if p.product_type == product}
        chosen = [b for b in overview if wanted is None or b.policy_no in wanted]
        overview = chosen or overview
        if not overview:
            dispatcher.utter_message(text="您名下暂时没有需要缴费的保单。")
            return []
        lines = ["您的保费情况如下："]
        lines.extend(premium_line(b) for b in overview)
        if any(b.arrears_count for b in overview):
            lines.append("需要的话，我可以告诉您缴费方式，或帮您转人工协助。")
        dispatcher.utter_message(text="\n".join(lines))
        return []


def agent_text(agent: ServicingAgent | None) -> str:
    """Who serves the customer and how to reach them (or who will)."""
    if agent is None:
        return (
            "目前还没有为您指定专属服务人员，我们会尽快为您安排。"
            "期间有任何需要，都可以找我或转人工客服。"
        )
    if agent.departed:
        return (
            f"您原来的{agent.role_label}{agent.name}已经离职，您的保单和服务都不受影响，"
            "公司会尽快为您安排新的专属服务人员，并主动与您联系。"
            "在此期间，您的事情可以交给我或人工客服来办。"
        )
    team = f"（{agent.team_name}）" if agent.team_name else ""
    presence = PRESENCE_LABELS.get(agent.presence, agent.presence)
    phone = f"，工作电话{agent.work_phone}" if agent.work_phone else ""
    return f"您的专属{agent.role_label}是{agent.name}{team}，目前{presence}{phone}。"


class ActionShowMyAgent(VerifiedCrmAction):
    """The customer's named agent: role, team, presence, work phone; or who now."""

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_SHOW_MY_AGENT

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Answer from the CRM's current assignment."""
        agent = await crm.get_servicing_agent(customer_id)
        dispatcher.utter_message(text=agent_text(agent))
        dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)
        return []
