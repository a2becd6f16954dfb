"""The abstract base of actions that talk to the CRM."""

from __future__ import annotations

import abc
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError, CrmUnavailable

logger = logging.getLogger(__name__)

DomainDict = dict[str, Any]
Events = list[dict[str, Any]]


class CrmAction(Action, abc.ABC):
    """An action that uses the CRM; CRM failures become an apology and an offer.

    Subclasses implement ``name()`` and ``run_with_crm()``. Errors the action
    expects (a CrmNotFound for an unknown policy…) are handled there; anything that
    escapes becomes utter_crm_unavailable plus utter_offer_human, never raw text.
    """

    def crm_client(self) -> CrmClient:
        """A CRM client configured from the environment; tests override this."""
        return CrmClient.from_env()

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Open a CRM client, run the action, and apologise when the CRM fails."""
        try:
            async with self.crm_client() as crm:
                return await self.run_with_crm(crm, dispatcher, tracker, domain)
        except CrmUnavailable as exc:
            logger.warning("%s: CRM unavailable: %s", self.name(), exc)
        except CrmError as exc:
            # Unexpected answers are bugs or misconfiguration (a wrong token…): log
            # loudly, but the customer still gets a polite way forward.
            logger.error("%s: CRM error: %s", self.name(), exc)
        dispatcher.utter_message(response=names.UTTER_CRM_UNAVAILABLE)
        dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)
        return []

    @abc.abstractmethod
    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Do the action's work with an open CRM client; return the events."""


class VerifiedCrmAction(CrmAction, abc.ABC):
    """A CRM action that shows personal data: only for a verified customer.

    Unverified, it remembers itself in ``pending_action``, explains why, and starts
    the identity form; actions/identity.py runs the pending action once the
    customer is verified. Subclasses implement ``run_verified()``.
    """

    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Gate on verification, then delegate to ``run_verified``."""
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if tracker.get_slot(names.VERIFIED) is not True or customer_id is None:
            dispatcher.utter_message(response=names.UTTER_NEED_VERIFICATION)
            return [
                SlotSet(names.PENDING_ACTION, self.name()),
                FollowupAction(names.IDENTITY_FORM),
            ]
        return await self.run_verified(
            crm, dispatcher, tracker, domain, customer_id=int(customer_id)
        )

    @abc.abstractmethod
    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Do the action's work for the verified customer ``customer_id``."""
