"""End-to-end fixtures: a real Rasa server and its action server (rasa_fixtures)."""

from tests.rasa_fixtures import rasa_model, rasa_server

__all__ = ["rasa_model", "rasa_server"]
