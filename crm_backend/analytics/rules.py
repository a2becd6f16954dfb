"""Explainable value and churn rules: pure functions from facts to points and reasons.

Every rule adds (or removes) a fixed number of points and says why in Chinese, so an
agent can read *why* a customer is VIP or at risk. No database access here.

Value (0-100+ points) → tier, following the 20/80 idea of the seed article: a small
top of the book holds most of the premium. With a realistic (log-normal) book the
thresholds below put roughly the top 5% in ``vip`` and the next ~15% in ``gold``.

* annualised premium of in-force and grace policies held (the main driver):
  ≥ ¥50,000 → 80 (VIP on its own), ≥ ¥20,000 → 45, ≥ ¥10,000 → 32,
  ≥ ¥5,000 → 22, ≥ ¥2,000 → 12, > 0 → 5;
* tenure since the first policy started: ≥ 10 years → 15, ≥ 5 → 10, ≥ 2 → 5;
* policies in force: ≥ 4 → 12, 3 → 9, 2 → 5;
* long-term savings products held (annuity, universal, whole life): +6 each;
* claims paid relative to premium paid: ≥ 100% → -15, ≥ 50% → -8.

Tiers: ``vip`` ≥ 80 points or ≥ ¥50,000 annual premium, ``gold`` ≥ 50 (e.g. ¥20,000
and 5 years' tenure, or ¥10,000 with 2 policies and a savings product), ``standard``
≥ 10, ``basic`` below. On the demo book (``python -m crm_backend.demo``: Pareto
premiums, the top 20% of customers paying 76% of the premium) this gives vip 5.3%,
gold 15.4%, standard 58.5%, basic 20.8% (3,000 customers).

Churn (0-100, clipped) → level by ``settings.churn_high_threshold`` /
``settings.churn_medium_threshold`` (40 / 20 by default). The rule weights are in
``CHURN_RULES``; counted reasons are capped so one kind of trouble cannot max out
the score alone. Any one serious sign is medium (an orphaned customer, a policy in
grace after a missed payment, an open complaint, a surrender enquiry); two together
are high (in grace and saying they cannot pay, two open complaints). On the demo
book that is medium 9.3%, high 2.1% — a list a retention desk can work through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from crm_backend.core.config import Settings, get_settings
from crm_backend.models.enums import RiskLevel, ValueTier

# ---- value ------------------------------------------------------------------

# (minimum annual premium in yuan, points)
PREMIUM_BANDS: tuple[tuple[int, int], ...] = (
    (50_000, 80),
    (20_000, 45),
    (10_000, 32),
    (5_000, 22),
    (2_000, 12),
    (1, 5),
)
TENURE_BANDS: tuple[tuple[int, int], ...] = ((10, 15), (5, 10), (2, 5))
POLICY_COUNT_BANDS: tuple[tuple[int, int], ...] = ((4, 12), (3, 9), (2, 5))
PRODUCT_MIX_POINTS = 6
HEAVY_CLAIMS_RATIO = 1.0
HEAVY_CLAIMS_POINTS = -15
HIGH_CLAIMS_RATIO = 0.5
HIGH_CLAIMS_POINTS = -8

TIER_THRESHOLDS: tuple[tuple[ValueTier, int], ...] = (
    (ValueTier.vip, 80),
    (ValueTier.gold, 50),
    (ValueTier.standard, 10),
)

# single-premium policies count as this many years of annual premium
SINGLE_PREMIUM_SPREAD_YEARS = 10

# ---- churn ------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnRule:
    """Points per occurrence and the cap of one churn reason."""

    points: int
    cap: int
    name: str


CHURN_RULES: dict[str, ChurnRule] = {
    "missed_payments": ChurnRule(12, 36, "近12个月欠缴或扣款失败"),
    "grace_policies": ChurnRule(15, 30, "保单处于宽限期"),
    "lapsed_policies": ChurnRule(10, 20, "近12个月保单失效"),
    "open_complaints": ChurnRule(15, 30, "有未结投诉"),
    "recent_complaints": ChurnRule(6, 18, "近180天投诉"),
    "negative_chats": ChurnRule(8, 24, "近90天负面对话"),
    "surrender_enquiries": ChurnRule(30, 45, "近90天咨询退保"),
    "payment_difficulty": ChurnRule(15, 30, "近90天表示缴费困难"),
    "agent_departed": ChurnRule(20, 20, "服务业务员已离职"),
    "no_agent": ChurnRule(10, 10, "无专属服务人员"),
    "new_customer": ChurnRule(5, 5, "投保不足1年"),
}

VALUE_REASON_NAMES: dict[str, str] = {
    "annual_premium": "年缴保费",
    "tenure": "客户年限",
    "policy_count": "有效保单数",
    "product_mix": "长期储蓄型产品",
    "claims_ratio": "理赔占保费比例高",
}


class Reason(TypedDict):
    """One explainable contribution to a score."""

    code: str
    label: str
    points: int


@dataclass(frozen=True)
class CustomerFacts:
    """Everything the rules need about one customer, as of ``as_of``."""

    customer_id: int
    as_of: date
    annual_premium_fen: int = 0
    first_policy_start: date | None = None
    in_force_policies: int = 0
    has_annuity: bool = False
    has_universal: bool = False
    has_whole_life: bool = False
    premium_paid_fen: int = 0
    claims_paid_fen: int = 0
    missed_payments_12m: int = 0
    grace_policies: int = 0
    lapsed_policies_12m: int = 0
    open_complaints: int = 0
    complaints_180d: int = 0
    negative_chats_90d: int = 0
    surrender_enquiries_90d: int = 0
    payment_difficulty_90d: int = 0
    agent_departed_signal_180d: bool = False
    has_current_agent: bool = False
    current_agent_departed: bool = False


@dataclass(frozen=True)
class ValueResult:
    """A value score, its tier and its reasons."""

    score: int
    tier: ValueTier
    reasons: list[Reason]


@dataclass(frozen=True)
class ChurnResult:
    """A churn score (0-100), its level and its reasons."""

    score: int
    level: RiskLevel
    reasons: list[Reason]


def yuan(fen: int) -> str:
    """``5_200_000`` fen → ``¥52,000`` (whole yuan, for labels)."""
    return f"¥{fen // 100:,}"


def _band(value: float, bands: tuple[tuple[int, int], ...]) -> tuple[int, int] | None:
    for minimum, points in bands:
        if value >= minimum:
            return minimum, points
    return None


def tenure_years(first_start: date | None, as_of: date) -> int:
    """Whole years since the first policy started (0 when none)."""
    if first_start is None or first_start > as_of:
        return 0
    years = as_of.year - first_start.year
    if (as_of.month, as_of.day) < (first_start.month, first_start.day):
        years -= 1
    return years


def tier_for(score: int, annual_premium_fen: int = 0) -> ValueTier:
    """The tier of a value score; ≥ ¥50,000 annual premium is VIP regardless."""
    if annual_premium_fen >= PREMIUM_BANDS[0][0] * 100:
        return ValueTier.vip
    for tier, minimum in TIER_THRESHOLDS:
        if score >= minimum:
            return tier
    return ValueTier.basic


def value(facts: CustomerFacts) -> ValueResult:
    """Value score, tier and reasons from premium, tenure, policies, mix and claims."""
    reasons: list[Reason] = []
    premium_yuan = facts.annual_premium_fen / 100
    band = _band(premium_yuan, PREMIUM_BANDS)
    if band:
        minimum, points = band
        label = f"年缴保费 {yuan(facts.annual_premium_fen)}"
        if minimum > 1:
            label += f"（≥¥{minimum:,}档）"
        reasons.append({"code": "annual_premium", "label": label, "points": points})
    years = tenure_years(facts.first_policy_start, facts.as_of)
    band = _band(years, TENURE_BANDS)
    if band:
        reasons.append(
            {"code": "tenure", "label": f"客户年限 {years} 年", "points": band[1]}
        )
    band = _band(facts.in_force_policies, POLICY_COUNT_BANDS)
    if band:
        reasons.append(
            {
                "code": "policy_count",
                "label": f"有效保单 {facts.in_force_policies} 张",
                "points": band[1],
            }
        )
    mix = [
        name
        for held, name in (
            (facts.has_annuity, "年金险"),
            (facts.has_universal, "万能险"),
            (facts.has_whole_life, "终身寿险"),
        )
        if held
    ]
    if mix:
        reasons.append(
            {
                "code": "product_mix",
                "label": f"持有{'、'.join(mix)}",
                "points": PRODUCT_MIX_POINTS * len(mix),
            }
        )
    claims_reason = _claims_reason(facts)
    if claims_reason:
        reasons.append(claims_reason)
    score = max(0, sum(r["points"] for r in reasons))
    return ValueResult(score, tier_for(score, facts.annual_premium_fen), reasons)


def _claims_reason(facts: CustomerFacts) -> Reason | None:
    if facts.claims_paid_fen <= 0:
        return None
    if facts.premium_paid_fen <= 0:
        ratio = float("inf")
    else:
        ratio = facts.claims_paid_fen / facts.premium_paid_fen
    if ratio >= HEAVY_CLAIMS_RATIO:
        points = HEAVY_CLAIMS_POINTS
    elif ratio >= HIGH_CLAIMS_RATIO:
        points = HIGH_CLAIMS_POINTS
    else:
        return None
    shown = "超过已缴保费" if ratio == float("inf") else f"为已缴保费的 {ratio:.0%}"
    label = f"已获理赔 {yuan(facts.claims_paid_fen)}，{shown}"
    return {"code": "claims_ratio", "label": label, "points": points}


def _counted(code: str, count: int, label: str) -> Reason | None:
    if count <= 0:
        return None
    rule = CHURN_RULES[code]
    return {"code": code, "label": label, "points": min(rule.points * count, rule.cap)}


def level_for(score: int, settings: Settings | None = None) -> RiskLevel:
    """The risk level of a churn score by the configured thresholds."""
    settings = settings or get_settings()
    if score >= settings.churn_high_threshold:
        return RiskLevel.high
    if score >= settings.churn_medium_threshold:
        return RiskLevel.medium
    return RiskLevel.low


def churn(facts: CustomerFacts, settings: Settings | None = None) -> ChurnResult:
    """Churn score (0-100), level and reasons from payments, complaints and signals."""
    f = facts
    candidates = [
        _counted(
            "missed_payments",
            f.missed_payments_12m,
            f"近12个月欠缴/扣款失败 {f.missed_payments_12m} 期",
        ),
        _counted(
            "grace_policies", f.grace_policies, f"宽限期保单 {f.grace_policies} 张"
        ),
        _counted(
            "lapsed_policies",
            f.lapsed_policies_12m,
            f"近12个月失效保单 {f.lapsed_policies_12m} 张",
        ),
        _counted(
            "open_complaints", f.open_complaints, f"未结投诉 {f.open_complaints} 件"
        ),
        _counted(
            "recent_complaints",
            f.complaints_180d,
            f"近180天投诉 {f.complaints_180d} 次",
        ),
        _counted(
            "negative_chats",
            f.negative_chats_90d,
            f"近90天负面对话 {f.negative_chats_90d} 次",
        ),
        _counted(
            "surrender_enquiries",
            f.surrender_enquiries_90d,
            f"近90天咨询退保 {f.surrender_enquiries_90d} 次",
        ),
        _counted(
            "payment_difficulty",
            f.payment_difficulty_90d,
            f"近90天表示缴费困难 {f.payment_difficulty_90d} 次",
        ),
    ]
    if f.current_agent_departed or f.agent_departed_signal_180d:
        candidates.append(
            _counted("agent_departed", 1, CHURN_RULES["agent_departed"].name)
        )
    elif not f.has_current_agent:
        candidates.append(_counted("no_agent", 1, CHURN_RULES["no_agent"].name))
    if f.first_policy_start is not None and (f.as_of - f.first_policy_start).days < 365:
        candidates.append(_counted("new_customer", 1, CHURN_RULES["new_customer"].name))
    reasons = [r for r in candidates if r is not None]
    score = max(0, min(100, sum(r["points"] for r in reasons)))
    return ChurnResult(score, level_for(score, settings), reasons)
