"""Verbs on many tickets at once: the workbench's bulk assign and acknowledge.

Each ticket goes through the same verb, access rule and event log as the single
endpoint, inside its own savepoint: a ticket that may not be touched (another
team's, closed, already acknowledged) is refused with its reason and the others
still go through. A problem with the request itself (no such agent) is a 422 for
the whole request, not a hundred identical refusals.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from crm_backend.console.hub import tickets_hint
from crm_backend.core.errors import CrmError
from crm_backend.core.outbox import pending
from crm_backend.models import Agent, Ticket
from crm_backend.tickets import lifecycle, service
from crm_backend.tickets.schemas import BulkRefusal, BulkResult

# lifecycle.assign's refusals that are about the request, not about one ticket
REQUEST_ERRORS = frozenset({"nothing_to_assign", "agent_not_found", "team_not_found"})


def each(
    session: Session,
    *,
    ticket_ids: list[int],
    actor: Agent,
    verb: Callable[[Ticket], object],
) -> BulkResult:
    """Run ``verb`` on every ticket ``actor`` may work on, one savepoint each."""
    done: list[int] = []
    refused: list[BulkRefusal] = []
    for ticket_id in dict.fromkeys(ticket_ids):  # once each, in the given order
        try:
            with session.begin_nested():
                ticket = service.get_for_agent(
                    session, ticket_id=ticket_id, agent=actor, for_update=True
                )
                before = (ticket.assignee_id, ticket.team_id)
                verb(ticket)
        except CrmError as error:
            if error.code in REQUEST_ERRORS:
                raise
            refused.append(
                BulkRefusal(ticket_id=ticket_id, code=error.code, message=error.message)
            )
            continue
        # the desks it left and the desks it reached re-read their lists
        pending(session).hint(
            tickets_hint(
                ticket.id,
                agent_ids=[before[0], ticket.assignee_id],
                team_ids=[before[1], ticket.team_id],
            )
        )
        done.append(ticket_id)
    return BulkResult(done=done, refused=refused)


def assign(
    session: Session,
    *,
    ticket_ids: list[int],
    actor: Agent,
    agent_id: int | None,
    team_id: int | None,
    note: str | None,
) -> BulkResult:
    """Hand every ticket to one agent and/or team."""
    return each(
        session,
        ticket_ids=ticket_ids,
        actor=actor,
        verb=lambda ticket: lifecycle.assign(
            session,
            ticket=ticket,
            actor=actor,
            agent_id=agent_id,
            team_id=team_id,
            note=note,
        ),
    )


def acknowledge(
    session: Session, *, ticket_ids: list[int], actor: Agent, note: str | None
) -> BulkResult:
    """Confirm receipt of every ticket (each customer is told, as for one)."""
    return each(
        session,
        ticket_ids=ticket_ids,
        actor=actor,
        verb=lambda ticket: lifecycle.acknowledge(
            session, ticket=ticket, actor=actor, note=note
        ),
    )
