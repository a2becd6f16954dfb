"""Every ORM class, imported here so that Alembic sees them all."""

from crm_backend.models.agent import Agent, AgentSession, CustomerAssignment, Team
from crm_backend.models.base import Base
from crm_backend.models.canned_reply import CannedReply
from crm_backend.models.claim import Claim, ClaimEvent
from crm_backend.models.conversation import (
    Conversation,
    Escalation,
    EscalationEvent,
    Message,
)
from crm_backend.models.customer import (
    Customer,
    CustomerScore,
    CustomerSignal,
    OneTimeCode,
    OutboxMessage,
    VerificationAttempt,
)
from crm_backend.models.premium import Payment, PremiumBill
from crm_backend.models.product import Beneficiary, Policy, Product
from crm_backend.models.ticket import SlaPolicy, Ticket, TicketEvent, TicketNotice

__all__ = [
    "Agent",
    "AgentSession",
    "Base",
    "Beneficiary",
    "CannedReply",
    "Claim",
    "ClaimEvent",
    "Conversation",
    "Customer",
    "CustomerAssignment",
    "CustomerScore",
    "CustomerSignal",
    "Escalation",
    "EscalationEvent",
    "Message",
    "OneTimeCode",
    "OutboxMessage",
    "Payment",
    "Policy",
    "PremiumBill",
    "Product",
    "SlaPolicy",
    "Team",
    "Ticket",
    "TicketEvent",
    "TicketNotice",
    "VerificationAttempt",
]
