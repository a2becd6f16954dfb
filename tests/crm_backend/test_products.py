"""Product catalogue: service queries and the bot's endpoints."""

from __future__ import annotations

import pytest

from crm_backend.core.errors import NotFound, Unprocessable
from crm_backend.models.enums import ProductType
from crm_backend.products import service
from tests.factories import make_product

BASE = "/api/v1/service/products"


def test_list_products_filters_by_type(session):
    ci = make_product(session, type=ProductType.critical_illness, name="安心重疾保")
    med = make_product(session, type=ProductType.medical, name="百万医疗")
    codes = {p.code for p in service.list_products(session)}
    assert {ci.code, med.code} <= codes
    medical = service.list_products(session, type=ProductType.medical)
    assert med.code in {p.code for p in medical}
    assert all(p.type == ProductType.medical for p in medical)


def test_get_by_code(session):
    product = make_product(session)
    assert service.get_by_code(session, code=product.code).id == product.id
    with pytest.raises(NotFound):
        service.get_by_code(session, code="NOPE")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("medical", ProductType.medical),
        ("医疗险", ProductType.medical),
        ("重疾", ProductType.critical_illness),
        (" 年金险 ", ProductType.annuity),
    ],
)
def test_parse_type(text, expected):
    assert service.parse_type(text) == expected


def test_parse_type_refuses_unknown():
    with pytest.raises(Unprocessable):
        service.parse_type("车险")


def test_to_read_has_the_chinese_label(session):
    read = service.to_read(make_product(session, type=ProductType.accident))
    assert read.type_label == "意外险"
    assert read.grace_period_days == 60


def test_product_endpoints(client, session, service_headers):
    med = make_product(session, type=ProductType.medical, name="百万医疗")
    life = make_product(
        session, type=ProductType.life, name="定期寿险", allows_policy_loan=False
    )

    body = client.get(BASE, params={"type": "医疗险"}, headers=service_headers).json()
    assert med.code in [p["code"] for p in body["items"]]
    assert life.code not in [p["code"] for p in body["items"]]
    assert body["total"] == len(body["items"])

    all_codes = [
        p["code"] for p in client.get(BASE, headers=service_headers).json()["items"]
    ]
    assert {med.code, life.code} <= set(all_codes)

    detail = client.get(f"{BASE}/{life.code}", headers=service_headers)
    assert detail.status_code == 200
    data = detail.json()
    assert data["name"] == "定期寿险"
    assert data["type"] == "life" and data["type_label"] == "寿险"
    assert data["allows_policy_loan"] is False
    assert data["coverage"] and data["exclusions"]
    assert data["waiting_period_days"] == 90
    assert data["hesitation_period_days"] == 15


def test_product_endpoint_errors(client, service_headers):
    missing = client.get(f"{BASE}/NOPE", headers=service_headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "product_not_found"
    bad = client.get(BASE, params={"type": "车险"}, headers=service_headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "unknown_product_type"
    assert client.get(BASE).status_code == 401
