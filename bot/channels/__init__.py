"""Channels the gateway terminates: web chat (socket.io) and Rasa's REST shape."""
