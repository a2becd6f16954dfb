"""Claims (capability 2): status and timeline, and reporting a claim (报案)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import DomainDict, Events, VerifiedCrmAction
from actions.crm.client import CrmClient
from actions.crm.enquiry import Claim, Policy
from actions.crm.errors import CrmError, CrmNotFound
from actions.enquiry_format import (
    CLAIM_NO,
    POLICY_NO,
    cn_date,
    entity_value,
    find_number,
    money,
    parse_amount_fen,
    parse_incident_date,
    product_type_code,
    request_entities,
)

logger = logging.getLogger(__name__)

NEXT_STEP = {
    "reported": "理赔人员会在1-3个工作日内与您联系，核对案情和材料。",
    "documents_pending": "请尽快补齐上述材料，可在App或公众号“理赔”栏目拍照上传。",
    "under_review": "材料齐全后，一般在30日内作出核定结论，结果会短信通知您。",
    "approved": "已核定赔付，赔款会在达成协议后10日内转入您的收款账户。",
}
DOCUMENTS = {
    "medical": "病历、出院小结、医疗费用发票及费用明细清单",
    "hospital_allowance": "病历、出院小结（写明住院天数）",
    "critical_illness": "二级及以上医院的诊断证明、病理或检查报告、病历",
    "accident": "意外事故证明（如交警事故认定书）、病历及医疗费用发票",
    "disability": "伤残鉴定报告、病历及意外事故证明",
    "death": "死亡证明、户籍注销证明、受益人身份证明及与被保险人的关系证明",
}
COMMON_DOCUMENTS = "理赔申请书、被保险人身份证、收款银行卡"
# what happened → claim type; checked in order, before the product's default
TYPE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"身故|去世|过世|死亡|离世|走了", "death"),
    (r"伤残|残疾|残废", "disability"),
    (r"意外|摔|车祸|骨折|撞|扭伤|烫伤|咬伤|割伤", "accident"),
    (r"确诊|癌|肿瘤|重疾|心梗|脑梗|中风|白血病|尿毒症", "critical_illness"),
    (r"住院|门诊|手术|医院|看病|发烧|感冒|肺炎", "medical"),
)
PRODUCT_CLAIM_TYPE = {
    "medical": "medical",
    "critical_illness": "critical_illness",
    "accident": "accident",
    "life": "death",
    "annuity": "death",
    "universal": "death",
}


def claim_type_for(description: str, product_type: str) -> str:
    """The claim type from what happened, else from the policy's product."""
    for pattern, claim_type in TYPE_KEYWORDS:
        if re.search(pattern, description):
            if product_type == "medical" and claim_type in ("accident", "death"):
                return "medical"  # a medical policy pays the medical bills
            return claim_type
    return PRODUCT_CLAIM_TYPE.get(product_type, "medical")


def claim_text(claim: Claim) -> str:
    """A claim's status, amounts, timeline, pending documents and next step."""
    lines = [
        f"理赔案件{claim.claim_no}（{claim.product_name}，保单{claim.policy_no}，"
        f"{claim.type_label}）：当前状态【{claim.status_label}】",
        f"出险日期{cn_date(claim.incident_date)}，报案日期{cn_date(claim.reported_date)}，"
        f"申请金额{money(claim.amount_claimed_fen)}。",
    ]
    if claim.amount_paid_fen:
        lines.append(f"已赔付{money(claim.amount_paid_fen)}。")
    if claim.events:
        lines.append("进度：")
        lines.extend(
            f"· {cn_date(e.created_at)} {e.status_label}"
            + (f"：{e.note}" if e.note else "")
            for e in claim.events
        )
    if claim.pending_documents:
        lines.append(f"还需补充：{claim.pending_documents}。")
    if claim.status == "rejected" and claim.decision_reason:
        lines.append(f"结论说明：{claim.decision_reason}")
    if claim.status in NEXT_STEP:
        lines.append(f"下一步：{NEXT_STEP[claim.status]}")
    return "\n".join(lines)


class ActionShowClaims(VerifiedCrmAction):
    """A claim by number, or the customer's open claims, with the timeline."""

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_SHOW_CLAIMS

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Answer from the CRM's claims and their timelines."""
        entities = request_entities(tracker, ["ask_claim_status"])
        claim_no = find_number(
            entity_value(entities, names.CLAIM_NUMBER), CLAIM_NO
        ) or find_number((tracker.latest_message or {}).get("text"), CLAIM_NO)
        if claim_no:
            try:
                claim = await crm.get_claim(customer_id, claim_no)
            except CrmNotFound:
                dispatcher.utter_message(
                    text=f"没有在您名下找到理赔案件{claim_no}，请核对案件号；"
                    "也可以直接问“我的理赔进度”，我帮您查全部案件。"
                )
                return []
            dispatcher.utter_message(text=claim_text(claim))
            return []
        claims = await crm.list_claims(customer_id)
        if not claims:
            dispatcher.utter_message(
                text="您名下暂时没有理赔记录。如需报案，直接告诉我“我要理赔”即可。"
            )
            return []
        open_claims = [c for c in claims if c.is_open]
        if not open_claims:
            latest = claims[0]
            paid = (
                f"，赔付{money(latest.amount_paid_fen)}"
                if latest.amount_paid_fen
                else ""
            )
            dispatcher.utter_message(
                text=f"您目前没有处理中的理赔。最近一笔是{latest.claim_no}"
                f"（{latest.product_name}），状态【{latest.status_label}】{paid}。"
                "如需查看详情，告诉我案件号即可。"
            )
            return []
        for claim in open_claims[:3]:
            detail = await crm.get_claim(customer_id, claim.claim_no)
            dispatcher.utter_message(text=claim_text(detail))
        if len(open_claims) > 3:
            dispatcher.utter_message(
                text=f"您共有{len(open_claims)}笔处理中的理赔，其余可告诉我案件号查询。"
            )
        return []


def _active(policies: list[Policy]) -> list[Policy]:
    return [p for p in policies if p.status in ("in_force", "grace")] or policies


class ActionReportClaim(VerifiedCrmAction):
    """Explain 报案 and its documents, then collect policy, date and description."""

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_REPORT_CLAIM

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Pre-fill what the customer said, then start report_claim_form."""
        entities = request_entities(tracker, ["report_claim"])
        text = (tracker.latest_message or {}).get("text")
        policies = _active(await crm.list_policies(customer_id))
        events: Events = []
        policy_no = find_number(
            entity_value(entities, names.POLICY_NUMBER), POLICY_NO
        ) or find_number(text, POLICY_NO)
        product = product_type_code(entity_value(entities, names.PRODUCT_TYPE))
        matches = [
            p
            for p in policies
            if p.policy_no == policy_no or (not policy_no and p.product_type == product)
        ]
        if len(policies) == 1 and not policy_no and not product:
            matches = policies
        if len(matches) == 1:
            events.append(SlotSet(names.CLAIM_POLICY, matches[0].policy_no))
        incident = parse_incident_date(entity_value(entities, names.DATE))
        if incident:
            events.append(SlotSet(names.CLAIM_INCIDENT_DATE, incident.isoformat()))
        dispatcher.utter_message(response="utter_report_claim_intro")
        if len(matches) != 1 and policies:
            listing = "、".join(f"{p.product_name}（{p.policy_no}）" for p in policies)
            dispatcher.utter_message(text=f"您名下有效的保单有：{listing}。")
        return [*events, FollowupAction(names.REPORT_CLAIM_FORM)]


class ValidateReportClaimForm(FormValidationAction):
    """Checks the report_claim_form slots: the customer's policy, a past date."""

    def name(self) -> str:
        """Rasa's name for the validation action."""
        return "validate_report_claim_form"

    async def validate_claim_policy(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A policy number of this customer (or a product type naming one)."""
        text = str(value or "")
        policy_no = find_number(text, POLICY_NO)
        product = product_type_code(text)
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        try:
            async with CrmClient.from_env() as crm:
                policies = _active(await crm.list_policies(int(customer_id or 0)))
        except CrmError as exc:
            logger.warning("validate_claim_policy: CRM error: %s", exc)
            policies = []
            if policy_no:  # the CRM checks it again when the claim is reported
                return {names.CLAIM_POLICY: policy_no}
        matches = [
            p
            for p in policies
            if p.policy_no == policy_no or (not policy_no and p.product_type == product)
        ]
        if len(matches) == 1:
            return {names.CLAIM_POLICY: matches[0].policy_no}
        dispatcher.utter_message(
            text="没有对上您名下的保单，请告诉我完整的保单号（P开头14位），"
            "或者说明是哪个险种的保单。"
        )
        return {names.CLAIM_POLICY: None}

    async def validate_claim_incident_date(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A date in the past, stored as ISO."""
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return {names.CLAIM_INCIDENT_DATE: value}
        found = parse_incident_date(value)
        if found is None:
            dispatcher.utter_message(
                text="没能识别出险日期，请按“2026年11月20日”或“11月20号”、“昨天”这样告诉我。"
            )
            return {names.CLAIM_INCIDENT_DATE: None}
        return {names.CLAIM_INCIDENT_DATE: found.isoformat()}

    async def validate_claim_description(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A few words about what happened."""
        text = str(value or "").strip()
        if len(text) < 2:
            dispatcher.utter_message(
                text="请简单描述一下发生了什么，比如“肺炎住院5天”。"
            )
            return {names.CLAIM_DESCRIPTION: None}
        return {names.CLAIM_DESCRIPTION: text[:500]}


RESET = [
    SlotSet(names.CLAIM_POLICY, None),
    SlotSet(names.CLAIM_INCIDENT_DATE, None),
    SlotSet(names.CLAIM_DESCRIPTION, None),
]


class ActionSubmitClaim(VerifiedCrmAction):
    """Record the claim in the CRM and tell its number, documents and next step."""

    def name(self) -> str:
        """Rasa's name for the action."""
        return names.ACTION_SUBMIT_CLAIM

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """POST /service/claims with the form's slots."""
        policy_no = tracker.get_slot(names.CLAIM_POLICY)
        incident = tracker.get_slot(names.CLAIM_INCIDENT_DATE)
        description = tracker.get_slot(names.CLAIM_DESCRIPTION)
        if not (policy_no and incident and description):
            dispatcher.utter_message(response="utter_report_claim_intro")
            return [FollowupAction(names.REPORT_CLAIM_FORM)]
        try:
            policy = await crm.get_policy(customer_id, policy_no)
            claim_type = claim_type_for(description, policy.product_type)
            entities = request_entities(tracker, ["report_claim"])
            amount = parse_amount_fen(entity_value(entities, names.AMOUNT))
            claim = await crm.report_claim(
                customer_id,
                policy_no=policy_no,
                claim_type=claim_type,
                incident_date=date.fromisoformat(incident),
                description=description,
                amount_claimed_fen=amount or 0,
            )
        except CrmNotFound:
            dispatcher.utter_message(
                text=f"没有在您名下找到保单{policy_no}，报案未提交。"
            )
            return RESET
        except CrmError as exc:
            if exc.code not in ("incident_outside_cover", "incident_in_future"):
                raise
            dispatcher.utter_message(
                text=f"出险日期{cn_date(date.fromisoformat(incident))}不在保单{policy_no}"
                "的保障期间内，暂时无法在线报案。我可以为您转人工，帮您进一步确认。"
            )
            dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)
            return RESET
        documents = DOCUMENTS.get(claim.type, DOCUMENTS["medical"])
        dispatcher.utter_message(
            text=f"已为您报案成功，理赔案件号：{claim.claim_no}（保单{claim.policy_no}，"
            f"{claim.type_label}，出险日期{cn_date(claim.incident_date)}）。\n"
            f"请准备：{COMMON_DOCUMENTS}，以及{documents}。\n"
            f"下一步：{NEXT_STEP['reported']}之后随时可以问我“理赔进度”。"
        )
        return [*RESET, SlotSet(names.CLAIM_NUMBER, claim.claim_no)]
