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
UTTER_NEED_VERIFICATION = "utter_need_verification"

# --- actions ---------------------------------------------------------------------
ACTION_HANDOFF = "action_handoff"

# --- keys the gateway puts into a message's metadata -----------------------------
META_CUSTOMER_ID = "customer_id"
META_VERIFIED = "verified"
META_CONVERSATION_ID = "conversation_id"
META_CHANNEL = "channel"

# --- enquiries (actions/enquiry.py, actions/enquiry_claims.py) -------------------
ACTION_SHOW_POLICIES = "action_show_policies"
ACTION_SHOW_COVERAGE = "action_show_coverage"
ACTION_SHOW_CLAIMS = "action_show_claims"
ACTION_REPORT_CLAIM = "action_report_claim"
ACTION_SUBMIT_CLAIM = "action_submit_claim"
ACTION_SHOW_PREMIUMS = "action_show_premiums"
ACTION_SHOW_MY_AGENT = "action_show_my_agent"
REPORT_CLAIM_FORM = "report_claim_form"
CLAIM_POLICY = "claim_policy"
CLAIM_INCIDENT_DATE = "claim_incident_date"
CLAIM_DESCRIPTION = "claim_description"
ENQUIRY_INTENTS = (
    "ask_policy",
    "ask_coverage",
    "ask_claim_status",
    "report_claim",
    "ask_premium",
    "ask_my_agent",
)

# --- identity and handoff (actions/identity.py, actions/handoff.py) --------------
VALIDATE_IDENTITY_FORM = "validate_identity_form"
VALIDATE_STEP_UP_FORM = "validate_step_up_form"
ACTION_IDENTITY_VERIFIED = "action_identity_verified"
ACTION_START_UPDATE_CONTACT = "action_start_update_contact"
ACTION_UPDATE_CONTACT = "action_update_contact"
ACTION_DEFAULT_FALLBACK = "action_default_fallback"
ACTION_FALLBACK_DECLINED = "action_fallback_declined"
# step_up_form: which contact field to change and its new value
CONTACT_FIELD = "contact_field"
CONTACT_VALUE = "contact_value"
# step_up_form: what the one-time code authorises (the CRM's step-up purposes)
STEP_UP_PURPOSE = "step_up_purpose"
PURPOSE_UPDATE_CONTACT = "update_contact"
PURPOSE_CHANGE_BANK = "change_bank"
ACTION_STEP_UP_CANCEL = "action_step_up_cancel"
# step_up_form with purpose change_bank: which policy, the new bank and card number
DEBIT_POLICY = "debit_policy"
DEBIT_BANK = "debit_bank"
DEBIT_ACCOUNT = "debit_account"
ACTION_CHANGE_DEBIT_CARD = "action_change_debit_card"
REQUESTED_SLOT = "requested_slot"
UTTER_ASK_HOW_TO_HELP = "utter_ask_how_to_help"
UTTER_REPHRASE = "utter_rephrase"
UTTER_OFFER_HUMAN_BUTTONS = "utter_offer_human_buttons"

# --- payments and complaints (actions/payment.py, actions/complaint.py) ----------
ACTION_PAYMENT_METHOD = "action_payment_method"
ACTION_PAYMENT_FAILED = "action_payment_failed"
ACTION_PAYMENT_DIFFICULTY = "action_payment_difficulty"
ACTION_CANCEL_POLICY = "action_cancel_policy"
ACTION_COMPLAINT_START = "action_complaint_start"
ACTION_SUBMIT_COMPLAINT = "action_submit_complaint"
ACTION_COMPLAINT_STATUS = "action_complaint_status"
ACTION_COMPLAINT_CANCEL = "action_complaint_cancel"
# {"key": fingerprint, "ticket_no": …} of the last complaint submitted
COMPLAINT_SUBMITTED = "complaint_submitted"

# --- hand-back from a person and satisfaction (actions/csat.py) ------------------
ACTION_HANDBACK = "action_handback"
ACTION_SUBMIT_CSAT = "action_submit_csat"
CSAT_FORM = "csat_form"
CSAT_SCORE = "csat_score"
# the escalation the score is for (the gateway's EXTERNAL_handback entity)
CSAT_ESCALATION_ID = "csat_escalation_id"
ESCALATION_ID_ENTITY = "escalation_id"
