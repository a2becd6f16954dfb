"""What a transaction has to tell others once it commits: gateway events, console
hints. Services add to their session's outbox; whoever commits the session takes
the outbox and delivers it (``console.dispatch``), so nothing is announced for a
change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

OUTBOX_KEY = "crm_outbox"


@dataclass(frozen=True)
class Hint:
    """A small console push (``{"type": "queue"}``…) and who should get it.

    An agent's console gets the hint when it is addressed to them, to their team,
    to supervisors while they are one, or to a conversation they watch. A hint names
    nothing the agent could not read through the REST API anyway.
    """

    message: dict[str, Any]
    agent_ids: frozenset[int] = frozenset()
    team_ids: frozenset[int] = frozenset()
    supervisors: bool = False
    conversation_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form (for the Redis fan-out)."""
        return {
            "message": self.message,
            "agent_ids": sorted(self.agent_ids),
            "team_ids": sorted(self.team_ids),
            "supervisors": self.supervisors,
            "conversation_id": self.conversation_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hint:
        """The hint back from :meth:`to_json`."""
        return cls(
            message=dict(data["message"]),
            agent_ids=frozenset(int(i) for i in data.get("agent_ids", ())),
            team_ids=frozenset(int(i) for i in data.get("team_ids", ())),
            supervisors=bool(data.get("supervisors")),
            conversation_id=data.get("conversation_id"),
        )


def _ids(values: Iterable[int | None]) -> frozenset[int]:
    return frozenset(v for v in values if v is not None)


def queue_hint(
    *, agent_ids: Iterable[int | None] = (), team_ids: Iterable[int | None] = ()
) -> Hint:
    """Some queue changed: the agents and teams concerned, and supervisors."""
    return Hint(
        {"type": "queue"},
        agent_ids=_ids(agent_ids),
        team_ids=_ids(team_ids),
        supervisors=True,
    )


def conversation_hint(
    conversation_id: int, *, agent_ids: Iterable[int | None] = ()
) -> Hint:
    """New message(s) in a conversation: its watchers and the agents named."""
    return Hint(
        {"type": "conversation", "conversation_id": conversation_id},
        agent_ids=_ids(agent_ids),
        conversation_id=conversation_id,
    )


def presence_hint() -> Hint:
    """Some agent's presence or load changed: supervisors' boards."""
    return Hint({"type": "presence"}, supervisors=True)


@dataclass
class Outbox:
    """Gateway events (in order) and console hints (de-duplicated) of one session."""

    events: list[dict[str, Any]] = field(default_factory=list)
    hints: list[Hint] = field(default_factory=list)

    def event(self, payload: dict[str, Any]) -> None:
        """Queue one CRM → gateway event."""
        self.events.append(payload)

    def hint(self, *hints: Hint) -> None:
        """Queue console hints (an identical hint is sent once)."""
        for hint in hints:
            if hint not in self.hints:
                self.hints.append(hint)

    def __bool__(self) -> bool:
        return bool(self.events or self.hints)


def pending(session: Session) -> Outbox:
    """The outbox of ``session``'s current work."""
    box = session.info.get(OUTBOX_KEY)
    if box is None:
        box = session.info[OUTBOX_KEY] = Outbox()
    return box


def take(session: Session) -> Outbox:
    """Everything queued so far, leaving the session's outbox empty."""
    box = session.info.pop(OUTBOX_KEY, None)
    return box if box is not None else Outbox()


def discard(session: Session) -> None:
    """Forget what was queued (the work was rolled back)."""
    session.info.pop(OUTBOX_KEY, None)
