"""The abstract CRM action: registration by rasa-sdk and polite CRM failures."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction, DomainDict, Events
from actions.crm import CrmClient, CrmError, CrmNotFound, CrmUnavailable
from tests.actions.rasa_env.helpers import ROOT, fake_crm, make_tracker
from tests.ports import free_port


class LookupAction(CrmAction):
    """Looks up the tracker's customer, or raises a given error."""

    def __init__(self, url: str, error: Exception | None = None) -> None:
        self.url = url
        self.error = error
        self.client: CrmClient | None = None

    def name(self) -> str:
        return "action_test_lookup"

    def crm_client(self) -> CrmClient:
        self.client = CrmClient(self.url)
        return self.client

    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        if self.error:
            raise self.error
        summary = await crm.get_customer_summary(tracker.get_slot(names.CUSTOMER_ID))
        dispatcher.utter_message(text=f"{summary.salutation}您好")
        return [SlotSet("salutation", summary.salutation)]


def _run(action: CrmAction) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({names.CUSTOMER_ID: 7})
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return events, dispatcher


def _responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    return [message.get("response") for message in dispatcher.messages]


def test_base_is_abstract() -> None:
    with pytest.raises(TypeError):
        CrmAction()  # type: ignore[abstract]


def test_action_server_registers_exactly_the_domain_actions() -> None:
    # A fresh interpreter, as the action server does it: every module under
    # actions/ imported, every concrete Action instantiated with no arguments.
    code = (
        "import json; from rasa_sdk.executor import ActionExecutor;"
        "e = ActionExecutor(); e.register_package('actions');"
        "print(json.dumps(sorted(e.actions)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    from rasa.shared.core.domain import Domain

    registered = set(json.loads(result.stdout.strip().splitlines()[-1]))
    domain = Domain.load(str(ROOT / "domain"))
    declared = {a for a in domain.user_actions if not a.startswith("utter_")}
    # every custom action the domain names is implemented, and nothing else is
    # registered (abstract bases are skipped by rasa-sdk)
    assert registered == declared
    assert "action_session_start" in registered


def test_success_returns_the_subclass_events_and_closes_the_client() -> None:
    with fake_crm() as crm:
        action = LookupAction(crm.url)
        events, dispatcher = _run(action)
    assert events == [SlotSet("salutation", "张先生")]
    assert [m["text"] for m in dispatcher.messages] == ["张先生您好"]
    assert action.client is not None and action.client._http.is_closed


def test_unreachable_crm_apologises_and_offers_a_person() -> None:
    events, dispatcher = _run(LookupAction(f"http://127.0.0.1:{free_port()}"))
    assert events == []
    assert _responses(dispatcher) == [
        names.UTTER_CRM_UNAVAILABLE,
        names.UTTER_OFFER_HUMAN,
    ]


@pytest.mark.parametrize(
    "error",
    [
        CrmUnavailable("down"),
        CrmNotFound("gone", status_code=404),
        CrmError("bad token", status_code=401),
    ],
)
def test_crm_errors_never_reach_the_customer(error: Exception) -> None:
    events, dispatcher = _run(LookupAction("http://127.0.0.1:9", error))
    assert events == []
    assert _responses(dispatcher) == [
        names.UTTER_CRM_UNAVAILABLE,
        names.UTTER_OFFER_HUMAN,
    ]
    assert all("text" not in m or not m["text"] for m in dispatcher.messages)


def test_other_exceptions_are_not_swallowed() -> None:
    with pytest.raises(RuntimeError):
        _run(LookupAction("http://127.0.0.1:9", RuntimeError("bug")))
