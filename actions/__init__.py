"""Custom actions for the Rasa action server (rasa-sdk, Python 3.10).

rasa-sdk imports every module in this package and instantiates every concrete
``Action`` subclass with no arguments, so modules do no I/O at import time and
shared bases are abstract.
"""
