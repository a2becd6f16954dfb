"""The channel gateway (web chat, WeChat): terminates channels and relays turns to Rasa.

Built by the gateway issue; the package exists so that tooling (mypy, ruff) covers it.
"""
