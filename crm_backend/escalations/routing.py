"""Escalation rules as pure functions: priority, topic, route, call-back time, wait.

Nothing here touches the database; ``service.routing_inputs`` loads the rows these
functions decide over, so every branch can be read and tested on its own.

Priority (0-100, clipped) is the sum of explainable reasons:
tier (vip +30, gold +15), churn risk (high +20, medium +10), trigger
(angry_complaint / negative_sentiment +15, surrender / payment_difficulty +10,
verification_failed +5) and sentiment (≤ -0.6 → +10).

Queue order adds waiting time: a waiting customer's score is ``priority + minutes
waited``, highest first. Since everyone in a queue waits at the same pace, that is
the order of ``rank_at = queued_at − priority minutes`` (earliest first, then id),
which is stored with the escalation and never has to be recomputed: a VIP with
+30 goes ahead of everyone who has waited less than 30 minutes longer, and anyone
who has waited long enough is served before newer, higher-priority arrivals. A
transferred customer keeps their rank.

Route: 1) the customer's servicing agent when active, online and under capacity;
2) else the fitting team (its topics contain the topic, then "general") whose online
agent taking that topic has the lowest load; 3) else nobody is online: queue for the
servicing agent (or the fitting team) with a call-back promise.

Offer: a route to the servicing agent offers the conversation to them; a route to
a team offers it to the team's least-loaded online agent who takes the topic and is
under capacity (ties: lowest id). Load is ``agents.load``: held conversations plus
current offers. An offer not accepted in time (or declined) goes to the next such
agent who has not had it since the last transfer; nobody left: it waits in the team
queue (every member may accept it) until someone has room.

Call-back: two working hours from now (Mon-Fri 09:00-18:00 Asia/Shanghai), so the
promise is one a person can keep: 12:00 → 14:00, 17:30 → 10:30 next working day, after
hours → 11:00 on the next working day (public holidays are not modelled).
Estimated wait: ``queue position × 4`` minutes (a deliberately simple, documented
rule until handling times are measured).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from crm_backend.models.enums import EscalationTrigger, RiskLevel, ValueTier

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKDAY_START = time(9, 0)
WORKDAY_END = time(18, 0)
WORKDAYS = frozenset({0, 1, 2, 3, 4})
CALLBACK_WITHIN = timedelta(hours=2)
NEGATIVE_SENTIMENT = -0.6
GENERAL = "general"
TOPICS = ("general", "vip", "retention", "complaints")

TRIGGER_LABELS = {
    EscalationTrigger.customer_request: "客户要求人工",
    EscalationTrigger.negative_sentiment: "客户情绪负面",
    EscalationTrigger.angry_complaint: "客户情绪激动的投诉",
    EscalationTrigger.nlu_failure: "连续两次未能理解",
    EscalationTrigger.high_value: "高价值客户",
    EscalationTrigger.churn_risk: "流失风险高",
    EscalationTrigger.verification_failed: "身份验证失败",
    EscalationTrigger.payment_difficulty: "缴费困难",
    EscalationTrigger.surrender: "退保意向",
    EscalationTrigger.service_error: "系统异常",
}
TIER_POINTS = {ValueTier.vip: (30, "VIP客户"), ValueTier.gold: (15, "黄金客户")}
CHURN_POINTS = {
    RiskLevel.high: (20, "流失风险高"),
    RiskLevel.medium: (10, "流失风险中"),
}
TRIGGER_POINTS = {
    EscalationTrigger.angry_complaint: 15,
    EscalationTrigger.negative_sentiment: 15,
    EscalationTrigger.surrender: 10,
    EscalationTrigger.payment_difficulty: 10,
    EscalationTrigger.verification_failed: 5,
}
RETENTION_TRIGGERS = frozenset(
    {
        EscalationTrigger.surrender,
        EscalationTrigger.payment_difficulty,
        EscalationTrigger.churn_risk,
    }
)


def priority(
    *,
    tier: ValueTier | None,
    churn: RiskLevel | None,
    trigger: EscalationTrigger,
    sentiment: float | None,
) -> tuple[int, list[dict[str, Any]]]:
    """The priority (0-100) and the reasons ``[{code, label, points}]`` behind it."""
    reasons: list[dict[str, Any]] = []
    if tier in TIER_POINTS:
        points, label = TIER_POINTS[tier]
        reasons.append({"code": f"tier_{tier}", "label": label, "points": points})
    if churn in CHURN_POINTS:
        points, label = CHURN_POINTS[churn]
        reasons.append({"code": f"churn_{churn}", "label": label, "points": points})
    if trigger in TRIGGER_POINTS:
        reasons.append(
            {
                "code": f"trigger_{trigger}",
                "label": TRIGGER_LABELS[trigger],
                "points": TRIGGER_POINTS[trigger],
            }
        )
    if sentiment is not None and sentiment <= NEGATIVE_SENTIMENT:
        reasons.append(
            {"code": "sentiment_negative", "label": "对话情绪强烈负面", "points": 10}
        )
    total = sum(r["points"] for r in reasons)
    return max(0, min(100, total)), reasons


def topic_for(
    *, explicit: str | None, trigger: EscalationTrigger, tier: ValueTier | None
) -> str:
    """The desk topic: as asked, else from the trigger, else VIP tier, else general."""
    if explicit:
        return explicit
    if trigger in RETENTION_TRIGGERS:
        return "retention"
    if trigger == EscalationTrigger.angry_complaint:
        return "complaints"
    if tier == ValueTier.vip:
        return "vip"
    return GENERAL


@dataclass(frozen=True)
class AgentLoad:
    """An agent as routing sees them: presence, load and what they take."""

    agent_id: int
    name: str
    team_id: int | None
    active: bool
    online: bool
    load: int
    capacity: int
    skills: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        """Active, online and under capacity: can take one more conversation now."""
        return self.active and self.online and self.load < self.capacity

    def takes(self, topic: str) -> bool:
        """General work, or the topic is a skill (no skills listed: the team's)."""
        return topic == GENERAL or not self.skills or topic in self.skills


@dataclass(frozen=True)
class TeamOption:
    """A desk with its online agents."""

    team_id: int
    name: str
    topics: tuple[str, ...]
    agents: tuple[AgentLoad, ...]


@dataclass(frozen=True)
class Route:
    """The routing decision and its explanation (shown in the escalation's log)."""

    kind: Literal["servicing_agent", "team", "callback"]
    agent_id: int | None
    team_id: int | None
    note: str
    offer_agent_id: int | None = None

    @property
    def callback(self) -> bool:
        """Nobody could take it now: a call-back was promised."""
        return self.kind == "callback"


def _topics_in_order(topic: str) -> list[str]:
    return [topic] if topic == GENERAL else [topic, GENERAL]


def pick_agent(
    agents: Sequence[AgentLoad], topic: str, exclude: Collection[int] = ()
) -> AgentLoad | None:
    """Who gets an offer: the least-loaded available agent taking the topic."""
    candidates = [
        a
        for a in agents
        if a.available and a.takes(topic) and a.agent_id not in exclude
    ]
    return min(candidates, key=lambda a: (a.load, a.agent_id), default=None)


def team_topic(topic: str, team: TeamOption) -> str:
    """The topic a team takes the escalation under (its own, else general)."""
    return topic if topic in team.topics else GENERAL


def choose_route(
    *,
    topic: str,
    servicing: AgentLoad | None,
    teams: Sequence[TeamOption],
    exclude: Collection[int] = (),
) -> Route:
    """Servicing agent first, then the least-loaded fitting team, else a call-back.

    ``exclude``: agents who must not be chosen (they had the offer already).
    """
    if (
        servicing is not None
        and servicing.available
        and servicing.agent_id not in exclude
    ):
        return Route(
            "servicing_agent",
            servicing.agent_id,
            None,
            f"专属服务人员{servicing.name}在线，当前接待"
            f"{servicing.load}/{servicing.capacity}，转给本人",
            offer_agent_id=servicing.agent_id,
        )
    why = _why_not(servicing, exclude)
    for wanted in _topics_in_order(topic):
        candidates = [
            (agent.load, team.team_id, agent.agent_id, team, agent)
            for team in teams
            if wanted in team.topics
            for agent in team.agents
            if agent.active
            and agent.online
            and agent.takes(wanted)
            and agent.agent_id not in exclude
        ]
        if candidates:
            _, _, _, team, agent = min(candidates, key=lambda c: c[:3])
            offer = pick_agent(team.agents, wanted, exclude)
            return Route(
                "team",
                None,
                team.team_id,
                f"{why}按主题“{wanted}”转{team.name}；"
                f"在线负载最低：{agent.name} {agent.load}/{agent.capacity}",
                offer_agent_id=offer.agent_id if offer else None,
            )
    fallback_team = next(
        (
            team
            for wanted in _topics_in_order(topic)
            for team in teams
            if wanted in team.topics
        ),
        None,
    )
    if servicing is not None and servicing.active and servicing.agent_id not in exclude:
        return Route(
            "callback",
            servicing.agent_id,
            None,
            f"{why}无合适的在线坐席，登记由{servicing.name}回电",
        )
    if fallback_team is not None:
        return Route(
            "callback",
            None,
            fallback_team.team_id,
            f"{why}无合适的在线坐席，登记由{fallback_team.name}回电",
        )
    return Route("callback", None, None, f"{why}没有可接待该主题的团队，登记回电")


def _why_not(servicing: AgentLoad | None, exclude: Collection[int] = ()) -> str:
    if servicing is None:
        return "无专属服务人员；"
    if servicing.agent_id in exclude:
        return f"专属服务人员{servicing.name}未接入；"
    if not servicing.active:
        return f"专属服务人员{servicing.name}已离职；"
    if not servicing.online:
        return f"专属服务人员{servicing.name}不在线；"
    load = f"{servicing.load}/{servicing.capacity}"
    return f"专属服务人员{servicing.name}已满负荷（{load}）；"


def in_working_hours(moment: datetime) -> bool:
    """Mon-Fri 09:00-18:00 in Shanghai."""
    local = moment.astimezone(SHANGHAI)
    return local.weekday() in WORKDAYS and WORKDAY_START <= local.time() < WORKDAY_END


def _next_workday_start(local: datetime) -> datetime:
    """The start of the working time at or after ``local`` (Shanghai)."""
    day = local.date()
    if not (day.weekday() in WORKDAYS and local.time() < WORKDAY_END):
        day += timedelta(days=1)
    while day.weekday() not in WORKDAYS:
        day += timedelta(days=1)
    start = datetime.combine(day, WORKDAY_START, tzinfo=SHANGHAI)
    return max(start, local)


def callback_due(now: datetime) -> datetime:
    """``CALLBACK_WITHIN`` of working time after ``now`` (UTC)."""
    left = CALLBACK_WITHIN
    moment = _next_workday_start(now.astimezone(SHANGHAI))
    while True:
        day_end = datetime.combine(moment.date(), WORKDAY_END, tzinfo=SHANGHAI)
        if moment + left <= day_end:
            return (moment + left).astimezone(UTC)
        left -= day_end - moment
        moment = _next_workday_start(day_end)


def describe_time(moment: datetime, *, now: datetime) -> str:
    """``今天 11:30`` / ``明天 09:00`` / ``3月4日 09:00`` in Shanghai time."""
    local = moment.astimezone(SHANGHAI)
    days = (local.date() - now.astimezone(SHANGHAI).date()).days
    day = {0: "今天", 1: "明天", 2: "后天"}.get(days, f"{local.month}月{local.day}日")
    return f"{day} {local:%H:%M}"
