"""Responses that depend on the conversation: the verified are not told to verify."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from tests.actions.rasa_env.helpers import ROOT

# responses that offer to look at the customer's own policies
PERSONAL_OFFERS = (
    "utter_faq/hesitation_period",
    "utter_faq/policy_loan",
    "utter_faq/reinstatement",
    "utter_faq/cash_value",
    "utter_faq/policy_query_channels",
    "utter_faq/medical_reimbursement",
    "utter_ask_coverage_product",
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def _text(domain: Domain, response: str, *, verified: bool | None) -> str:
    tracker = DialogueStateTracker.from_events(
        "responses",
        [SlotSet("verified", verified)] if verified is not None else [],
        slots=domain.slots,
    )
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    message = asyncio.run(nlg.generate(response, tracker, "rest"))
    assert message is not None, response
    return str(message["text"])


@pytest.mark.parametrize("response", PERSONAL_OFFERS)
def test_only_the_unverified_are_told_to_verify(domain: Domain, response: str) -> None:
    assert "验证身份" in _text(domain, response, verified=None)
    assert "验证身份" in _text(domain, response, verified=False)
    verified = _text(domain, response, verified=True)
    assert "验证身份后" not in verified and "我" in verified


def test_no_other_response_tells_a_verified_customer_to_verify(domain: Domain) -> None:
    for name in domain.responses:
        if name in PERSONAL_OFFERS or name == "utter_need_verification":
            continue
        text = _text(domain, name, verified=True)
        assert "验证身份后" not in text, name
