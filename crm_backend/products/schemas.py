"""Product views: what a product covers and its periods."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from crm_backend.models.enums import ProductType


class ProductRead(BaseModel):
    """A product with its coverage, exclusions, periods and policy-loan terms."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    type: ProductType
    type_label: str
    coverage: str
    exclusions: str | None
    waiting_period_days: int
    hesitation_period_days: int
    grace_period_days: int
    term_years: int | None
    allows_policy_loan: bool
    policy_loan_ratio_pct: int


class ProductList(BaseModel):
    """Products, ordered by type then name."""

    items: list[ProductRead]
    total: int
