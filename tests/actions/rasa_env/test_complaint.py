"""Complaint actions against a real CRM: the ticket (once), deadlines, follow-up."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction
from actions.complaint import (
    ActionComplaintStart,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    category_code,
)
from actions.complaint_status import ActionComplaintStatus
from actions.crm.client import CrmClient
from tests.actions.rasa_env.helpers import load_domain
from tests.live_crm import LiveCrm
from tests.ports import free_port

CHINA = timezone(timedelta(hours=8))
ZHANG_WEI, LIN_HUIMIN, ZHOU_QIANG = 1, 2, 5


def _tracker(
    slots: dict[str, Any], *, text: str = "", intent: str = "complain", **latest: Any
) -> Tracker:
    message = {"text": text, "intent": {"name": intent}, "entities": [], **latest}
    events = [{"event": "user", "text": text, "parse_data": message}]
    return Tracker(
        sender_id=f"complaint-{uuid.uuid4().hex[:8]}",
        slots={names.VERIFIED: True, **slots},
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _run(action: CrmAction, tracker: Tracker) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    texts = [m.get("text") or m.get("response") or "" for m in dispatcher.messages]
    return events, texts


def _crm_get(crm: LiveCrm, path: str) -> Any:
    response = httpx.get(
        f"{crm.url}/api/v1/service{path}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _cn(iso: str) -> str:
    local = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日"


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_category_words_map_to_crm_codes() -> None:
    assert category_code("理赔太慢") == "claim_dispute"
    assert category_code("服务态度") == "service_attitude"
    assert category_code("扣费缴费") == "billing"
    assert category_code("扣费/缴费") == "billing"
    assert category_code("sales_misconduct") == "sales_misconduct"
    assert category_code("今天天气") is None


def test_start_prefills_from_the_complaint_message(live_crm: LiveCrm) -> None:
    text = "你们理赔太慢了，住院的钱一个月了还没到账"
    events, texts = _run(
        ActionComplaintStart(), _tracker({names.CUSTOMER_ID: ZHANG_WEI}, text=text)
    )
    slots = _slots(events)
    assert slots[names.COMPLAINT_CATEGORY] == "claim_dispute"
    assert slots[names.COMPLAINT_DESCRIPTION] == text
    assert texts == ["utter_complaint_start"]


def test_bare_complaint_prefills_nothing(live_crm: LiveCrm) -> None:
    events, _ = _run(
        ActionComplaintStart(),
        _tracker({names.CUSTOMER_ID: ZHANG_WEI}, text="我要投诉"),
    )
    assert _slots(events)[names.COMPLAINT_DESCRIPTION] is None


def test_unverified_customer_is_sent_to_verification(live_crm: LiveCrm) -> None:
    tracker = _tracker({names.VERIFIED: None}, text="我要投诉")
    events, texts = _run(ActionSubmitComplaint(), tracker)
    assert texts == [names.UTTER_NEED_VERIFICATION]
    followups = [e["name"] for e in events if e.get("event") == "followup"]
    assert followups == [names.IDENTITY_FORM]


def test_policy_slot_accepts_a_number_or_none() -> None:
    form = ValidateComplaintForm()
    dispatcher = CollectingDispatcher()
    tracker = _tracker({}, text="不涉及", intent="deny")
    assert form.validate_complaint_policy("不涉及", dispatcher, tracker, {}) == {
        names.COMPLAINT_POLICY: "none"
    }
    assert form.validate_complaint_policy(
        "P3100000000001", dispatcher, tracker, {}
    ) == {names.COMPLAINT_POLICY: "P3100000000001"}


def test_slots_cleared_at_the_start_raise_no_complaint_about_them() -> None:
    """ "我要投诉" from a verified customer: the start clears the slots, no error."""
    tracker = _tracker({}, text="我要投诉")
    # Rasa hands the form's validation the slots set since the user spoke, last
    cleared = [
        {"event": "action", "name": "action_complaint_start"},
        {"event": "active_loop", "name": names.COMPLAINT_FORM},
        *[{"event": "slot", "name": e["name"], "value": None} for e in _cleared()],
    ]
    tracker.events.extend(cleared)
    tracker.active_loop = {"name": names.COMPLAINT_FORM}
    dispatcher = CollectingDispatcher()
    form = ValidateComplaintForm()
    events = asyncio.run(form.run(dispatcher, tracker, load_domain()))
    assert dispatcher.messages == []
    assert all(e.get("value") is None for e in events if e.get("event") == "slot")


def _cleared() -> list[dict[str, Any]]:
    from actions.complaint import reset_slots

    return [dict(e) for e in reset_slots()]


def test_an_unknown_mention_while_telling_the_story_keeps_the_category() -> None:
    story = "上个月保费被重复扣了两次，麻烦核实一下"
    entity = {"entity": "complaint_category", "value": "重复扣了两次"}
    tracker = _tracker(
        {names.REQUESTED_SLOT: names.COMPLAINT_DESCRIPTION},
        text=story,
        entities=[entity],
    )
    chosen = {"event": "slot", "name": names.COMPLAINT_CATEGORY, "value": "billing"}
    tracker.events.insert(0, chosen)
    dispatcher = CollectingDispatcher()
    form = ValidateComplaintForm()
    kept = form.validate_complaint_category("重复扣了两次", dispatcher, tracker, {})
    assert kept == {names.COMPLAINT_CATEGORY: "billing"}
    assert dispatcher.messages == []
    # asked for the category, an unknown answer is still refused with the buttons
    asked = _tracker({names.REQUESTED_SLOT: names.COMPLAINT_CATEGORY}, text="随便")
    refused = form.validate_complaint_category("随便", dispatcher, asked, {})
    assert refused == {names.COMPLAINT_CATEGORY: None}
    assert len(dispatcher.messages) == 1


def test_a_category_correction_is_not_taken_as_the_description() -> None:
    form = ValidateComplaintForm()
    dispatcher = CollectingDispatcher()
    text = "类别选错了，应该是服务态度"
    entity = {"entity": "complaint_category", "value": "服务态度"}
    tracker = _tracker({}, text=text, intent="inform", entities=[entity])
    assert form.validate_complaint_description(text, dispatcher, tracker, {}) == {
        names.COMPLAINT_DESCRIPTION: None
    }
    assert dispatcher.messages == []  # the form simply asks for the story again
    story = "理赔员说话很难听，还挂我电话"
    plain = _tracker({}, text=story, intent="complain")
    assert form.validate_complaint_description(story, dispatcher, plain, {}) == {
        names.COMPLAINT_DESCRIPTION: story
    }


def test_submit_opens_one_ticket_with_deadlines(live_crm: LiveCrm) -> None:
    before = _crm_get(live_crm, f"/customers/{ZHANG_WEI}/tickets")["items"]
    slots = {
        names.CUSTOMER_ID: ZHANG_WEI,
        names.COMPLAINT_CATEGORY: "claim_dispute",
        names.COMPLAINT_DESCRIPTION: "理赔太慢，材料交齐两周了还没有结果",
        names.COMPLAINT_POLICY: "P3100000000001",
        names.COMPLAINT_OUTCOME: "尽快赔付",
    }
    events, texts = _run(ActionSubmitComplaint(), _tracker(slots, text="尽快赔付"))
    after = _crm_get(live_crm, f"/customers/{ZHANG_WEI}/tickets")["items"]
    new = [t for t in after if t["ticket_no"] not in {b["ticket_no"] for b in before}]
    assert len(new) == 1
    ticket = new[0]
    assert ticket["category"] == "claim_dispute"
    assert ticket["ticket_no"] in texts[0]
    assert f"我们将在{_cn(ticket['ack_due_at'])}前与您联系确认" in texts[0]
    assert f"并在{_cn(ticket['resolve_due_at'])}前给出处理结果" in texts[0]
    state = _slots(events)
    assert state[names.TICKET_NUMBER] == ticket["ticket_no"]
    assert state[names.COMPLAINT_DESCRIPTION] is None
    # ordinary customer, calm message: no escalation
    assert not any(e.get("event") == "pause" for e in events)

    # the same submit again (a repeated message, a retried action): no new ticket
    repeat = _tracker(
        {**slots, names.COMPLAINT_SUBMITTED: state[names.COMPLAINT_SUBMITTED]}
    )
    _, texts_again = _run(ActionSubmitComplaint(), repeat)
    # and even without the slot (another action server): found in the CRM
    _, texts_third = _run(ActionSubmitComplaint(), _tracker(slots))
    final = _crm_get(live_crm, f"/customers/{ZHANG_WEI}/tickets")["items"]
    assert len(final) == len(after)
    assert ticket["ticket_no"] in texts_again[0]
    assert ticket["ticket_no"] in texts_third[0]


def _assert_paused(events: list[dict[str, Any]]) -> None:
    assert any(e.get("event") == "pause" for e in events), events


def test_vip_complaint_is_escalated_as_high_value(live_crm: LiveCrm) -> None:
    slots = {
        names.CUSTOMER_ID: LIN_HUIMIN,
        names.COMPLAINT_CATEGORY: "service_attitude",
        names.COMPLAINT_DESCRIPTION: "客户经理回复太慢",
        names.COMPLAINT_POLICY: "none",
        names.COMPLAINT_OUTCOME: "换一位客户经理",
    }
    events, texts = _run(ActionSubmitComplaint(), _tracker(slots, text="换一位"))
    _assert_paused(events)
    conversation = _slots(events)[names.CONVERSATION_ID]
    escalation = _latest_escalation(live_crm, conversation)
    assert escalation["trigger"] == "high_value"
    assert "utter_complaint_person_follows" in texts


def test_angry_complaint_is_escalated(live_crm: LiveCrm) -> None:
    slots = {
        names.CUSTOMER_ID: ZHANG_WEI,
        names.COMPLAINT_CATEGORY: "claim_dispute",
        names.COMPLAINT_DESCRIPTION: "气死我了，理赔拖了两个月，再不赔我就去起诉",
        names.COMPLAINT_POLICY: "none",
        names.COMPLAINT_OUTCOME: "马上赔",
    }
    tracker = _tracker(slots, text="马上赔", sentiment=-0.85)
    events, _ = _run(ActionSubmitComplaint(), tracker)
    _assert_paused(events)
    escalation = _latest_escalation(live_crm, _slots(events)[names.CONVERSATION_ID])
    assert escalation["trigger"] == "angry_complaint"


def _latest_escalation(crm: LiveCrm, conversation_id: int) -> dict[str, Any]:
    conversation = _crm_get(crm, f"/conversations/{conversation_id}")
    escalation_id = conversation["open_escalation_id"]
    assert escalation_id is not None, conversation
    return dict(_crm_get(crm, f"/escalations/{escalation_id}"))


def test_status_by_my_complaint_shows_updates(live_crm: LiveCrm) -> None:
    tickets = _crm_get(live_crm, f"/customers/{ZHOU_QIANG}/tickets")["items"]
    open_ticket = next(t for t in tickets if t["status"] == "investigating")
    detail = _crm_get(
        live_crm, f"/tickets/{open_ticket['ticket_no']}?customer_id={ZHOU_QIANG}"
    )
    _, texts = _run(
        ActionComplaintStatus(),
        _tracker({names.CUSTOMER_ID: ZHOU_QIANG}, text="我的投诉进度", intent="x"),
    )
    assert open_ticket["ticket_no"] in texts[0]
    assert detail["status_label"] in texts[0]
    assert _cn(detail["resolve_due_at"]) in texts[0]
    assert detail["events"][-1]["note"] in texts[0]


def test_status_by_number_and_someone_elses_number(live_crm: LiveCrm) -> None:
    tickets = _crm_get(live_crm, f"/customers/{ZHOU_QIANG}/tickets")["items"]
    number = tickets[0]["ticket_no"]
    entity = {"entity": "ticket_number", "value": number}
    tracker = _tracker({names.CUSTOMER_ID: ZHOU_QIANG}, text=f"查下{number}")
    tracker.latest_message["entities"] = [entity]
    _, texts = _run(ActionComplaintStatus(), tracker)
    assert number in texts[0] and tickets[0]["status_label"] in texts[0]
    # 张伟 asks about 周强's ticket: not found, nothing disclosed
    tracker = _tracker({names.CUSTOMER_ID: ZHANG_WEI}, text=f"查下{number}")
    _, texts = _run(ActionComplaintStatus(), tracker)
    assert "没有查到" in texts[0] and "扣" not in texts[0]


class _DownStatus(ActionComplaintStatus):
    def crm_client(self) -> CrmClient:
        return CrmClient(f"http://127.0.0.1:{free_port()}")


def test_crm_down_apologises_and_offers_a_person() -> None:
    events, texts = _run(
        _DownStatus(), _tracker({names.CUSTOMER_ID: ZHANG_WEI}, text="我的投诉")
    )
    assert events == []
    assert texts == [names.UTTER_CRM_UNAVAILABLE, names.UTTER_OFFER_HUMAN]


def test_the_follow_up_after_resolution_tells_the_outcome_and_remedy(
    live_crm: LiveCrm,
) -> None:
    from tests.actions.rasa_env.test_session import leave_notices, notices_of

    customer_id = 28
    ticket_no = leave_notices(
        live_crm,
        customer_id,
        ("acknowledge", {}),
        ("request-info", {"text": "请提供扣款短信截图"}),
    )
    tracker = _tracker({names.CUSTOMER_ID: customer_id}, text=f"{ticket_no}进度如何")
    _, texts = _run(ActionComplaintStatus(), tracker)
    assert "确认受理" in texts[0]
    assert "需要您补充：请提供扣款短信截图" in texts[0]

    resolved_no = leave_notices(
        live_crm,
        customer_id,
        ("acknowledge", {}),
        (
            "resolve",
            {
                "outcome": "多扣的保费已退回原卡",
                "remedy": "refund",
                "refund_fen": 12850,
            },
        ),
    )
    tracker = _tracker({names.CUSTOMER_ID: customer_id}, text=f"查下{resolved_no}")
    _, texts = _run(ActionComplaintStatus(), tracker)
    assert "处理完毕：多扣的保费已退回原卡（退款 ¥128.50）" in texts[0]
    assert "需要您补充" not in texts[0]
    # "我的投诉" without a number tells the open one and the one just resolved
    tracker = _tracker({names.CUSTOMER_ID: customer_id}, text="我的投诉怎么样了")
    _, texts = _run(ActionComplaintStatus(), tracker)
    assert ticket_no in texts[0] and "正在处理" in texts[0]
    assert f"最近处理完毕的投诉：\n工单{resolved_no}" in texts[0]
    assert "（退款 ¥128.50）" in texts[0]
    # the notices were for this test only: mark them told
    for notice in notices_of(live_crm, customer_id):
        httpx.post(
            f"{live_crm.url}/api/v1/service/customers/{customer_id}"
            f"/notices/{notice['id']}/delivered",
            headers={"Authorization": f"Bearer {live_crm.token}"},
            timeout=10,
        ).raise_for_status()
