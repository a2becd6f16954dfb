"""Conversations with their messages, and escalations to named agents."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_backend.demo.context import OFFERED, Context, Row
from crm_backend.demo.texts import (
    AGENT_GREETING,
    AGENT_REPLIES,
    CSAT_PROMPT,
    SCRIPTS,
    TOPICS,
)
from crm_backend.demo.transcripts import Transcript, chat_signals
from crm_backend.models import Conversation, Escalation, EscalationEvent
from crm_backend.models.conversation import queue_rank
from crm_backend.models.enums import (
    Channel,
    ConversationStatus,
    EscalationOutcome,
    EscalationStatus,
    EscalationTrigger,
    Sender,
    VerificationLevel,
)

_OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"
# script topic -> (trigger, queue topic, reason shown to the agent)
_ESCALATIONS: dict[str, tuple[EscalationTrigger, str, str]] = {
    "payment_difficulty": (
        EscalationTrigger.payment_difficulty,
        "retention",
        "客户表示缴费困难，希望延缓缴费",
    ),
    "surrender": (EscalationTrigger.surrender, "retention", "客户咨询退保及退保金额"),
    "complaint": (
        EscalationTrigger.angry_complaint,
        "complaints",
        "客户情绪激动，投诉理赔时效",
    ),
    "human": (EscalationTrigger.customer_request, "general", "客户要求人工服务"),
    "claim": (EscalationTrigger.negative_sentiment, "general", "客户对理赔进度不满"),
}
_NAMED_TOPICS = ("vip", "retention")
_CSAT = ((5, 45), (4, 30), (3, 12), (2, 7), (1, 6))
_STAGES: dict[EscalationStatus | str, int] = {
    EscalationStatus.queued: 0,
    OFFERED: 1,
    EscalationStatus.active: 2,
    EscalationStatus.closed: 3,
}
OFFER_SECONDS = 60
_OUTCOME_CODES = {
    "客户坚持退保，已告知退保流程和所需材料": EscalationOutcome.unresolved,
    "已为客户预约线下面谈": EscalationOutcome.follow_up,
}
_OUTCOMES = {
    "retention": (
        "已为客户办理保单贷款缴纳保费，客户同意继续持有保单",
        "已说明减额缴清方案，客户考虑后决定继续缴费",
        "客户坚持退保，已告知退保流程和所需材料",
    ),
    "complaints": ("已安抚客户并加急处理，理赔部门承诺2个工作日内回复",),
    "general": ("已解答客户问题", "已为客户催办理赔并告知预计时间"),
    "vip": ("专属客户经理已处理完毕", "已为客户预约线下面谈"),
}


@dataclass
class Chatter:
    """The customer side of a conversation."""

    customer_id: int
    openid: str | None
    agent_no: str | None  # the named servicing agent
    vip: bool
    policy_no: str | None
    since: datetime  # when they became a customer: no chat before that


def new_openid(ctx: Context) -> str:
    """A WeChat-style openid (28 characters)."""
    rng = ctx.rng
    return "o" + "".join(rng.choice(_OPENID_ALPHABET) for _ in range(27))


def pick_topic(ctx: Context) -> str:
    """A conversation topic weighted by how often customers ask about it."""
    items, weights = zip(*TOPICS, strict=True)
    return str(ctx.rng.choices(items, weights)[0])


def _escalation_status(ctx: Context) -> EscalationStatus | str:
    # a few live ones (for the console's queue), the rest finished
    cov = ctx.coverage.escalation
    if cov:
        return cov.pop(0)
    roll = ctx.rng.random()
    if roll < 0.02:
        return EscalationStatus.queued
    if roll < 0.03:
        return OFFERED
    if roll < 0.05:
        return EscalationStatus.active
    return EscalationStatus.closed


def add_conversation(
    ctx: Context,
    who: Chatter,
    topic: str,
    *,
    started: datetime | None = None,
    escalation: EscalationStatus | str | None = None,
    escalate: bool | None = None,
) -> int:
    """Queue a conversation on ``topic`` (maybe escalated); returns its id.

    Live escalations (queued, offered, active) are placed in the last hour, so that
    the console opens on a realistic queue.
    """
    rng = ctx.rng
    if escalate is None:
        escalate = (
            topic in _ESCALATIONS
            and (topic != "claim" or rng.random() < 0.3)
            and rng.random() < 0.75
        )
    if escalate and escalation is None:
        escalation = _escalation_status(ctx)
    live = escalation not in (None, EscalationStatus.closed)
    if started is None:
        back = timedelta(minutes=rng.uniform(3, 45))
        if not live:
            tenure = (ctx.as_of - who.since).total_seconds() / 86400
            back = timedelta(days=rng.uniform(0.05, max(0.1, min(120, tenure))))
        started = ctx.as_of - back
    started = started.replace(microsecond=0)
    channel = Channel.wechat if who.openid and rng.random() < 0.8 else Channel.web
    external = who.openid if channel == Channel.wechat else None
    conv = ctx.add(
        Conversation,
        {
            "channel": channel,
            "external_id": external or f"web-{rng.getrandbits(64):016x}",
            "customer_id": who.customer_id,
            "status": ConversationStatus.bot,
            "verification_level": VerificationLevel.verified,
            "verified_at": started + timedelta(seconds=40),
            "assigned_agent_id": None,
            "started_at": started,
            "last_message_at": started,
            "last_customer_message_at": started,
            "closed_at": None,
        },
    )
    chat = Transcript(ctx, conv["id"], channel, started)
    for sender, text, sentiment, intent in SCRIPTS[topic]:
        chat.wait(rng.randint(4, 40))
        if sender == "customer":
            assert sentiment is not None
            score = max(-1.0, min(1.0, sentiment + rng.uniform(-0.1, 0.1)))
            chat.say(Sender.customer, text, sentiment=round(score, 2), intent=intent)
        else:
            chat.say(Sender.bot, text)
    chat_signals(ctx, who.customer_id, topic, chat)
    if escalation is not None:
        _escalate(ctx, who, conv, topic, escalation, chat)
    if conv["status"] == ConversationStatus.bot and chat.clock < ctx.ago(hours=6):
        conv["status"] = ConversationStatus.closed
        conv["closed_at"] = chat.clock + timedelta(minutes=10)
    conv["last_message_at"] = chat.clock
    conv["last_customer_message_at"] = chat.last_customer
    return int(conv["id"])


def _route(ctx: Context, who: Chatter, queue: str) -> tuple[str | None, str]:
    """``(named target, agent who gets it)``: the named agent when online."""
    staff = ctx.staff
    named = who.agent_no
    if named and queue not in _NAMED_TOPICS and ctx.rng.random() >= 0.3:
        named = None
    if named is not None and named in staff.online_all:
        return named, named
    return named, ctx.rng.choice(staff.online[queue] or staff.members[queue])


def _escalate(
    ctx: Context,
    who: Chatter,
    conv: Row,
    topic: str,
    status: EscalationStatus | str,
    chat: Transcript,
) -> None:
    rng = ctx.rng
    staff = ctx.staff
    trigger, queue, reason = _ESCALATIONS.get(
        topic, (EscalationTrigger.customer_request, "general", "客户要求人工服务")
    )
    if who.vip:
        queue, reason = "vip", "高价值客户：" + reason
    named, agent_no = _route(ctx, who, queue)
    agent_id = staff.agent_ids[agent_no]
    reasons: list[dict[str, str | int]] = [
        {"code": "trigger", "label": reason, "points": 40}
    ]
    if who.vip:
        reasons.append({"code": "tier", "label": "VIP客户", "points": 30})
    if trigger in (
        EscalationTrigger.angry_complaint,
        EscalationTrigger.negative_sentiment,
    ):
        reasons.append({"code": "sentiment", "label": "情绪负面", "points": 15})
    queued_at = chat.wait(2)
    assigned_at = queued_at + timedelta(seconds=rng.randint(5, 90))
    accepted_at = assigned_at + timedelta(seconds=rng.randint(8, 60))
    # 0 waiting, 1 offered, 2 accepted, 3 resolved
    order = _STAGES[status]
    priority = min(100, sum(int(r["points"]) for r in reasons))
    slots = {"topic": topic}
    if who.policy_no:
        slots["policy_number"] = who.policy_no
    esc = ctx.add(
        Escalation,
        {
            "conversation_id": conv["id"],
            "customer_id": who.customer_id,
            "trigger": trigger,
            "reason": reason,
            "topic": queue,
            "priority": priority,
            "priority_reasons": reasons,
            "slots": slots,
            "target_agent_id": staff.agent_ids[named] if named else None,
            "target_team_id": staff.team_ids[queue],
            "assigned_agent_id": agent_id if order >= 2 else None,
            "offered_agent_id": agent_id if order == 1 else None,
            "status": EscalationStatus.queued if order <= 1 else status,
            "queued_at": queued_at,
            "rank_at": queue_rank(queued_at, priority),
            "offered_at": assigned_at if order == 1 else None,
            "offer_expires_at": (
                assigned_at + timedelta(seconds=OFFER_SECONDS) if order == 1 else None
            ),
            "assigned_at": accepted_at if order >= 2 else None,
            "accepted_at": accepted_at if order >= 2 else None,
            "transferred_at": None,
            "resolved_at": None,
            "resolved_by_id": None,
            "closed_at": None,
            "outcome": None,
            "resolution_note": None,
            "csat": None,
            "csat_at": None,
        },
    )
    events: list[tuple[str, int | None, str | None, datetime]] = [
        ("queued", None, reason, queued_at)
    ]
    conv["status"] = ConversationStatus.queued
    if order >= 1:
        events.append(("offered", agent_id, None, assigned_at))
    if order >= 2:
        events.append(("accepted", agent_id, None, accepted_at))
        conv["status"] = ConversationStatus.agent
        conv["assigned_agent_id"] = agent_id
        name = staff.names[agent_no]
        chat.clock = accepted_at
        chat.wait(5)
        chat.say(Sender.system, f"客服{name}（工号{agent_no}）已接入，为您服务。")
        chat.wait(rng.randint(5, 30))
        chat.say(Sender.agent, AGENT_GREETING.format(name=name), agent_id=agent_id)
    if status == EscalationStatus.closed:
        _close(ctx, conv, esc, chat, topic, queue, agent_id)
        events.append(("resolved", agent_id, esc["resolution_note"], esc["closed_at"]))
    for kind, actor, note, moment in events:
        ctx.add(
            EscalationEvent,
            {
                "escalation_id": esc["id"],
                "kind": kind,
                "actor_id": actor,
                "note": note,
                "created_at": moment,
            },
        )


def _close(
    ctx: Context,
    conv: Row,
    esc: Row,
    chat: Transcript,
    topic: str,
    queue: str,
    agent_id: int,
) -> None:
    """The agent answers and resolves; the bot asks for (and maybe gets) a CSAT."""
    rng = ctx.rng
    chat.wait(rng.uniform(120, 900))
    reply = AGENT_REPLIES.get(topic, AGENT_REPLIES["general"])
    chat.say(Sender.agent, reply, agent_id=agent_id)
    if rng.random() < 0.3:
        note = "客户情绪已平复，后续需回访。"
        chat.say(Sender.agent, note, agent_id=agent_id, private=True)
    closed_at = chat.wait(rng.uniform(60, 300))
    esc["closed_at"] = esc["resolved_at"] = closed_at
    esc["resolved_by_id"] = agent_id
    note = rng.choice(_OUTCOMES.get(queue, _OUTCOMES["general"]))
    esc["resolution_note"] = note
    esc["outcome"] = _OUTCOME_CODES.get(note, EscalationOutcome.resolved)
    chat.say(Sender.bot, CSAT_PROMPT)
    conv["status"] = ConversationStatus.bot
    conv["assigned_agent_id"] = None
    if rng.random() < 0.65:
        items, weights = zip(*_CSAT, strict=True)
        csat = rng.choices(items, weights)[0]
        esc["csat"], esc["csat_at"] = csat, chat.wait(rng.randint(10, 120))
        sentiment = round((csat - 3) / 2, 2)
        chat.say(Sender.customer, str(csat), sentiment=sentiment, intent="inform")
