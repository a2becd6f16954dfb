"""Enquiry actions against a real CRM with the demo customers.

Expected figures are read from the CRM's API in each test, never copied from the
demo generator, so the tests follow the book whatever it holds.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.crm.client import CrmClient
from actions.enquiry import (
    ActionShowCoverage,
    ActionShowMyAgent,
    ActionShowPolicies,
    ActionShowPremiums,
)
from actions.enquiry_claims import (
    ActionReportClaim,
    ActionShowClaims,
    ActionSubmitClaim,
    ValidateReportClaimForm,
    claim_type_for,
)
from actions.enquiry_format import money, parse_amount_fen, parse_incident_date
from tests.live_crm import LiveCrm
from tests.ports import free_port

DEMO = {
    "张伟": ("13800138001", "2739"),
    "林慧敏": ("13800138002", "1249"),
    "赵磊": ("13800138003", "3557"),
    "孙丽": ("13800138004", "1861"),
    "吴秀英": ("13800138006", "2427"),
}


def _api(crm: LiveCrm, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{crm.url}/api/v1/service{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {crm.token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _customer_id(crm: LiveCrm, name: str) -> int:
    phone, last4 = DEMO[name]
    body = {"method": "phone_id", "phone": phone, "id_last4": last4}
    result = _api(crm, "/identity/verify", body)
    assert result["verified"], result
    return int(result["customer"]["id"])


def _tracker(
    slots: dict[str, Any] | None = None,
    *,
    intent: str = "",
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    return Tracker(
        sender_id="enquiry-test",
        slots=dict(slots or {}),
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": list(entities or []),
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _verified(customer_id: int, **slots: Any) -> dict[str, Any]:
    return {names.CUSTOMER_ID: customer_id, names.VERIFIED: True, **slots}


def _run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], str, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    text = "\n".join(m["text"] for m in dispatcher.messages if m.get("text"))
    responses = [m.get("response") for m in dispatcher.messages if m.get("response")]
    return events, text, responses


def _entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value}


# --- policies ---------------------------------------------------------------------


def test_policies_lists_every_policy_with_real_figures(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "张伟")
    policies = _api(live_crm, f"/customers/{customer}/policies")["items"]
    assert policies
    events, text, _ = _run(
        ActionShowPolicies(), _tracker(_verified(customer), intent="ask_policy")
    )
    assert events == []
    assert f"共有{len(policies)}份保单" in text
    for policy in policies:
        assert policy["policy_no"] in text
        assert policy["product_name"] in text
        assert policy["status_label"] in text
        assert money(policy["sum_assured_fen"]) in text
        assert money(policy["premium_fen"]) in text


def test_one_policy_in_detail_with_masked_beneficiaries(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "张伟")
    policies = _api(live_crm, f"/customers/{customer}/policies")["items"]
    policy = next(p for p in policies if p["beneficiaries"])
    tracker = _tracker(
        _verified(customer),
        intent="ask_policy",
        text=f"查下{policy['policy_no']}",
        entities=[_entity("policy_number", policy["policy_no"])],
    )
    _, text, _ = _run(ActionShowPolicies(), tracker)
    assert policy["policy_no"] in text
    assert money(policy["cash_value_fen"]) in text
    for beneficiary in policy["beneficiaries"]:
        assert beneficiary["name_masked"] in text
        assert "*" in beneficiary["name_masked"]


def test_someone_elses_policy_is_not_shown(live_crm: LiveCrm) -> None:
    zhang = _customer_id(live_crm, "张伟")
    sun = _customer_id(live_crm, "孙丽")
    other = _api(live_crm, f"/customers/{sun}/policies")["items"][0]
    tracker = _tracker(
        _verified(zhang),
        intent="ask_policy",
        entities=[_entity("policy_number", other["policy_no"])],
    )
    _, text, _ = _run(ActionShowPolicies(), tracker)
    assert "没有在您名下找到保单" in text
    assert other["product_name"] not in text


@pytest.mark.parametrize(
    "action",
    [
        ActionShowPolicies(),
        ActionShowClaims(),
        ActionShowPremiums(),
        ActionShowMyAgent(),
        ActionReportClaim(),
    ],
)
def test_personal_enquiries_verify_first(live_crm: LiveCrm, action: Action) -> None:
    events, text, responses = _run(action, _tracker({}, intent="ask_policy"))
    assert responses == [names.UTTER_NEED_VERIFICATION]
    assert text == ""
    assert {"event": "slot", "name": names.PENDING_ACTION, "value": action.name()} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]
    assert events[-1]["event"] == "followup"
    assert events[-1]["name"] == names.IDENTITY_FORM


# --- coverage ---------------------------------------------------------------------


def test_coverage_of_a_product_type_needs_no_verification(live_crm: LiveCrm) -> None:
    products = _api(live_crm, "/products?type=critical_illness")["items"]
    tracker = _tracker(
        {}, intent="ask_coverage", entities=[_entity("product_type", "重疾险")]
    )
    events, text, responses = _run(ActionShowCoverage(), tracker)
    assert events == [] and names.UTTER_NEED_VERIFICATION not in responses
    for product in products:
        assert product["name"] in text
        assert f"等待期{product['waiting_period_days']}天" in text
    assert "免责" in text


def test_coverage_of_the_customers_own_policy(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "孙丽")
    policy = _api(live_crm, f"/customers/{customer}/policies")["items"][0]
    product = _api(live_crm, f"/products/{policy['product_code']}")
    tracker = _tracker(
        _verified(customer),
        intent="ask_coverage",
        entities=[_entity("policy_number", policy["policy_no"])],
    )
    _, text, _ = _run(ActionShowCoverage(), tracker)
    assert policy["policy_no"] in text and product["name"] in text
    assert product["coverage"] in text


def test_coverage_of_an_own_policy_verifies_first(live_crm: LiveCrm) -> None:
    tracker = _tracker(
        {}, intent="ask_coverage", entities=[_entity("policy_number", "P3100000000001")]
    )
    events, _, responses = _run(ActionShowCoverage(), tracker)
    assert responses == [names.UTTER_NEED_VERIFICATION]
    assert events[-1]["name"] == names.IDENTITY_FORM


def test_coverage_without_a_product_asks_which(live_crm: LiveCrm) -> None:
    _, text, responses = _run(ActionShowCoverage(), _tracker({}, intent="ask_coverage"))
    assert responses == ["utter_ask_coverage_product"] and text == ""


# --- claims -----------------------------------------------------------------------


def test_open_claim_with_timeline_and_pending_documents(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "孙丽")
    claims = _api(live_crm, f"/customers/{customer}/claims")["items"]
    claim = next(c for c in claims if c["is_open"])
    detail = _api(live_crm, f"/claims/{claim['claim_no']}?customer_id={customer}")
    _, text, _ = _run(
        ActionShowClaims(), _tracker(_verified(customer), intent="ask_claim_status")
    )
    assert claim["claim_no"] in text
    assert f"【{claim['status_label']}】" in text
    assert money(claim["amount_claimed_fen"]) in text
    assert claim["pending_documents"] in text
    for event in detail["events"]:
        assert event["status_label"] in text
    assert "下一步" in text


def test_claim_by_number_and_an_unknown_number(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "孙丽")
    claim = _api(live_crm, f"/customers/{customer}/claims")["items"][0]
    found = _tracker(
        _verified(customer),
        intent="ask_claim_status",
        entities=[_entity("claim_number", claim["claim_no"])],
    )
    _, text, _ = _run(ActionShowClaims(), found)
    assert claim["claim_no"] in text and claim["status_label"] in text
    missing = _tracker(
        _verified(customer),
        intent="ask_claim_status",
        entities=[_entity("claim_number", "CL2020010199999")],
    )
    _, text, _ = _run(ActionShowClaims(), missing)
    assert "没有在您名下找到理赔案件CL2020010199999" in text


def test_customer_without_open_claims_hears_the_latest(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "张伟")
    claims = _api(live_crm, f"/customers/{customer}/claims")["items"]
    _, text, _ = _run(
        ActionShowClaims(), _tracker(_verified(customer), intent="ask_claim_status")
    )
    if not claims:
        assert "暂时没有理赔记录" in text
    elif not any(c["is_open"] for c in claims):
        assert "没有处理中的理赔" in text and claims[0]["claim_no"] in text


def test_report_claim_prefills_and_starts_the_form(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "孙丽")
    policy = _api(live_crm, f"/customers/{customer}/policies")["items"][0]
    tracker = _tracker(
        _verified(customer),
        intent="report_claim",
        entities=[
            _entity("policy_number", policy["policy_no"]),
            _entity("date", "昨天"),
        ],
    )
    events, _, responses = _run(ActionReportClaim(), tracker)
    assert responses[0] == "utter_report_claim_intro"
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots[names.CLAIM_POLICY] == policy["policy_no"]
    assert slots[names.CLAIM_INCIDENT_DATE] == parse_incident_date("昨天").isoformat()
    assert events[-1]["event"] == "followup"
    assert events[-1]["name"] == names.REPORT_CLAIM_FORM


def test_claim_form_validation(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "孙丽")
    policy = _api(live_crm, f"/customers/{customer}/policies")["items"][0]
    form = ValidateReportClaimForm()
    tracker = _tracker(_verified(customer))
    dispatcher = CollectingDispatcher()

    def check(method: str, value: str) -> Any:
        result = asyncio.run(getattr(form, method)(value, dispatcher, tracker, {}))
        return next(iter(result.values()))

    assert (
        check("validate_claim_policy", f"是{policy['policy_no']}")
        == (policy["policy_no"])
    )
    assert check("validate_claim_policy", "P0000000000000") is None
    assert check("validate_claim_incident_date", "2026-01-02") == "2026-01-02"
    assert check("validate_claim_incident_date", "不记得了") is None
    assert check("validate_claim_description", "摔") is None
    assert check("validate_claim_description", " 肺炎住院5天 ") == "肺炎住院5天"


def test_submit_claim_records_it_once_in_the_crm(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "孙丽")
    policy = next(
        p
        for p in _api(live_crm, f"/customers/{customer}/policies")["items"]
        if p["status"] in ("in_force", "grace")
    )
    before = _api(live_crm, f"/customers/{customer}/claims")["total"]
    incident = max(
        date.fromisoformat(policy["start_date"]), date.today() - timedelta(3)
    )
    slots = _verified(
        customer,
        **{
            names.CLAIM_POLICY: policy["policy_no"],
            names.CLAIM_INCIDENT_DATE: incident.isoformat(),
            names.CLAIM_DESCRIPTION: "肺炎住院5天",
        },
    )
    events, text, _ = _run(ActionSubmitClaim(), _tracker(slots, intent="inform"))
    # the CRM commits before it answers, so the claim is there at once
    claims = _api(live_crm, f"/customers/{customer}/claims")["items"]
    assert len(claims) == before + 1, text
    new = next(c for c in claims if c["claim_no"] in text)
    assert new["policy_no"] == policy["policy_no"]
    assert new["incident_date"] == incident.isoformat()
    assert "报案成功" in text and "理赔申请书" in text
    slots_set = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots_set[names.CLAIM_NUMBER] == new["claim_no"]
    assert slots_set[names.CLAIM_POLICY] is None


# --- premiums and agent -------------------------------------------------------------


def test_overdue_premium_with_grace_days_left(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "赵磊")
    bills = _api(live_crm, f"/customers/{customer}/bills")
    overdue = next(p for p in bills["policies"] if p["arrears_count"])
    _, text, _ = _run(
        ActionShowPremiums(), _tracker(_verified(customer), intent="ask_premium")
    )
    assert overdue["policy_no"] in text
    assert f"已欠缴{money(overdue['arrears_fen'])}" in text
    assert f"还剩{overdue['grace_days_left']}天" in text


def test_next_premium_due(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "张伟")
    bills = _api(live_crm, f"/customers/{customer}/bills")
    _, text, _ = _run(
        ActionShowPremiums(), _tracker(_verified(customer), intent="ask_premium")
    )
    for policy in bills["policies"]:
        assert policy["policy_no"] in text
        bill = policy["next_bill"]
        if bill:
            assert money(bill["amount_fen"]) in text
            due = date.fromisoformat(bill["due_date"])
            assert f"{due.year}年{due.month}月{due.day}日" in text


def test_my_agent_online(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "林慧敏")
    agent = _api(live_crm, f"/customers/{customer}/agent")["agent"]
    _, text, responses = _run(
        ActionShowMyAgent(), _tracker(_verified(customer), intent="ask_my_agent")
    )
    assert agent["name"] in text and agent["role_label"] in text
    assert agent["team_name"] in text and agent["work_phone"] in text
    assert responses == [names.UTTER_OFFER_HUMAN]


def test_my_agent_departed(live_crm: LiveCrm) -> None:
    customer = _customer_id(live_crm, "吴秀英")
    agent = _api(live_crm, f"/customers/{customer}/agent")["agent"]
    assert agent["departed"]
    _, text, responses = _run(
        ActionShowMyAgent(), _tracker(_verified(customer), intent="ask_my_agent")
    )
    assert agent["name"] in text and "离职" in text
    assert agent["work_phone"] not in text
    assert responses == [names.UTTER_OFFER_HUMAN]


# --- CRM down -------------------------------------------------------------------------


class _Down:
    """Points an action's CRM client at a port nobody listens on."""

    url = f"http://127.0.0.1:{free_port()}"

    def crm_client(self) -> CrmClient:
        return CrmClient(self.url)


class DownPolicies(_Down, ActionShowPolicies):
    pass


class DownClaims(_Down, ActionShowClaims):
    pass


class DownCoverage(_Down, ActionShowCoverage):
    pass


@pytest.mark.parametrize("action", [DownPolicies(), DownClaims(), DownCoverage()])
def test_crm_down_apologises_and_offers_a_person(action: Action) -> None:
    tracker = _tracker(
        _verified(1),
        intent="ask_coverage",
        entities=[_entity("product_type", "医疗险")],
    )
    events, text, responses = _run(action, tracker)
    assert events == [] and text == ""
    assert responses == [names.UTTER_CRM_UNAVAILABLE, names.UTTER_OFFER_HUMAN]


# --- pure helpers ---------------------------------------------------------------------


def test_incident_dates_and_amounts_as_customers_write_them() -> None:
    today = date(2026, 11, 25)
    assert parse_incident_date("昨天", today) == date(2026, 11, 24)
    assert parse_incident_date("3天前", today) == date(2026, 11, 22)
    assert parse_incident_date("11月20号", today) == date(2026, 11, 20)
    assert parse_incident_date("十二月一日", today) == date(2025, 12, 1)
    assert parse_incident_date("2026年1月2日", today) == date(2026, 1, 2)
    assert parse_incident_date("2027-01-02", today) is None
    assert parse_incident_date("不记得", today) is None
    assert parse_amount_fen("3.68万") == 3_680_000
    assert parse_amount_fen("¥36,800.00") == 3_680_000
    assert money(3_680_000) == "¥36,800.00"
    assert claim_type_for("骑车摔伤骨折", "accident") == "accident"
    assert claim_type_for("骑车摔伤骨折住院", "medical") == "medical"
    assert claim_type_for("确诊肺癌", "critical_illness") == "critical_illness"
