"""The bot takes a conversation back from a person and asks for a score (CSAT).

The gateway triggers ``EXTERNAL_handback`` with the entity ``escalation_id`` when an
agent resolves (docs/takeover.md). action_handback thanks the customer and opens
csat_form; the customer taps a button or types the score (5, 五, 五分, 非常满意,
很差…), validate_csat_form reads it and action_submit_csat stores it with the CRM.
The survey never traps anyone: another question deactivates it (data/rules/csat.yml)
and anything that is not a score ends it without one.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import names
from actions.common.base import DomainDict, Events
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError

logger = logging.getLogger(__name__)

# csat_score once the customer answered something that is no score: no survey
SKIPPED = "skipped"
# intents csat_score takes text from that, without a score, are requests of their own
REQUEST_INTENTS = ("complain",)
# words for a score, most specific first (不满意 before 满意, 很差 before 差)
SCORE_WORDS: tuple[tuple[str, int], ...] = (
    ("非常不满意", 1),
    ("很不满意", 1),
    ("特别不满意", 1),
    ("极不满意", 1),
    ("非常差", 1),
    ("很差", 1),
    ("太差", 1),
    ("极差", 1),
    ("特别差", 1),
    ("差评", 1),
    ("垃圾", 1),
    ("糟糕", 1),
    ("不太满意", 2),
    ("不满意", 2),
    ("不怎么样", 2),
    ("不太好", 2),
    ("较差", 2),
    ("有点差", 2),
    ("比较差", 2),
    ("不好", 2),
    ("差不多", 3),
    ("一般", 3),
    ("还行", 3),
    ("还可以", 3),
    ("凑合", 3),
    ("马马虎虎", 3),
    ("中等", 3),
    ("过得去", 3),
    ("非常满意", 5),
    ("十分满意", 5),
    ("特别满意", 5),
    ("超级满意", 5),
    ("很满意", 5),
    ("非常好", 5),
    ("特别好", 5),
    ("太棒", 5),
    ("满分", 5),
    ("好评", 5),
    ("五星", 5),
    ("满意", 4),
    ("挺好", 4),
    ("不错", 4),
    ("很好", 4),
    ("还不错", 4),
)
CN_SCORES = {"一": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3, "叁": 3}
CN_SCORES |= {"四": 4, "肆": 4, "五": 5, "伍": 5}
NUMBER = re.compile(r"(?<![\d.])(\d{1,3})(?![\d.])")
CN_NUMBER = re.compile(r"([一壹二两贰三叁四肆五伍六七八九十])\s*(分|星|颗星)")


def parse_score(value: Any) -> int | None:
    """The score in what the customer typed: 1-5, 0 for a number out of range.

    A tapped button arrives as ``/inform{"csat_score": 5}`` or as the entity's
    value; typed answers are digits, Chinese numerals with 分 or 星, or words.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if 1 <= value <= 5 and int(value) == value else 0
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    match = NUMBER.search(text)
    if match:
        number = int(match.group(1))
        return number if 1 <= number <= 5 else 0
    match = CN_NUMBER.search(text)
    if match:
        return CN_SCORES.get(match.group(1), 0)
    if len(text) <= 2 and text[0] in CN_SCORES:
        return CN_SCORES[text[0]]
    for word, score in SCORE_WORDS:
        if word in text:
            return score
    return None


def escalation_id_of(tracker: Tracker) -> int | None:
    """The escalation of this hand-back: the trigger's entity, else the slot."""
    entities = (tracker.latest_message or {}).get("entities") or []
    wanted = names.ESCALATION_ID_ENTITY
    values = [e.get("value") for e in entities if e.get("entity") == wanted]
    for value in [*values, tracker.get_slot(names.CSAT_ESCALATION_ID)]:
        try:
            number = int(str(value))
        except (TypeError, ValueError):
            continue
        if number > 0:
            return number
    return None


class ActionHandback(Action):
    """EXTERNAL_handback: the person is done; thank the customer, then the survey."""

    def name(self) -> str:
        """Runs on the gateway's trigger; the csat_form rule follows."""
        return names.ACTION_HANDBACK

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Thank the customer and remember which escalation the score is for."""
        dispatcher.utter_message(response="utter_handback")
        return [
            SlotSet(names.CSAT_ESCALATION_ID, escalation_id_of(tracker)),
            SlotSet(names.CSAT_SCORE, None),
            SlotSet(names.FALLBACK_COUNT, 0),
        ]


class ValidateCsatForm(FormValidationAction):
    """Reads the score; anything else ends the survey without one."""

    def name(self) -> str:
        """The form's validation action."""
        return "validate_csat_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The score, when there is an escalation to score (else nothing to ask)."""
        if tracker.get_slot(names.CSAT_ESCALATION_ID) is None:
            return []
        return [names.CSAT_SCORE]

    async def validate_csat_score(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """1-5; a number out of range is asked again; other text skips the survey."""
        if value is None:  # emptied by the action that opened the form
            return {names.CSAT_SCORE: None}
        score = parse_score(value)
        if score is None:
            return {names.CSAT_SCORE: SKIPPED}
        if score == 0:
            dispatcher.utter_message(response="utter_csat_invalid")
            return {names.CSAT_SCORE: None}
        return {names.CSAT_SCORE: score}

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """A complaint holding no score is rejected, so that its rule handles it.

        "非常不满意" may be understood as a complaint and is still a score; "理赔太慢
        我要投诉" is not, and the complaint form should start instead.
        """
        events = await super().run(dispatcher, tracker, domain)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        skipped = any(
            e.get("event") == "slot"
            and e.get("name") == names.CSAT_SCORE
            and e.get("value") == SKIPPED
            for e in events
        )
        if skipped and intent in REQUEST_INTENTS:
            return [
                SlotSet(names.CSAT_SCORE, None),
                ActionExecutionRejected(names.CSAT_FORM),
            ]
        return events


class ActionSubmitCsat(Action):
    """After csat_form: store the score with the CRM and thank the customer."""

    def name(self) -> str:
        """The csat_form's submit action."""
        return names.ACTION_SUBMIT_CSAT

    def crm_client(self) -> CrmClient:
        """A CRM client configured from the environment; tests override this."""
        return CrmClient.from_env()

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Record the score once; a CRM failure is logged, the customer thanked."""
        score = parse_score(tracker.get_slot(names.CSAT_SCORE))
        escalation_id = tracker.get_slot(names.CSAT_ESCALATION_ID)
        cleared = [
            SlotSet(names.CSAT_SCORE, None),
            SlotSet(names.CSAT_ESCALATION_ID, None),
        ]
        if not score or escalation_id is None:
            if tracker.get_slot(names.CSAT_SCORE) == SKIPPED:
                dispatcher.utter_message(response="utter_csat_skipped")
            return cleared
        try:
            async with self.crm_client() as crm:
                await crm.record_csat(escalation_id=int(escalation_id), score=score)
        except CrmError as exc:
            # the score is a courtesy to us: the customer is thanked all the same
            logger.warning("CSAT %s for escalation %s: %s", score, escalation_id, exc)
        dispatcher.utter_message(
            response="utter_csat_thanks_low" if score <= 2 else "utter_csat_thanks"
        )
        return cleared
