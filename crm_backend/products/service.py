"""Product catalogue queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.errors import NotFound, Unprocessable
from crm_backend.models import Product
from crm_backend.models.enums import PRODUCT_TYPE_LABELS, ProductType
from crm_backend.policies.labels import product_type_label
from crm_backend.products.schemas import ProductRead


def parse_type(value: str) -> ProductType:
    """A product type from its code (``medical``) or Chinese name (``医疗险``)."""
    value = value.strip()
    if value in ProductType.__members__:
        return ProductType(value)
    for member, label in PRODUCT_TYPE_LABELS.items():
        # the bot's entity may be the short form (重疾) of the label (重疾险)
        if value in (label, label.removesuffix("险")):
            return member
    raise Unprocessable("Unknown product type", code="unknown_product_type")


def list_products(
    session: Session, *, type: ProductType | None = None
) -> Sequence[Product]:
    """Every product, optionally of one type, ordered by type and name."""
    query = select(Product).order_by(Product.type, Product.name, Product.code)
    if type is not None:
        query = query.where(Product.type == type)
    return session.scalars(query).all()


def get_by_code(session: Session, *, code: str) -> Product:
    """The product with this code, or ``NotFound``."""
    product = session.scalar(select(Product).where(Product.code == code))
    if product is None:
        raise NotFound("Product not found", code="product_not_found")
    return product


def to_read(product: Product) -> ProductRead:
    """The API view of a product, with its type's Chinese label."""
    return ProductRead(
        code=product.code,
        name=product.name,
        type=product.type,
        type_label=product_type_label(product.type),
        coverage=product.coverage,
        exclusions=product.exclusions,
        waiting_period_days=product.waiting_period_days,
        hesitation_period_days=product.hesitation_period_days,
        grace_period_days=product.grace_period_days,
        term_years=product.term_years,
        allows_policy_loan=product.allows_policy_loan,
        policy_loan_ratio_pct=product.policy_loan_ratio_pct,
    )
