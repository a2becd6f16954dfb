"""The app starts, serves its OpenAPI page and refuses callers without a token."""

from tests.factories import make_customer, make_policy


def test_openapi_and_health(client):
    assert client.get("/health").json() == {"status": "ok", "service": "crm"}
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Swagger UI is served from this app, not from a CDN (no internet at run time)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "保险客服 CRM"


def test_factories_build_a_policy(session):
    policy = make_policy(session, holder=make_customer(session))
    assert policy.id and policy.policy_no.startswith("P")
