"""Every status and category vocabulary of the CRM, as string enums."""

from __future__ import annotations

from enum import StrEnum


class Gender(StrEnum):
    male = "male"
    female = "female"


class ProductType(StrEnum):
    critical_illness = "critical_illness"  # 重疾险
    life = "life"  # 寿险
    medical = "medical"  # 医疗险
    accident = "accident"  # 意外险
    annuity = "annuity"  # 年金险
    universal = "universal"  # 万能险


PRODUCT_TYPE_LABELS = {
    ProductType.critical_illness: "重疾险",
    ProductType.life: "寿险",
    ProductType.medical: "医疗险",
    ProductType.accident: "意外险",
    ProductType.annuity: "年金险",
    ProductType.universal: "万能险",
}


class PolicyStatus(StrEnum):
    in_force = "in_force"
    grace = "grace"
    lapsed = "lapsed"
    surrendered = "surrendered"
    matured = "matured"


class PaymentFrequency(StrEnum):
    annual = "annual"
    semiannual = "semiannual"
    quarterly = "quarterly"
    monthly = "monthly"
    single = "single"


PAYMENTS_PER_YEAR = {
    PaymentFrequency.annual: 1,
    PaymentFrequency.semiannual: 2,
    PaymentFrequency.quarterly: 4,
    PaymentFrequency.monthly: 12,
    PaymentFrequency.single: 0,
}


class SalesChannel(StrEnum):
    agent = "agent"
    bancassurance = "bancassurance"
    online = "online"
    telemarketing = "telemarketing"
    broker = "broker"


class BillStatus(StrEnum):
    due = "due"
    paid = "paid"
    overdue = "overdue"
    failed = "failed"


class PaymentMethod(StrEnum):
    bank_debit = "bank_debit"
    wechat_pay = "wechat_pay"
    alipay = "alipay"
    bank_transfer = "bank_transfer"
    counter = "counter"


class PaymentResult(StrEnum):
    success = "success"
    failed = "failed"


class ClaimType(StrEnum):
    medical = "medical"
    critical_illness = "critical_illness"
    accident = "accident"
    death = "death"
    disability = "disability"
    hospital_allowance = "hospital_allowance"


class ClaimStatus(StrEnum):
    reported = "reported"
    documents_pending = "documents_pending"
    under_review = "under_review"
    approved = "approved"
    paid = "paid"
    rejected = "rejected"
    withdrawn = "withdrawn"


OPEN_CLAIM_STATUSES = (
    ClaimStatus.reported,
    ClaimStatus.documents_pending,
    ClaimStatus.under_review,
    ClaimStatus.approved,
)


class TicketCategory(StrEnum):
    service_attitude = "service_attitude"  # 服务态度
    claim_dispute = "claim_dispute"  # 理赔争议
    sales_misconduct = "sales_misconduct"  # 销售误导
    billing = "billing"  # 扣费/缴费
    policy_service = "policy_service"  # 保全服务
    product = "product"  # 产品问题
    other = "other"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class TicketStatus(StrEnum):
    received = "received"
    acknowledged = "acknowledged"
    investigating = "investigating"
    resolved = "resolved"
    closed = "closed"


OPEN_TICKET_STATUSES = (
    TicketStatus.received,
    TicketStatus.acknowledged,
    TicketStatus.investigating,
)


class TicketRemedy(StrEnum):
    """What the customer gets when a complaint is resolved."""

    refund = "refund"
    correction = "correction"
    apology = "apology"
    rejected = "rejected"


class AgentRole(StrEnum):
    service_agent = "service_agent"
    sales_agent = "sales_agent"
    account_manager = "account_manager"
    retention = "retention"
    supervisor = "supervisor"


class Presence(StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


class AgentStatus(StrEnum):
    active = "active"
    departed = "departed"


class Channel(StrEnum):
    web = "web"
    wechat = "wechat"
    rest = "rest"


class ConversationStatus(StrEnum):
    bot = "bot"
    queued = "queued"
    agent = "agent"
    closed = "closed"


class VerificationLevel(StrEnum):
    none = "none"
    verified = "verified"
    step_up = "step_up"


class Sender(StrEnum):
    customer = "customer"
    bot = "bot"
    agent = "agent"
    system = "system"


class EscalationTrigger(StrEnum):
    customer_request = "customer_request"
    negative_sentiment = "negative_sentiment"
    angry_complaint = "angry_complaint"
    nlu_failure = "nlu_failure"
    high_value = "high_value"
    churn_risk = "churn_risk"
    verification_failed = "verification_failed"
    payment_difficulty = "payment_difficulty"
    surrender = "surrender"
    service_error = "service_error"


class EscalationStatus(StrEnum):
    queued = "queued"  # waiting; may carry an offer to one agent
    active = "active"  # an agent accepted and holds the conversation
    closed = "closed"  # resolved with an outcome, or the conversation closed


class EscalationOutcome(StrEnum):
    resolved = "resolved"  # 问题已解决
    follow_up = "follow_up"  # 需后续跟进
    unresolved = "unresolved"  # 未能解决
    callback_done = "callback_done"  # 已回电
    no_response = "no_response"  # 客户无应答


class ValueTier(StrEnum):
    vip = "vip"
    gold = "gold"
    standard = "standard"
    basic = "basic"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class SignalKind(StrEnum):
    payment_difficulty = "payment_difficulty"
    surrender_enquiry = "surrender_enquiry"
    negative_chat = "negative_chat"
    complaint = "complaint"
    agent_departed = "agent_departed"


class VerificationMethod(StrEnum):
    phone_id = "phone_id"  # phone + last 4 of the ID number
    policy_birth = "policy_birth"  # policy number + date of birth
    wechat = "wechat"  # a bound openid
    step_up = "step_up"  # one-time code
    agent_password = "agent_password"  # an agent's console login (brute-force limit)
