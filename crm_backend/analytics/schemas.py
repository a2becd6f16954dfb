"""Scores, segment and churn summaries as the agent API returns them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.models.enums import RiskLevel, ValueTier


class ScoreReason(BaseModel):
    """One explainable contribution: machine code, Chinese label, points."""

    code: str
    label: str
    points: int


class CustomerScoreRead(BaseModel):
    """A customer's value tier and churn risk with both reasons lists."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    value_score: int
    value_tier: ValueTier
    annual_premium_fen: int
    annual_premium_display: str
    value_reasons: list[ScoreReason]
    churn_score: int
    churn_risk: RiskLevel
    churn_reasons: list[ScoreReason]
    computed_at: datetime


class ValueSegment(BaseModel):
    """One tier of the Pareto view."""

    tier: ValueTier
    customers: int
    customer_share: float = Field(description="share of scored customers, 0-1")
    annual_premium_fen: int
    annual_premium_display: str
    premium_share: float = Field(description="share of the book's annual premium, 0-1")


class ValueSegmentsRead(BaseModel):
    """Customers and premium per tier, plus the top 20% customers' premium share."""

    scored_customers: int
    total_annual_premium_fen: int
    total_annual_premium_display: str
    segments: list[ValueSegment]
    top20_customers: int
    top20_premium_share: float = Field(
        description="share of annual premium held by the top 20% of customers"
    )


class ChurnLevelCount(BaseModel):
    """How many customers sit at one risk level."""

    level: RiskLevel
    customers: int
    share: float


class ChurnReasonCount(BaseModel):
    """How many customers carry one churn reason."""

    code: str
    label: str
    customers: int


class ChurnSummaryRead(BaseModel):
    """Counts per risk level and the most frequent reasons."""

    scored_customers: int
    levels: list[ChurnLevelCount]
    top_reasons: list[ChurnReasonCount]


class ChurnCustomerRead(BaseModel):
    """A customer on the churn list; the name is masked."""

    customer_id: int
    customer_no: str
    masked_name: str
    value_tier: ValueTier
    annual_premium_fen: int
    churn_score: int
    churn_risk: RiskLevel
    churn_reasons: list[ScoreReason]


class ChurnCustomerList(BaseModel):
    """A page of the churn list, highest score first."""

    items: list[ChurnCustomerRead]
    total: int


class RecomputeResult(BaseModel):
    """How many customers were rescored."""

    recomputed: int
    computed_at: datetime
