"""The queue poller alone: it stays quiet once an agent accepted or it closed."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from bot.crm_client import ConversationState, CrmClient, EscalationState
from bot.messages import Outgoing
from bot.queue_watch import QueueWatch
from tests import aio


class FakeCrm:
    """The conversation still reads ``queued``; the escalation says ``status``."""

    def __init__(self, statuses: list[str]):
        self.statuses = statuses
        self.recorded: list[str] = []

    async def conversation(self, *, conversation_id: int) -> ConversationState:
        return ConversationState(
            id=conversation_id,
            status="queued",
            open_escalation_id=7,
            assigned_agent=None,
        )

    async def escalation(self, *, escalation_id: int) -> EscalationState:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        waiting, serving = "您前面还有 1 位客户", "人工客服正在为您服务。"
        notice = waiting if status == "queued" else serving
        return EscalationState(id=escalation_id, status=status, notice=notice)

    async def record_message(self, **kwargs: Any) -> int:
        self.recorded.append(str(kwargs["text"]))
        return 1


class FakeSink:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        self.sent.append(message)

    async def typing(self, on: bool) -> None:
        return None


async def _run(statuses: list[str]) -> tuple[FakeCrm, FakeSink, bool]:
    crm, sink = FakeCrm(statuses), FakeSink()
    watch = QueueWatch(cast(CrmClient, crm), interval=0.01)
    watch.watch("web", "ab12", 12, sink=sink)
    await asyncio.sleep(0.2)
    still = watch.watching(12)
    await watch.close()
    return crm, sink, still


def test_no_poller_notice_once_the_escalation_is_accepted() -> None:
    for gone in ("active", "closed"):
        crm, sink, still = aio.run(_run(["queued", gone]))
        assert sink.sent == [] and crm.recorded == []
        assert still is False


def test_an_unchanged_notice_is_not_repeated_while_queued() -> None:
    crm, sink, _ = aio.run(_run(["queued", "queued"]))
    assert sink.sent == []  # the same notice: nothing new to say
    assert crm.recorded == []
