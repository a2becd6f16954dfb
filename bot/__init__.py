"""The channel gateway: terminates the customer's channels and relays turns.

``bot.main:app`` serves the web chat (socket.io, page, widget), Rasa's REST shape
and the CRM's events; ``bot.relay`` routes each message by the conversation's
status (docs/takeover.md).
"""
