"""Conversation-test fixtures: the session's fast-trained model (rasa_fixtures)."""

from tests.rasa_fixtures import rasa_model

__all__ = ["rasa_model"]
