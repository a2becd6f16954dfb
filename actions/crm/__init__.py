"""The thin typed client the actions use to read and update the CRM."""

from actions.crm.client import CrmClient
from actions.crm.errors import CrmError, CrmNotFound, CrmUnavailable
from actions.crm.models import AgentContact, CustomerSummary, Health

__all__ = [
    "AgentContact",
    "CrmClient",
    "CrmError",
    "CrmNotFound",
    "CrmUnavailable",
    "CustomerSummary",
    "Health",
]
