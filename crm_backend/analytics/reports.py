"""Read-only summaries over ``customer_scores``: the Pareto view and churn lists."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crm_backend.analytics import rules
from crm_backend.core.masking import mask_name
from crm_backend.models import Customer, CustomerScore
from crm_backend.models.enums import RiskLevel, ValueTier

TOP_SHARE = 0.2


def value_segments(session: Session) -> dict[str, Any]:
    """The Pareto view: customers and annual premium per tier, top 20% share."""
    rows = session.execute(
        select(
            CustomerScore.value_tier,
            func.count(),
            func.coalesce(func.sum(CustomerScore.annual_premium_fen), 0),
        ).group_by(CustomerScore.value_tier)
    ).all()
    by_tier = {tier: (int(n), int(total)) for tier, n, total in rows}
    customers = sum(n for n, _ in by_tier.values())
    premium = sum(total for _, total in by_tier.values())
    top_n = math.ceil(customers * TOP_SHARE)
    top = (
        select(CustomerScore.annual_premium_fen)
        .order_by(CustomerScore.annual_premium_fen.desc())
        .limit(top_n)
        .subquery()
    )
    top_premium = int(
        session.scalar(select(func.coalesce(func.sum(top.c.annual_premium_fen), 0)))
        or 0
    )
    segments = []
    for tier in ValueTier:
        n, total = by_tier.get(tier, (0, 0))
        segments.append(
            {
                "tier": tier,
                "customers": n,
                "customer_share": _share(n, customers),
                "annual_premium_fen": total,
                "annual_premium_display": rules.yuan(total),
                "premium_share": _share(total, premium),
            }
        )
    return {
        "scored_customers": customers,
        "total_annual_premium_fen": premium,
        "total_annual_premium_display": rules.yuan(premium),
        "segments": segments,
        "top20_customers": top_n,
        "top20_premium_share": _share(top_premium, premium),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


_REASON_COUNTS_SQL = {
    "postgresql": (
        "SELECT e->>'code' AS code, count(*) AS n FROM customer_scores s "
        "CROSS JOIN LATERAL json_array_elements(s.churn_reasons) AS e"
    ),
    "sqlite": (
        "SELECT json_extract(e.value, '$.code') AS code, count(*) AS n "
        "FROM customer_scores s, json_each(s.churn_reasons) AS e"
    ),
}


def churn_summary(
    session: Session, *, level: RiskLevel | None = None, top: int = 10
) -> dict[str, Any]:
    """Customers per risk level and the most frequent churn reasons."""
    counts = {
        risk: int(n)
        for risk, n in session.execute(
            select(CustomerScore.churn_risk, func.count()).group_by(
                CustomerScore.churn_risk
            )
        )
    }
    customers = sum(counts.values())
    levels = [
        {"level": risk, "customers": counts.get(risk, 0)}
        | {"share": _share(counts.get(risk, 0), customers)}
        for risk in (RiskLevel.high, RiskLevel.medium, RiskLevel.low)
    ]
    # reasons live in a JSON list per customer; unnest it in the database
    sql = _REASON_COUNTS_SQL[session.get_bind().dialect.name]
    params: dict[str, Any] = {"top": top}
    if level is not None:
        sql += " WHERE s.churn_risk = :level"
        params["level"] = level.value
    sql += " GROUP BY code ORDER BY n DESC, code LIMIT :top"
    top_reasons = [
        {
            "code": code,
            "label": rules.CHURN_RULES[code].name
            if code in rules.CHURN_RULES
            else code,
            "customers": int(n),
        }
        for code, n in session.execute(text(sql), params)
    ]
    return {"scored_customers": customers, "levels": levels, "top_reasons": top_reasons}


def churn_customers(
    session: Session,
    *,
    level: RiskLevel | None = RiskLevel.high,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Customers at ``level`` (all when None), highest churn score first, masked."""
    where = [] if level is None else [CustomerScore.churn_risk == level]
    total = int(
        session.scalar(select(func.count()).select_from(CustomerScore).where(*where))
        or 0
    )
    rows = session.execute(
        select(CustomerScore, Customer.customer_no, Customer.name)
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(*where)
        .order_by(CustomerScore.churn_score.desc(), CustomerScore.customer_id)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        {
            "customer_id": score.customer_id,
            "customer_no": customer_no,
            "masked_name": mask_name(name) or "",
            "value_tier": score.value_tier,
            "annual_premium_fen": score.annual_premium_fen,
            "churn_score": score.churn_score,
            "churn_risk": score.churn_risk,
            "churn_reasons": score.churn_reasons,
        }
        for score, customer_no, name in rows
    ]
    return items, total
