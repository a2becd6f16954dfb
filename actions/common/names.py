"""Slot, response and metadata names shared by actions (they must match domain/)."""

# Slots
CUSTOMER_ID = "customer_id"
VERIFIED = "verified"
# Rasa's own slot holding the metadata of the message that started the session.
SESSION_STARTED_METADATA = "session_started_metadata"

# Responses
UTTER_CRM_UNAVAILABLE = "utter_crm_unavailable"
UTTER_OFFER_HUMAN = "utter_offer_human"
UTTER_DEFAULT = "utter_default"

# Keys the gateway puts into a message's metadata.
META_CUSTOMER_ID = "customer_id"
META_VERIFIED = "verified"
