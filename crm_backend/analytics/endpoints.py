"""Agent API for value segments, churn risk and per-customer scores.

Aggregates carry no personal data: any logged-in agent may read them. Customer lists
(even with masked names) and the book-wide recompute are for supervisors only.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Response

from crm_backend.agents.access import ensure_can_access_customer, is_supervisor
from crm_backend.analytics import reports, rules, service
from crm_backend.analytics.schemas import (
    ChurnCustomerList,
    ChurnCustomerRead,
    ChurnSummaryRead,
    CustomerScoreRead,
    RecomputeResult,
    ValueSegmentsRead,
)
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.core.errors import Forbidden
from crm_backend.models import Agent, CustomerScore
from crm_backend.models.base import utcnow
from crm_backend.models.enums import RiskLevel

agent_router = APIRouter(prefix="/analytics", tags=["analytics"])

CSV_MAX_ROWS = 100_000


def _require_supervisor(agent: Agent) -> None:
    if not is_supervisor(agent):
        raise Forbidden("Only supervisors may list customers or recompute scores")


def _score_read(score: CustomerScore) -> CustomerScoreRead:
    return CustomerScoreRead.model_validate(
        {
            "customer_id": score.customer_id,
            "value_score": score.value_score,
            "value_tier": score.value_tier,
            "annual_premium_fen": score.annual_premium_fen,
            "annual_premium_display": rules.yuan(score.annual_premium_fen),
            "value_reasons": score.value_reasons,
            "churn_score": score.churn_score,
            "churn_risk": score.churn_risk,
            "churn_reasons": score.churn_reasons,
            "computed_at": score.computed_at,
        }
    )


@agent_router.get("/value-segments", response_model=ValueSegmentsRead)
def value_segments(session: SessionDep, agent: CurrentAgent) -> ValueSegmentsRead:
    """Customers and annual premium per value tier (the 20/80 view)."""
    return ValueSegmentsRead.model_validate(reports.value_segments(session))


@agent_router.get("/churn", response_model=ChurnSummaryRead)
def churn_summary(
    session: SessionDep,
    agent: CurrentAgent,
    level: RiskLevel | None = None,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
) -> ChurnSummaryRead:
    """Customers per churn-risk level and the most frequent reasons."""
    return ChurnSummaryRead.model_validate(
        reports.churn_summary(session, level=level, top=top)
    )


@agent_router.get("/churn/customers", response_model=ChurnCustomerList)
def churn_customers(
    session: SessionDep,
    agent: CurrentAgent,
    level: RiskLevel | None = RiskLevel.high,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChurnCustomerList:
    """Customers at a risk level, highest score first (supervisors only)."""
    _require_supervisor(agent)
    items, total = reports.churn_customers(
        session, level=level, limit=limit, offset=offset
    )
    return ChurnCustomerList(
        items=[ChurnCustomerRead.model_validate(item) for item in items], total=total
    )


@agent_router.get("/churn/customers.csv")
def churn_customers_csv(
    session: SessionDep,
    agent: CurrentAgent,
    level: RiskLevel | None = RiskLevel.high,
    limit: Annotated[int, Query(ge=1, le=CSV_MAX_ROWS)] = 10_000,
) -> Response:
    """The churn list as CSV with masked names (supervisors only)."""
    _require_supervisor(agent)
    items, _ = reports.churn_customers(session, level=level, limit=limit)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["customer_id", "customer_no", "name", "value_tier", "annual_premium_yuan"]
        + ["churn_score", "churn_risk", "reasons"]
    )
    for item in items:
        writer.writerow(
            [
                item["customer_id"],
                item["customer_no"],
                item["masked_name"],
                item["value_tier"].value,
                item["annual_premium_fen"] // 100,
                item["churn_score"],
                item["churn_risk"].value,
                "；".join(r["label"] for r in item["churn_reasons"]),
            ]
        )
    suffix = level.value if level else "all"
    return Response(
        # the BOM lets Excel open the Chinese text as UTF-8
        content="\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="churn_{suffix}.csv"'},
    )


@agent_router.get("/customers/{customer_id}/score", response_model=CustomerScoreRead)
def customer_score(
    customer_id: int, session: SessionDep, settings: SettingsDep, agent: CurrentAgent
) -> CustomerScoreRead:
    """One customer's tier and churn risk with their reasons."""
    ensure_can_access_customer(session, agent, customer_id)
    score = service.get_or_compute(session, customer_id=customer_id, settings=settings)
    return _score_read(score)


@agent_router.post("/recompute", response_model=RecomputeResult)
def recompute(
    session: SessionDep, settings: SettingsDep, agent: CurrentAgent
) -> RecomputeResult:
    """Rescore every customer (supervisors only)."""
    _require_supervisor(agent)
    now = utcnow()
    count = service.recompute_all(session, now=now, settings=settings)
    return RecomputeResult(recomputed=count, computed_at=now)
