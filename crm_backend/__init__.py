"""The CRM backend: system of record, escalation routing and the agent console."""
