"""The queue poller alone: it stays quiet once an agent accepted or it closed."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from bot.crm_client import ConversationState, CrmClient, EscalationState
from bot.messages import Outgoing
from bot.queue_watch import QueueWatch, news
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


def _state(
    position: int | None,
    wait: int | None,
    *,
    agent: int | None = None,
    team: int | None = 3,
    callback: bool = False,
    notice: str | None = None,
) -> EscalationState:
    default = (
        f"正在为您转接人工客服，您前面还有{position}位客户，预计等待约{wait}分钟。"
    )
    text = default if notice is None else notice
    return EscalationState(
        id=7,
        status="queued",
        notice=text,
        queue_position=position,
        estimated_wait_minutes=wait,
        serving=(agent, team, callback),
    )


def test_what_counts_as_news_for_a_waiting_customer() -> None:
    told = _state(3, 8)
    assert news(told, _state(3, 8)) is None  # the same
    assert news(told, _state(3, 7)) is None  # jitter of the estimate
    assert news(told, _state(3, 10)) is None  # +2 but under a third of 8
    assert news(told, _state(3, 11)) == "wait"  # +3: at least 2 and a third
    assert news(told, _state(3, 5)) == "wait"
    assert news(_state(1, 1), _state(1, 3)) == "wait"  # 2 minutes is enough
    assert news(told, _state(2, 8)) == "position"  # moved up
    assert news(told, _state(2, 9)) == "position"
    named = _state(3, 8, agent=42, notice="正在为您转接专属服务人员李娜（工号KN1042）…")
    assert news(told, named) == "other"  # a named agent now
    callback = _state(None, None, callback=True, notice="已为您登记回电")
    assert news(told, callback) == "position"
    assert news(callback, _state(None, None, callback=True, notice="")) is None


class JitteryCrm(FakeCrm):
    """Queued throughout; the estimate and the place follow ``states``."""

    def __init__(self, states: list[EscalationState]):
        super().__init__(["queued"])
        self.states = states

    async def escalation(self, *, escalation_id: int) -> EscalationState:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def _watch(states: list[EscalationState], min_gap: float) -> list[str]:
    async def run() -> list[str]:
        crm, sink = JitteryCrm(states), FakeSink()
        watch = QueueWatch(cast(CrmClient, crm), interval=0.01, min_gap=min_gap)
        watch.watch("web", "ab12", 12, sink=sink)
        await asyncio.sleep(0.3)
        await watch.close()
        assert crm.recorded == [m.text for m in sink.sent]
        return [m.text for m in sink.sent]

    return aio.run(run())


def test_the_estimate_jittering_says_nothing_moving_up_says_so() -> None:
    said = _watch([_state(3, 8), _state(3, 7), _state(3, 8), _state(3, 9)], 0)
    assert said == []
    said = _watch([_state(3, 8), _state(3, 7), _state(2, 6), _state(2, 6)], 60)
    assert said == [_state(2, 6).notice]  # a place gained is told at once


def test_a_big_change_of_the_estimate_waits_for_the_gap() -> None:
    states = [_state(3, 8), _state(3, 16)]
    assert _watch(states[:], 60) == []  # within a minute of the last notice
    assert _watch(states[:], 0) == [_state(3, 16).notice]
