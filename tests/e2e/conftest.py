"""End-to-end fixtures: a live CRM, a real Rasa server and its action server."""

from tests.rasa_fixtures import live_crm, rasa_model, rasa_server

__all__ = ["live_crm", "rasa_model", "rasa_server"]
