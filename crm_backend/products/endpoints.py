"""Product catalogue for the bot (coverage questions)."""

from __future__ import annotations

from fastapi import APIRouter

from crm_backend.core.deps import SessionDep
from crm_backend.products import service
from crm_backend.products.schemas import ProductList, ProductRead

service_router = APIRouter(tags=["products"])


@service_router.get("/products", response_model=ProductList)
def list_products(session: SessionDep, type: str | None = None) -> ProductList:
    """Products, optionally of one type (``medical`` or ``医疗险``)."""
    kind = service.parse_type(type) if type else None
    items = [service.to_read(p) for p in service.list_products(session, type=kind)]
    return ProductList(items=items, total=len(items))


@service_router.get("/products/{code}", response_model=ProductRead)
def get_product(session: SessionDep, code: str) -> ProductRead:
    """One product by its code: coverage, exclusions, periods, policy loan."""
    return service.to_read(service.get_by_code(session, code=code))
