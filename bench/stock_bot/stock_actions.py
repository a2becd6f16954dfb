"""The stock bot's only custom action: a short text chosen by the turn's intent.

Served by ``rasa run actions --actions stock_actions`` from .venv-rasa with this
folder's copy (var/bench-throughput/stock/) on PYTHONPATH; see bench/throughput.py.
"""

from rasa_sdk import Action

ANSWERS = {
    "greet": "Hi! How can I help you?",
    "ask_hours": "We are open 9:00 to 17:00, Monday to Friday.",
    "ask_price": "Plans start at 10 euros a month.",
    "goodbye": "Goodbye, have a nice day!",
}


class ActionAnswer(Action):
    """Answer the latest message's intent with one short text."""

    def name(self):
        """The name the domain and rules use."""
        return "action_answer"

    def run(self, dispatcher, tracker, domain):
        """One text, no events."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(text=ANSWERS.get(intent, "Sorry, could you rephrase?"))
        return []
