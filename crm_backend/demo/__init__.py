"""The reproducible demo book of business: ``python -m crm_backend.demo --help``.

``generate.generate`` loads it into a session; ``catalog.DEMO_CUSTOMERS`` documents
the customers that show each capability.
"""
