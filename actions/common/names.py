"""Slot, response, form and metadata names shared by actions (they must match domain/).

One place for every name that crosses modules, so capabilities written side by side
agree. A capability's private names may live in its own module.
"""

# --- slots: who is talking -------------------------------------------------------
CUSTOMER_ID = "customer_id"
VERIFIED = "verified"
# the CRM conversation id (from the gateway's metadata, or opened by the actions)
CONVERSATION_ID = "conversation_id"
# the action to run once identity verification succeeds (set by VerifiedCrmAction)
PENDING_ACTION = "pending_action"
# Rasa's own slot holding the metadata of the message that started the session.
SESSION_STARTED_METADATA = "session_started_metadata"

# --- slots: identity form (actions/identity.py) ----------------------------------
PHONE = "phone"
ID_LAST4 = "id_last4"
POLICY_NUMBER = "policy_number"
BIRTH_DATE = "birth_date"
OTP_CODE = "otp_code"
STEP_UP_TOKEN = "step_up_token"

# --- slots filled from entities everywhere ---------------------------------------
PRODUCT_TYPE = "product_type"
CLAIM_NUMBER = "claim_number"
TICKET_NUMBER = "ticket_number"
AMOUNT = "amount"
DATE = "date"

# --- slots: complaint form (actions/complaint.py) --------------------------------
COMPLAINT_CATEGORY = "complaint_category"
COMPLAINT_DESCRIPTION = "complaint_description"
COMPLAINT_POLICY = "complaint_policy"
COMPLAINT_OUTCOME = "complaint_outcome"

# --- slots: dialogue bookkeeping -------------------------------------------------
FALLBACK_COUNT = "fallback_count"

# --- forms -----------------------------------------------------------------------
IDENTITY_FORM = "identity_form"
STEP_UP_FORM = "step_up_form"
COMPLAINT_FORM = "complaint_form"

# --- responses -------------------------------------------------------------------
UTTER_CRM_UNAVAILABLE = "utter_crm_unavailable"
UTTER_OFFER_HUMAN = "utter_offer_human"
UTTER_DEFAULT = "utter_default"
UTTER_NEED_VERIFICATION = "utter_need_verification"

# --- actions ---------------------------------------------------------------------
ACTION_HANDOFF = "action_handoff"

# --- keys the gateway puts into a message's metadata -----------------------------
META_CUSTOMER_ID = "customer_id"
META_VERIFIED = "verified"
META_CONVERSATION_ID = "conversation_id"
META_CHANNEL = "channel"
